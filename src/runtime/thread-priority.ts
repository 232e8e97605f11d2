/**
 * Lowering the CPU priority of the calling thread, for background work that must yield the cores
 * to online inference. On Linux a nice value belongs to a thread, not to the process: libuv's
 * `uv_os_setpriority(0, …)` (what `os.setPriority` calls) is `setpriority(PRIO_PROCESS, 0, …)`,
 * which changes the calling thread only, and a thread starts with the nice value of the thread
 * that created it — so the worker threads a lowered thread starts, and onnxruntime's intra-op
 * threads of the sessions created in them, run at the lowered priority too. Elsewhere (macOS,
 * Windows) the same call changes the whole process, so nothing is changed there.
 */
import { getPriority, setPriority } from 'node:os';

/** The nice value background threads run at: the lowest priority. */
export const BACKGROUND_NICENESS = 19;

/**
 * Lowers the calling thread's priority to `niceness` (−20 … 19, higher is lower) when that is
 * lower than its own, and returns the thread's nice value after; undefined when not on Linux or
 * the system refused (a priority is only ever lowered, which needs no privilege).
 */
export function lowerThreadPriority(niceness: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    if (getPriority() < niceness) setPriority(niceness);
    return getPriority();
  } catch {
    return undefined;
  }
}
