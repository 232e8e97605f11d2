/**
 * Runs the `stratum` CLI as a child process, collects its output, kills it when the test ends, and
 * finds the address a `serve` listens on. Servers start on port 0 (the operating system picks a
 * free one), so tests never collide with each other or with another run on the same machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type WaitForOptions, waitFor } from './wait-for.ts';

const BIN = fileURLToPath(new URL('../../bin/stratum.js', import.meta.url));

/** A running CLI process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Starts `stratum …args` with `env` added to this process's environment; SIGKILLed after the test. */
export function startCli(t: TestContext, args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output, exited };
}

/**
 * The HTTP address a `serve` started with `--http-port 0` and `--log-level info` (or lower) logs
 * once it is ready ("stratum is serving"). Fails at once, with the output, if the process exits.
 */
export async function servingUrl(proc: CliProcess, options?: WaitForOptions): Promise<string> {
  const what = 'the server to log "stratum is serving"';
  return waitFor(
    what,
    () => {
      if (proc.child.exitCode !== null)
        throw new Error(`the server exited with ${proc.child.exitCode}: ${proc.output()}`);
      const line = proc
        .output()
        .split('\n')
        .find((l) => l.includes('"stratum is serving"'));
      return line === undefined ? undefined : (JSON.parse(line) as { http: string }).http;
    },
    options,
  ).catch((error: unknown) => {
    // A server that never became ready: what it logged says why.
    throw new Error(`${(error as Error).message}; it logged:\n${proc.output().slice(-4000)}`);
  });
}
