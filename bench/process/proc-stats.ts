/**
 * Reads a process's resident memory and CPU time from /proc (Linux): VmRSS, and CPU split between
 * the main thread (the event loop: HTTP, gRPC, JSON, batching) and every other thread (session
 * workers, onnxruntime, GC helpers), plus machine-wide busy time from /proc/stat.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU seconds consumed so far. */
export interface CpuSnapshot {
  readonly at: number;
  /** Main thread (tid = pid). */
  readonly main: number;
  /** All other threads of the process. */
  readonly others: number;
  /** Machine-wide busy (non-idle) seconds over all cores. */
  readonly machineBusy: number;
}

/** CPU use over an interval, each as % of one core. */
export interface CpuUse {
  readonly mainPercent: number;
  readonly othersPercent: number;
  /** Machine-wide busy %, of all cores together (200% = both cores busy on 2 cores). */
  readonly machinePercent: number;
}

/** Resident set size in bytes (VmRSS). */
export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

function threadSeconds(pid: number, tid: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0; // the thread exited between readdir and read
  }
}

function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...ticks] = line.trim().split(/\s+/).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - idle) / TICKS_PER_SECOND;
}

/** Reads the CPU time of `pid` now. */
export function cpuSnapshot(pid: number): CpuSnapshot {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const seconds = threadSeconds(pid, tid);
    if (tid === String(pid)) main += seconds;
    else others += seconds;
  }
  return { at: performance.now(), main, others, machineBusy: machineBusySeconds() };
}

/** CPU use between two snapshots. Threads that exited in between are not counted. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  const pct = (x: number): number => (seconds > 0 ? (Math.max(0, x) / seconds) * 100 : 0);
  return {
    mainPercent: pct(after.main - before.main),
    othersPercent: pct(after.others - before.others),
    machinePercent: pct(after.machineBusy - before.machineBusy),
  };
}

/**
 * Waits until the machine has been quieter than `limitPercent` (% of one core, machine-wide) for
 * one `sampleMs` sample, or `maxWaitMs` has passed. Resolves with the time waited (ms).
 */
export async function waitForQuiet(options: {
  limitPercent: number;
  maxWaitMs: number;
  sampleMs?: number;
}): Promise<number> {
  const sampleMs = options.sampleMs ?? 250;
  const start = performance.now();
  for (;;) {
    const before = cpuSnapshot(process.pid);
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const busy = cpuBetween(before, cpuSnapshot(process.pid)).machinePercent;
    const waited = performance.now() - start;
    if (busy <= options.limitPercent || waited >= options.maxWaitMs) return waited;
  }
}

/** CPU seconds of a process and of its child processes (a server's front ends), now. */
export interface TreeCpuSnapshot {
  readonly at: number;
  /** The process's main thread. */
  readonly main: number;
  /** The process's other threads. */
  readonly others: number;
  /** Every thread of its direct children. */
  readonly children: number;
  /** Resident memory of the process and of its children, bytes. */
  readonly rss: number;
  readonly childrenRss: number;
}

/** Reads the CPU time of `pid` and of its children now (children found by their parent pid in /proc). */
export function treeCpuSnapshot(pid: number): TreeCpuSnapshot {
  const own = cpuSnapshot(pid);
  let children = 0;
  let childrenRss = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent !== pid) continue;
    try {
      for (const tid of readdirSync(`/proc/${entry}/task`)) children += threadSeconds(Number(entry), tid);
      childrenRss += readRss(Number(entry));
    } catch {
      // the child exited meanwhile
    }
  }
  return { at: own.at, main: own.main, others: own.others, children, rss: readRss(pid), childrenRss };
}
