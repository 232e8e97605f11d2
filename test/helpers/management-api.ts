/**
 * In-process calls to the management API (no sockets), and a snapshot of everything the registry
 * holds, to prove that a rejected request changed nothing.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StratumServer } from '../../src/server/stratum-server.ts';

/** A reply. */
export interface ApiReply {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Calls `/api/v1…` in-process. A Uint8Array body is sent as octet-stream, anything else as JSON. */
export async function api(
  server: StratumServer,
  options: { method?: string; url: string; body?: unknown; headers?: Record<string, string> },
): Promise<ApiReply> {
  const isBytes = options.body instanceof Uint8Array;
  const payload =
    options.body === undefined
      ? undefined
      : isBytes
        ? Buffer.from(options.body as Uint8Array)
        : JSON.stringify(options.body);
  const res = await server.http.inject({
    method: (options.method ?? (payload === undefined ? 'GET' : 'POST')) as 'GET',
    url: options.url,
    headers: {
      ...(payload !== undefined && { 'content-type': isBytes ? 'application/octet-stream' : 'application/json' }),
      ...options.headers,
    },
    ...(payload !== undefined && { payload }),
  });
  let json: unknown;
  try {
    json = res.body.length === 0 ? undefined : JSON.parse(res.body);
  } catch {
    json = res.body;
  }
  return { status: res.statusCode, headers: res.headers, json };
}

/** Everything the registry holds, as JSON text: models, versions, aliases with history, deployments with events, artifact files. */
export async function registrySnapshot(server: StratumServer, artifactsDir: string): Promise<string> {
  const registry = server.registry;
  if (registry === undefined) throw new Error('the registry is off');
  const models = await registry.listModels({ limit: 1000 });
  const out: unknown[] = [];
  for (const m of models.items) {
    out.push(m);
    out.push(await registry.listVersions(m.name, { limit: 1000 }));
    out.push(await registry.listAliases(m.name));
    out.push(await registry.aliasHistory({ model: m.name, limit: 1000 }));
  }
  const deployments = await registry.listDeployments({ limit: 1000 });
  for (const d of deployments.items) {
    out.push(d);
    out.push(await registry.deploymentEvents({ deployment: d.name, limit: 1000 }));
  }
  out.push(await listFiles(artifactsDir));
  return JSON.stringify(out);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
