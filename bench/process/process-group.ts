/**
 * The bench's child processes (servers under test, reference servers, load generators): every
 * process is spawned through one group, so a single idempotent `close()` — called on success, on
 * error and on SIGINT/SIGTERM — ends them all by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (cwd of every child). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A long-running child that announced itself with a JSON line on stdout. */
export interface ServiceProcess<T> {
  readonly pid: number;
  /** The first JSON line the child printed (its ports, …). */
  readonly announced: T;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link ProcessGroup.runJson}. */
export interface RunJsonOptions {
  /** Kill the child and reject after this long (ms). */
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with every complete stdout line before the last (progress events). */
  readonly onLine?: (line: string) => void;
  /** When aborted, the child gets SIGUSR2: a load generator then ends its window early. */
  readonly end?: AbortSignal;
}

/** A group of child processes. */
export interface ProcessGroup {
  /** Spawns `node <args>` in the repository root; stderr is passed through when `verbose`. */
  spawnNode(args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /**
   * Spawns another program (a Python peer server) as the leader of its own process group, in the
   * repository root; stopping it sends SIGTERM to the leader and then SIGKILL to the whole group,
   * so no helper it forked (uvicorn workers, Ray's daemons) stays behind.
   */
  spawnCommand(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** Runs `node --import tsx <script> <args>` to completion and parses its last stdout line as JSON. */
  runJson<T>(script: string, args: readonly string[], options: RunJsonOptions): Promise<T>;
  /** Starts `node --import tsx <script> <args>` and waits (up to `timeoutMs`) for its first JSON line. */
  startService<T>(script: string, args: readonly string[], timeoutMs?: number): Promise<ServiceProcess<T>>;
  /** Stops one child: SIGTERM, then SIGKILL after `graceMs`. */
  stop(child: ChildProcess, graceMs?: number): Promise<void>;
  /** Stops every child still running. Idempotent. */
  close(): Promise<void>;
}

/** Creates a group. */
export function createProcessGroup(options: { verbose: boolean }): ProcessGroup {
  const children = new Set<ChildProcess>();

  function spawnNode(args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(process.execPath, [...args], {
      cwd: REPO_ROOT,
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', options.verbose ? 'inherit' : 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  /** Children that lead their own process group (spawnCommand). */
  const leaders = new WeakSet<ChildProcess>();

  function spawnCommand(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(command, [...args], {
      cwd: REPO_ROOT,
      env: env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', options.verbose ? 'inherit' : 'pipe'],
    });
    children.add(child);
    leaders.add(child);
    child.once('exit', () => {
      children.delete(child);
      // Its helpers may outlive the leader by a moment (or for good, if it crashed): none stays behind.
      signal(child, 'SIGKILL');
    });
    return child;
  }

  function signal(child: ChildProcess, name: NodeJS.Signals): void {
    if (!leaders.has(child) || child.pid === undefined) {
      child.kill(name);
      return;
    }
    try {
      process.kill(-child.pid, name);
    } catch {
      // the group is already gone
    }
  }

  function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => signal(child, 'SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      // SIGTERM to the leader alone, so it can shut its helpers down in order (Ray needs its daemons for that).
      child.kill('SIGTERM');
    });
  }

  function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-4000)));
    return { stdout: () => out, stderr: () => err };
  }

  return {
    spawnNode,
    spawnCommand,
    stop,

    runJson<T>(script: string, args: readonly string[], run: RunJsonOptions): Promise<T> {
      const child = spawnNode(['--import', 'tsx', script, ...args], run.env);
      const io = collect(child);
      if (run.onLine !== undefined) {
        const onLine = run.onLine;
        let seen = 0;
        child.stdout?.on('data', () => {
          const text = io.stdout();
          let newline = text.indexOf('\n', seen);
          while (newline >= 0) {
            onLine(text.slice(seen, newline));
            seen = newline + 1;
            newline = text.indexOf('\n', seen);
          }
        });
      }
      const end = (): void => void child.kill('SIGUSR2');
      run.end?.addEventListener('abort', end, { once: true });
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          void stop(child, 1000);
          reject(new Error(`${script} did not finish within ${run.timeoutMs} ms`));
        }, run.timeoutMs);
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          run.end?.removeEventListener('abort', end);
          const lines = io.stdout().trim().split('\n');
          const last = lines[lines.length - 1] ?? '';
          if (code !== 0) {
            reject(new Error(`${script} exited with ${code ?? signal}: ${io.stderr().trim() || last}`));
            return;
          }
          try {
            resolve(JSON.parse(last) as T);
          } catch {
            reject(new Error(`${script} printed no JSON result: ${last.slice(0, 300)}`));
          }
        });
      });
    },

    startService<T>(script: string, args: readonly string[], timeoutMs = 60_000): Promise<ServiceProcess<T>> {
      const child = spawnNode(['--import', 'tsx', script, ...args]);
      const io = collect(child);
      return new Promise<ServiceProcess<T>>((resolve, reject) => {
        const timer = setTimeout(() => {
          void stop(child, 1000);
          reject(new Error(`${script} did not announce itself within ${timeoutMs} ms: ${io.stderr()}`));
        }, timeoutMs);
        const onExit = (code: number | null): void => {
          clearTimeout(timer);
          reject(new Error(`${script} exited with ${code} before it was ready: ${io.stderr()}`));
        };
        child.once('exit', onExit);
        child.stdout?.on('data', () => {
          const newline = io.stdout().indexOf('\n');
          if (newline < 0) return;
          clearTimeout(timer);
          child.off('exit', onExit);
          child.stdout?.removeAllListeners('data');
          child.stdout?.resume();
          resolve({
            pid: child.pid as number,
            announced: JSON.parse(io.stdout().slice(0, newline)) as T,
            stop: (graceMs) => stop(child, graceMs),
          });
        });
      });
    },

    async close() {
      await Promise.allSettled([...children].map((c) => stop(c, 2000)));
    },
  };
}
