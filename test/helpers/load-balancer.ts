/**
 * A real load balancer for the cluster test: Debian's nginx (installed by `scripts/test-data.sh`)
 * in front of fixed upstream ports, run in the foreground as a child process with its own prefix
 * folder, so nothing outside the test's temporary folder is read or written. nginx retries a
 * request on the other replica when one refuses the connection, resets it, or answers 502/503 —
 * POST included (`non_idempotent`): inference has no side effect, and a replica killed mid-request
 * must not fail the client. The access log records every upstream tried, so retries are counted
 * from what nginx did, not guessed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from './wait-for.ts';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

/** A running nginx. */
export interface LoadBalancer {
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /** Requests nginx answered and how many of them it sent to more than one upstream. */
  stats(): Promise<{ readonly requests: number; readonly retried: number; readonly upstreamErrors: number }>;
  close(): Promise<void>;
}

/** A TCP port free right now on 127.0.0.1 (the OS picks it; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function config(dir: string, port: number, upstreams: readonly number[]): string {
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `${user}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format lb '$status "$upstream_addr" "$upstream_status"';
  access_log ${dir}/access.log lb;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream stratum {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 64m;
    location / {
      proxy_pass http://stratum;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries ${upstreams.length * 3};
    }
  }
}
`;
}

/**
 * Starts nginx on a free port balancing over `upstreams` (ports on 127.0.0.1); stopped after the
 * test. Resolves once it accepts connections.
 */
export async function startLoadBalancer(
  t: TestContext,
  dir: string,
  upstreams: readonly number[],
): Promise<LoadBalancer> {
  if (NGINX === undefined)
    throw new Error('nginx is not installed: run `bash scripts/test-data.sh` (apt-get install nginx)');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config(dir, port, upstreams));
  let log = '';
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      await exited;
    }
  };
  t.after(close);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('nginx to accept connections', async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${log}`);
    return fetch(`${url}/`).then(
      () => true,
      () => false,
    );
  });
  return {
    url,
    close,
    async stats() {
      const lines = (await readFile(join(dir, 'access.log'), 'utf8')).split('\n').filter((l) => l.length > 0);
      let retried = 0;
      let upstreamErrors = 0;
      for (const line of lines) {
        const tried = /"([^"]*)" "([^"]*)"$/.exec(line);
        if (tried === null) continue;
        if ((tried[1] ?? '').includes(',')) retried++;
        upstreamErrors += (tried[2] ?? '').split(',').filter((s) => /5\d\d|-/.test(s.trim())).length;
      }
      return { requests: lines.length, retried, upstreamErrors };
    },
  };
}
