/**
 * A worker process of the tuning benchmark: takes `trial` jobs from the embedded queue, one at a
 * time, and runs them on the shared SQLite store and artifact folder. Announces `{"ready":true}`.
 * Argument: JSON `{ databaseUrl, artifactsUrl, queueName }`.
 */
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { tuneJobHandlers } from '../../src/jobs/tune/tune-jobs.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';

const { databaseUrl, artifactsUrl, queueName } = JSON.parse(process.argv[2] ?? '{}') as {
  databaseUrl: string;
  artifactsUrl: string;
  queueName: string;
};
const logger = createLogger({ level: 'error' });
const store = await openMetadataStore({ url: databaseUrl, pollMs: 50, logger });
const artifacts = await openArtifactStore({ url: artifactsUrl });
const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, name: queueName, pollMs: 20 });
const { trial } = tuneJobHandlers({ store, artifacts, queue });
queue.work({ kinds: ['trial'], concurrency: 1, handler: trial });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
