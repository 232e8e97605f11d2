/**
 * Writes the test-model fixtures as a model repository (`<out>/<name>/1/model.onnx`).
 *
 *   node --import tsx scripts/make-fixtures.ts [--out DIR] [--only mlp,cnn] [--json]
 */
import { parseArgs } from 'node:util';
import { writeFixtureRepository } from '../src/onnx/fixture-repository.ts';
import { FIXTURE_NAMES, type FixtureName } from '../src/onnx/fixtures.ts';

const DEFAULT_OUT = 'test/fixtures/models';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: DEFAULT_OUT },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`usage: make-fixtures [--out DIR] [--only NAME,...] [--json]
  --out DIR    repository root (default ${DEFAULT_OUT})
  --only LIST  comma-separated fixtures (default all: ${FIXTURE_NAMES.join(', ')})
  --json       print the result as JSON`);
  process.exit(0);
}

const only = values.only
  ?.split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '') as FixtureName[] | undefined;

try {
  const written = await writeFixtureRepository({ dir: values.out, ...(only === undefined ? {} : { only }) });
  if (values.json) {
    console.log(JSON.stringify(written, null, 2));
  } else {
    for (const file of written) console.log(`${file.status.padEnd(9)} ${file.path} (${formatSize(file.size)})`);
  }
} catch (err) {
  console.error(`make-fixtures: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
