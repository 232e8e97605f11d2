/**
 * The background chunk thread (`background-chunk-executor.ts` starts it): it lowers its own CPU
 * priority first, then starts its runtime pool — whose session threads, created by this thread,
 * inherit the priority, as do onnxruntime's threads in them — and runs the chunks it is sent:
 * reading and converting the rows, running the model and writing the part all happen at the
 * lowered priority, none of it on the main thread's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toThreadFailure } from '../../errors/thread-failure.ts';
import { openArtifactStore } from '../../artifacts/open-artifact-store.ts';
import { StratumError } from '../../errors/index.ts';
import { createLogger, type LogLevel } from '../../logging/logger.ts';
import { createRegistry } from '../../registry/registry.ts';
import { createRuntimePool } from '../../runtime/runtime-pool.ts';
import { lowerThreadPriority } from '../../runtime/thread-priority.ts';
import { openMetadataStore } from '../../store/open-metadata-store.ts';
import { parseModelRef } from './batch-model.ts';
import { type ChunkExecutor, inProcessChunkExecutor } from './chunk-executor.ts';
import {
  CHUNK_THREAD_READY,
  type ChunkThreadData,
  type ChunkThreadReply,
  type ChunkThreadRequest,
} from './chunk-thread-messages.ts';

if (parentPort === null) throw new Error('chunk-thread must run in a worker thread');
const port = parentPort;
const data = workerData as ChunkThreadData;
// Before any thread is started here: they take the priority of the thread that starts them.
lowerThreadPriority(data.niceness);
const logger = createLogger({ level: data.logLevel as LogLevel }).child({ component: 'batch-chunks' });
const runtime = createRuntimePool({ workers: data.workers, logger });
const files = inProcessChunkExecutor({ runtime });
let withRegistry: Promise<{ executor: ChunkExecutor; close: () => Promise<void> }> | undefined;
const running = new Map<number, AbortController>();
const inFlight = new Set<Promise<void>>();
port.postMessage(CHUNK_THREAD_READY);

port.on('message', (message: ChunkThreadRequest | { op: 'close' }) => {
  if (message.op === 'close') {
    void close();
    return;
  }
  if (message.op === 'abort') {
    running.get(message.run)?.abort(new StratumError('JOB_CANCELLED', `chunk ${message.run} was stopped`));
    port.postMessage({ id: message.id, ok: true } satisfies ChunkThreadReply);
    return;
  }
  const controller = new AbortController();
  running.set(message.id, controller);
  const answered = run(message, controller.signal).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => port.postMessage(errorReply(message.id, error)),
  );
  inFlight.add(answered);
  void answered.finally(() => {
    inFlight.delete(answered);
    running.delete(message.id);
  });
});

async function run(
  message: Extract<ChunkThreadRequest, { op: 'plan' | 'run' | 'columns' }>,
  signal: AbortSignal,
): Promise<ChunkThreadReply> {
  const { spec } = message;
  const registered = parseModelRef(spec.model).kind === 'registry';
  const executor = registered ? (await registryExecutor()).executor : files;
  if (message.op === 'plan') return { id: message.id, ok: true, result: await executor.plan({ spec, signal }) };
  const { plan } = message;
  if (message.op === 'columns') return { id: message.id, ok: true, result: await executor.columns({ spec, plan }) };
  return { id: message.id, ok: true, result: await executor.run({ spec, plan, chunk: message.chunk, signal }) };
}

/** The executor for registry models: the stores are opened when the first one is run. */
function registryExecutor(): Promise<{ executor: ChunkExecutor; close: () => Promise<void> }> {
  const { stores } = data;
  if (stores === undefined) {
    return Promise.reject(new StratumError('UNSUPPORTED', 'registry models need the registry; this server has none'));
  }
  withRegistry ??= (async () => {
    const store = await openMetadataStore({ url: stores.databaseUrl, pollMs: stores.registryPollMs, logger });
    const artifacts = await openArtifactStore({
      url: stores.artifactsUrl,
      encryption: stores.artifactEncryption,
    }).catch(async (error: unknown) => {
      await store.close();
      throw error;
    });
    const registry = createRegistry({ store, artifacts, logger, maxArtifactBytes: stores.bodyLimitBytes });
    const executor = inProcessChunkExecutor({ runtime, registry });
    return {
      executor,
      close: async () => {
        await executor.close();
        await registry.close();
      },
    };
  })();
  withRegistry.catch(() => (withRegistry = undefined));
  return withRegistry;
}

function errorReply(id: number, error: unknown): ChunkThreadReply {
  return { id, ok: false, ...toThreadFailure(error) };
}

/** Answers what was received, unloads the models and ends the runtime pool, then lets the thread end. */
async function close(): Promise<void> {
  await Promise.allSettled([...inFlight]);
  const registered = withRegistry;
  await Promise.allSettled([files.close(), registered?.then((r) => r.close())]);
  await runtime.close();
  port.close();
}
