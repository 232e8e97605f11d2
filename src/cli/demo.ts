/**
 * `stratum demo`: the README's main job on the embedded default (SQLite and an artifact folder
 * under `.stratum/`). Builds the bundled example models, registers them in the registry, deploys
 * each behind a `production` alias, sends one real inference over REST and one over gRPC, rolls a
 * retrained MLP out blue-green without dropping a request, and prints ready-to-paste curl
 * requests. Serves until Ctrl-C unless `--once`. Running it again reuses what is registered.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceProto } from '../api/grpc/grpc-server.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { FIXTURES } from '../onnx/fixtures.ts';
import { buildMlp } from '../onnx/fixtures/mlp.ts';
import { startServer } from '../server/stratum-server.ts';
import { createApiClient, type ApiClient } from './api-client.ts';
import { waitForSignal } from './serve.ts';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** Exit after the self-check instead of serving until a signal. */
  readonly once: boolean;
  /** Where the report goes. @default process.stdout */
  readonly out?: NodeJS.WritableStream;
}

const DEMO_MODELS = ['mlp', 'cnn', 'transformer', 'bytes_echo'] as const;

/** Runs the demo; resolves with the exit code. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const say = (line = ''): void => void out.write(`${line}\n`);
  // The demo serves only the registry: a --models folder would shadow nothing and confuse the story.
  const config = Object.fromEntries(
    Object.entries({ ...options.config, registry: true }).filter(([key]) => key !== 'modelsDir'),
  ) as unknown as Config;
  say(`▸ starting Stratum (metadata ${config.databaseUrl}, artifacts ${config.artifactsUrl})`);
  const server = await startServer({ config, logger: options.logger });
  try {
    const api = createApiClient({ baseUrl: server.httpUrl, actor: 'demo' });
    say("▸ registering the example models (built by Stratum's own ONNX writer) and deploying them");
    for (const name of DEMO_MODELS) {
      const bytes = FIXTURES[name].build();
      const version = await registerOnce(api, { model: name, bytes, description: FIXTURES[name].description });
      await ensureDeployment(api, { name, version });
      say(
        `  ${name.padEnd(12)} v${String(version).padEnd(3)} ${(bytes.length / 1024).toFixed(0).padStart(6)} KiB  → deployment "${name}" (alias production)`,
      );
    }
    for (const name of DEMO_MODELS) await api.waitConverged(name);
    const rows = (await server.service.index()).filter((r) => r.state === 'READY');
    say(`  serving: ${rows.map((r) => `${r.name} v${r.version}`).join(', ')}`);
    say(`  REST ${server.httpUrl}   gRPC ${options.config.host}:${server.grpcPort}`);

    const image = Array.from({ length: 784 }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
    const first = await inferRest(server.httpUrl, image);
    say(`▸ REST  POST /v2/models/mlp/infer → ${first.status}: served by version ${first.version}`);
    say(`  logits ${first.logits.map((v) => v.toFixed(3)).join(' ')}  → class ${argmax(first.logits)}`);
    const grpcLogits = await inferOverGrpc(`${options.config.host}:${server.grpcPort}`, image);
    say(
      `▸ gRPC  ModelInfer(mlp) → class ${argmax(grpcLogits)} (same as REST: ${argmax(grpcLogits) === argmax(first.logits)})`,
    );

    say('▸ a retrained MLP arrives: register it and switch blue-green while requests keep flowing');
    const retrained = await registerOnce(api, {
      model: 'mlp',
      bytes: buildMlp({ seed: 0x5eed }),
      description: 'MLP retrained with another seed',
    });
    const traffic = keepInferring(server.httpUrl, image);
    const current = (await api.getAlias('mlp', 'production')).version;
    const target = current === retrained ? await previousVersion(api, retrained) : retrained;
    await api.setAlias({ model: 'mlp', alias: 'production', version: target, reason: 'demo: blue-green switch' });
    await api.waitConverged('mlp');
    const after = await inferRest(server.httpUrl, image);
    const { sent, failed } = await traffic.stop();
    say(`  alias production: v${current} → v${target}; now served by version ${after.version}`);
    say(`  requests during the switch: ${sent} sent, ${failed} failed`);

    say('');
    say('Try it yourself:');
    say(`  curl -s ${server.httpUrl}/v2/models/mlp`);
    say(
      `  curl -s -X POST ${server.httpUrl}/v2/models/bytes_echo/infer -H 'content-type: application/json' \\\n` +
        `       -d '{"inputs":[{"name":"text","datatype":"BYTES","shape":[2,1],"data":["hello","stratum"]}]}'`,
    );
    say(
      `  curl -s -X POST ${server.httpUrl}/v2/models/mlp/infer -H 'content-type: application/json' \\\n` +
        `       -d "{\\"inputs\\":[{\\"name\\":\\"input\\",\\"datatype\\":\\"FP32\\",\\"shape\\":[1,784],\\"data\\":[$(seq -s, 784 | sed 's/[0-9]*/0.5/g')]}]}"`,
    );
    say(`  curl -s ${server.httpUrl}/api/v1/models/mlp/versions`);
    say(`  curl -s ${server.httpUrl}/api/v1/models/mlp/aliases/production/history`);
    say(`  curl -s ${server.httpUrl}/api/v1/deployments/mlp/events`);
    say(`  npx stratum deploy rollout mlp --strategy canary --version ${current} --wait --url ${server.httpUrl}`);
    say(`  curl -s ${server.httpUrl}/metrics | grep stratum_batch`);
    if (options.once) return failed === 0 ? 0 : 1;
    say('');
    say('Serving until Ctrl-C.');
    return await waitForSignal(server, options.logger);
  } finally {
    await server.close();
  }
}

/** Registers `bytes` as a version of `model` unless a version with the same content exists. */
async function registerOnce(
  api: ApiClient,
  options: { model: string; bytes: Uint8Array; description: string },
): Promise<number> {
  const digest = createHash('sha256').update(options.bytes).digest('hex');
  const existing = await api.listVersions(options.model, { limit: '1000' }).catch(() => ({ items: [] }));
  const same = existing.items.find((v) => v.artifactDigest === digest);
  if (same !== undefined) return same.version;
  const pushed = await api.pushVersion({
    model: options.model,
    bytes: options.bytes,
    description: options.description,
  });
  return pushed.version;
}

/** Points `production` at the version (first time only) and deploys the model through it. */
async function ensureDeployment(api: ApiClient, options: { name: string; version: number }): Promise<void> {
  const aliases = await api.listAliases(options.name);
  if (!aliases.items.some((a) => a.alias === 'production')) {
    await api.setAlias({
      model: options.name,
      alias: 'production',
      version: options.version,
      reason: 'demo: first deployment',
    });
  }
  const deployments = await api.listDeployments({ model: options.name });
  if (deployments.items.some((d) => d.name === options.name)) return;
  await api.createDeployment({
    name: options.name,
    routes: [{ alias: 'production', weight: 100 }],
    ...(options.name === 'mlp' && { serving: { maxBatchSize: 64, dynamicBatching: { preferredBatchSizes: [8, 32] } } }),
  });
}

async function previousVersion(api: ApiClient, version: number): Promise<number> {
  const versions = await api.listVersions('mlp', { limit: '1000' });
  return versions.items.find((v) => v.version !== version)?.version ?? version;
}

async function inferRest(url: string, image: number[]): Promise<{ status: number; version: string; logits: number[] }> {
  const body = { id: 'demo-1', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: image }] };
  const rest = await fetch(`${url}/v2/models/mlp/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await rest.json()) as { model_version: string; outputs: { data: number[] }[] };
  return { status: rest.status, version: json.model_version, logits: json.outputs[0]?.data ?? [] };
}

/** Sends requests back to back (4 at a time) until stopped; counts failures. */
function keepInferring(url: string, image: number[]): { stop(): Promise<{ sent: number; failed: number }> } {
  let running = true;
  let sent = 0;
  let failed = 0;
  const loops = Array.from({ length: 4 }, async () => {
    while (running) {
      sent++;
      const result = await inferRest(url, image).catch(() => ({ status: 0 }));
      if (result.status !== 200) failed++;
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { sent, failed };
    },
  };
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

function inferOverGrpc(address: string, image: number[]): Promise<number[]> {
  const proto = loadInferenceProto();
  const Client = (proto['inference'] as grpc.GrpcObject)['GRPCInferenceService'] as grpc.ServiceClientConstructor;
  const client = new Client(address, grpc.credentials.createInsecure());
  return new Promise<number[]>((resolvePromise, reject) => {
    (client['ModelInfer'] as grpc.requestCallback<unknown> & ((...args: unknown[]) => void))(
      {
        model_name: 'mlp',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: image } }],
      },
      (error: grpc.ServiceError | null, response: { outputs: { contents: { fp32_contents: number[] } }[] }) => {
        client.close();
        if (error) reject(error);
        else resolvePromise(response.outputs[0]?.contents.fp32_contents ?? []);
      },
    );
  });
}
