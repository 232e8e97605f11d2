/**
 * Probe: batches formed in-process (no HTTP) by 64 concurrent callers of one model version, to
 * see whether batches fragment across instances. Pass `--no-adaptive` to turn the adaptive delay
 * off for comparison.
 *
 *   node --import tsx bench/probes/batch-fragmentation.ts [--model transformer] [--workers 2] [--no-adaptive]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createServingMetrics } from '../../src/monitor/serving-metrics.ts';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { createRuntimePool } from '../../src/runtime/runtime-pool.ts';
import { createModelManager } from '../../src/serving/model-manager.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'transformer' },
    workers: { type: 'string', default: '2' },
    'no-adaptive': { type: 'boolean', default: false },
  },
});
const model = values.model as 'mlp' | 'cnn' | 'transformer';
const workers = Number(values.workers);
const dir = await mkdtemp(join(tmpdir(), 'stratum-probe-'));
await writeFixtureRepository({ dir, only: [model] });
await writeFile(
  join(dir, model, 'config.json'),
  JSON.stringify({ dynamicBatching: { adaptiveQueueDelay: !values['no-adaptive'] } }),
);
const config = loadConfig({ env: {}, overrides: { modelsDir: dir, watch: false, runtime: { workers } } });
const logger = createLogger({ level: 'silent' });
const pool = createRuntimePool({ workers, logger });
const manager = createModelManager({ dir, config, pool, metrics: createServingMetrics(), logger });
await manager.loadAll();
const version = manager.resolve(model);
const spec = FIXTURES[model].inputs[0];
const shape = [1, ...((spec?.shape ?? []).slice(1) as number[])];
const size = shape.reduce((a, b) => a * b, 1);
let done = 0;
const end = performance.now() + 4000;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (performance.now() < end) {
      const data = new Float32Array(size).fill(0.1);
      await version.infer(
        { inputs: [{ name: spec?.name ?? '', datatype: 'FP32', shape, data }], binaryOutputs: true },
        'probe',
      );
      done++;
    }
  }),
);
const stats = version.statistics();
process.stdout.write(
  `${model} workers=${workers} adaptive=${!values['no-adaptive']}: ${(done / 4).toFixed(0)} req/s, mean batch ${(stats.inference_count / stats.execution_count).toFixed(1)}\n`,
);
await manager.close();
await pool.close();
await rm(dir, { recursive: true, force: true });
