/**
 * A full garbage collection on demand, for the moments right after a model is loaded or unloaded.
 * Model bytes are megabytes of external memory per load; the collector, paced by the JavaScript
 * heap, lets tens of them pile up before it runs, and RSS measured after load/unload cycles grows
 * with them. One collection costs ~20 ms of the calling thread (measured with four models
 * loaded), paid once per load or unload, never per request. `--expose-gc` set at run time only
 * exposes `gc` to new contexts, hence the fresh context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs a full collection on the calling thread. */
export function collectGarbage(): void {
  gc();
}
