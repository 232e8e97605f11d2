/**
 * Runs one batch in its own process (the spec as JSON in argv[2]), for the test that kills it
 * with SIGKILL part-way and resumes. Prints `done` when the batch finished.
 */
import { runBatch } from '../../../src/jobs/batch/run-batch.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { createRuntimePool } from '../../../src/runtime/runtime-pool.ts';

const runtime = createRuntimePool({ workers: 2, logger: createLogger({ level: 'silent' }) });
try {
  await runBatch({ spec: JSON.parse(process.argv[2] ?? '{}'), runtime, onAbort: 'keep' });
  process.stdout.write('done\n');
} finally {
  await runtime.close();
}
