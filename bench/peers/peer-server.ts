/**
 * Starts one Python peer server (bench/peers/*.py) in its own process group on a free loopback
 * port, and waits until it answers a real inference request for every model with a 200: uvicorn's
 * workers and Ray's replicas come up after the port opens, so an open port is not readiness.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../process/free-port.ts';
import { type ProcessGroup, REPO_ROOT } from '../process/process-group.ts';

/** A running peer. */
export interface PeerServer {
  readonly pid: number;
  readonly httpPort: number;
  stop(): Promise<void>;
}

/** Options of {@link startPeerServer}. */
export interface StartPeerServerOptions {
  readonly group: ProcessGroup;
  readonly python: string;
  /** The script under bench/peers, e.g. `fastapi_server.py`. */
  readonly script: string;
  /** Arguments after `--port N`. */
  readonly args: readonly string[];
  /** One JSON request body per model, checked before the server counts as ready. */
  readonly probes: readonly { readonly model: string; readonly bodyPath: string }[];
  /** @default 180_000 (Ray starts its daemons and replicas) */
  readonly readyTimeoutMs?: number;
}

/** Starts the peer; throws (after stopping it) with its last output if it never gets ready. */
export async function startPeerServer(options: StartPeerServerOptions): Promise<PeerServer> {
  const { group } = options;
  const httpPort = await freePort();
  const child = group.spawnCommand(
    options.python,
    [join(REPO_ROOT, 'bench', 'peers', options.script), '--port', String(httpPort), ...options.args],
    // No __pycache__ written into the repository.
    { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  );
  let output = '';
  const keep = (s: string): void => void (output = (output + s).slice(-3000));
  child.stderr?.setEncoding('utf8').on('data', keep);
  child.stdout?.setEncoding('utf8').on('data', keep);
  const bodies = await Promise.all(
    options.probes.map(async (p) => ({ model: p.model, body: await readFile(p.bodyPath) })),
  );
  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  const deadline = performance.now() + timeoutMs;
  const stop = (): Promise<void> => group.stop(child, 15_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${options.script} exited with ${child.exitCode ?? child.signalCode}: ${output.trim()}`);
    let ready = true;
    for (const { model, body } of bodies) {
      try {
        const response = await fetch(`http://127.0.0.1:${httpPort}/v2/models/${model}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await response.arrayBuffer();
        if (response.status !== 200) ready = false;
      } catch {
        ready = false;
      }
      if (!ready) break;
    }
    if (ready) return { pid: child.pid as number, httpPort, stop };
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${options.script} did not answer within ${timeoutMs} ms: ${output.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
