/**
 * The progress line of long waits (`deploy rollout --wait`, `deploy create --wait`, `train`): on a
 * terminal one line rewritten in place; in a log one line per change of what it reports, never a
 * carriage return. (registry-cli.test.ts follows a real canary through a pipe.)
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createProgressLine } from '../../src/cli/commands/progress-line.ts';

function sink(isTTY: boolean): { stream: PassThrough; text: () => string } {
  const stream = Object.assign(new PassThrough(), isTTY ? { isTTY: true } : {});
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

/** Polls of a canary: the counters move on every poll, the stage only twice. */
const POLLS: readonly [string, string][] = [
  ['step 1/2 (50%), running · canary 0 req', 'step 0'],
  ['step 1/2 (50%), running · canary 4 req', 'step 0'],
  ['step 1/2 (50%), running · canary 9 req', 'step 0'],
  ['step 2/2 (100%), running · canary 1 req', 'step 1'],
  ['step 2/2 (100%), running · canary 6 req', 'step 1'],
  ['step 2/2 (100%), promoted', 'promoted'],
];

test('off a terminal: one line per change of key, no carriage returns', () => {
  const log = sink(false);
  const progress = createProgressLine(log.stream);
  for (const [line, key] of POLLS) progress.update(line, key);
  progress.done();
  assert.equal(
    log.text(),
    'step 1/2 (50%), running · canary 0 req\nstep 2/2 (100%), running · canary 1 req\nstep 2/2 (100%), promoted\n',
  );
});

test('off a terminal without keys: each distinct line once', () => {
  const log = sink(false);
  const progress = createProgressLine(log.stream);
  for (const line of ['waiting (serving nothing yet)', 'waiting (serving nothing yet)', 'waiting (serving 1)']) {
    progress.update(line);
  }
  assert.equal(log.text(), 'waiting (serving nothing yet)\nwaiting (serving 1)\n');
});

test('on a terminal: every new text rewrites the one line, which ends when done', () => {
  const terminal = sink(true);
  const progress = createProgressLine(terminal.stream);
  for (const [line, key] of POLLS) progress.update(line, key);
  progress.update('step 2/2 (100%), promoted', 'promoted');
  progress.done();
  progress.done();
  const expected = POLLS.map(([line]) => `\r\x1b[K${line}`).join('') + '\n';
  assert.equal(terminal.text(), expected);
});
