/**
 * The thread entry of `mapInWorkers`: imports the named export of the module in `workerData` and
 * applies it to each chunk it is sent, one chunk at a time, in order. Failures are sent back as
 * data with the element's index; the thread lives until the pool terminates it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MapFailure, MapRequest, MapResponse, MapWorkerData } from './map-worker-protocol.ts';

type MapFunction = (item: unknown, index: number) => unknown;

const { module, exportName } = workerData as MapWorkerData;
const port = parentPort;
if (port === null) throw new Error('map-worker.ts must run in a worker thread');

function describe(error: unknown, kind: MapFailure['kind'], index: number): MapFailure {
  const value = error as { message?: unknown; name?: unknown; code?: unknown; stack?: unknown } | null;
  return {
    kind,
    index,
    message: typeof value?.message === 'string' ? value.message : String(error),
    name: typeof value?.name === 'string' ? value.name : 'Error',
    code: typeof value?.code === 'string' ? value.code : undefined,
    stack: typeof value?.stack === 'string' ? value.stack : undefined,
  };
}

const loaded: Promise<MapFunction> = import(module).then((namespace: Record<string, unknown>) => {
  const fn = namespace[exportName];
  if (typeof fn !== 'function') {
    const found = Object.keys(namespace).filter((key) => typeof namespace[key] === 'function');
    throw new Error(`the module exports no function "${exportName}" (functions: ${found.join(', ') || 'none'})`);
  }
  return fn as MapFunction;
});
// Reported per chunk below; this keeps the rejection from counting as unhandled meanwhile.
loaded.catch(() => undefined);

async function run(request: MapRequest): Promise<MapResponse> {
  let fn: MapFunction;
  try {
    fn = await loaded;
  } catch (error) {
    return { id: request.id, results: [], failure: describe(error, 'load', request.start) };
  }
  const results: unknown[] = [];
  for (let offset = 0; offset < request.items.length; offset++) {
    try {
      results.push(await fn(request.items[offset], request.start + offset));
    } catch (error) {
      return { id: request.id, results, failure: describe(error, 'call', request.start + offset) };
    }
  }
  return { id: request.id, results };
}

// Chunks run one after another, so a worker holds at most one chunk's results at a time.
let queue = Promise.resolve();
port.on('message', (request: MapRequest) => {
  queue = queue.then(async () => {
    const response = await run(request);
    try {
      port.postMessage(response);
    } catch (error) {
      // A result that cannot be cloned (a function, a class instance with private state, …).
      port.postMessage({
        id: request.id,
        results: [],
        failure: describe(error, 'send', request.start),
      } satisfies MapResponse);
    }
  });
});
