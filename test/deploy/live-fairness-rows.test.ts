/**
 * liveFairness on logged records: each task takes the card's definitions (src/monitor/fairness.ts)
 * with the group read from the logged input, row by row across multi-row requests; string classes
 * use the version's positive class, hashed inputs still separate the groups, and an input of
 * another shape gives no rows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LabelledRequest, liveFairness } from '../../src/deploy/live-fairness.ts';
import { binaryFairness, multiclassFairness, regressionFairness } from '../../src/monitor/fairness.ts';
import type { LoggedValue } from '../../src/store/inference-log-store.ts';

function request(args: {
  groups: LoggedValue[];
  predicted: (string | number)[];
  labels: (string | number)[];
  task?: 'classification' | 'regression';
  labelKind?: 'string' | 'integer' | 'number';
}): LabelledRequest {
  return {
    inputs: { g: { datatype: 'BYTES', shape: [args.groups.length, 1], data: args.groups } },
    predictions: {
      task: args.task ?? 'classification',
      predicted: args.predicted,
      labelKind: args.labelKind ?? 'string',
    },
    labels: args.labels,
  };
}

test('binary with string classes: the second class is positive, across multi-row requests', () => {
  const requests = [
    request({ groups: ['x', 'y', 'x'], predicted: ['yes', 'no', 'yes'], labels: ['yes', 'yes', 'no'] }),
    request({ groups: ['y'], predicted: ['yes'], labels: ['no'] }),
  ];
  const [report] = liveFairness({ requests, settings: { columns: ['g'], classes: ['no', 'yes'] } });
  assert.deepEqual(
    report,
    binaryFairness({ column: 'g', groups: ['x', 'y', 'x', 'y'], labels: [1, 1, 0, 0], predictions: [1, 0, 1, 1] }),
  );
});

test('multiclass and regression take their own definitions; a column of another shape is skipped', () => {
  const multi = [request({ groups: ['x', 'y', 'y'], predicted: ['a', 'b', 'c'], labels: ['a', 'c', 'c'] })];
  assert.deepEqual(liveFairness({ requests: multi, settings: { columns: ['g'], classes: ['a', 'b', 'c'] } }), [
    multiclassFairness({ column: 'g', groups: ['x', 'y', 'y'], labels: [0, 2, 2], predictions: [0, 1, 2] }),
  ]);
  const regression = [
    request({ groups: ['x', 'y'], predicted: [1.5, 2], labels: [1, 3], task: 'regression', labelKind: 'number' }),
  ];
  assert.deepEqual(liveFairness({ requests: regression, settings: { columns: ['g'] } }), [
    regressionFairness({ column: 'g', groups: ['x', 'y'], targets: [1, 3], predictions: [1.5, 2] }),
  ]);
  const wide: LabelledRequest = {
    ...(regression[0] as LabelledRequest),
    inputs: { g: { datatype: 'BYTES', shape: [2, 2], data: ['x', 'x', 'y', 'y'] } },
  };
  assert.deepEqual(liveFairness({ requests: [wide], settings: { columns: ['g', 'absent'] } }), []);
});

test('hashed groups are groups under their hashes; integer classes without names take 1 as positive', () => {
  const requests = [
    request({
      groups: ['9f86d081884c7d65', '60303ae22b998861'],
      predicted: [1, 0],
      labels: [1, 1],
      labelKind: 'integer',
    }),
  ];
  const [report] = liveFairness({ requests, settings: { columns: ['g'] } });
  assert.equal(report?.task, 'binary');
  assert.deepEqual(
    report?.groups.map((g) => [g.group, g.selectionRate]),
    [
      ['60303ae22b998861', 0],
      ['9f86d081884c7d65', 1],
    ],
  );
  assert.equal(report?.demographicParityDifference, 1);
});
