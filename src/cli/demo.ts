/**
 * `stratum demo`: the README's main job. Builds the bundled example models into a model
 * repository, serves it, sends one real inference over REST and one over gRPC, and prints
 * ready-to-paste curl requests. Serves until Ctrl-C unless `--once`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceProto } from '../api/grpc/grpc-server.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { writeFixtureRepository } from '../onnx/fixture-repository.ts';
import { startServer } from '../server/stratum-server.ts';
import { waitForSignal } from './serve.ts';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** Exit after the self-check instead of serving until a signal. */
  readonly once: boolean;
  /** Where the repository is written. @default `.stratum/demo-models` */
  readonly dir?: string;
  /** Where the report goes. @default process.stdout */
  readonly out?: NodeJS.WritableStream;
}

/** Runs the demo; resolves with the exit code. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const say = (line = ''): void => void out.write(`${line}\n`);
  const dir = resolve(options.config.modelsDir ?? options.dir ?? join('.stratum', 'demo-models'));
  say(`▸ building the example models into ${dir}`);
  await mkdir(dir, { recursive: true });
  const written = await writeFixtureRepository({ dir, only: ['mlp', 'cnn', 'transformer', 'bytes_echo'] });
  await writeFile(
    join(dir, 'mlp', 'config.json'),
    `${JSON.stringify({ maxBatchSize: 64, dynamicBatching: { preferredBatchSizes: [8, 32] } }, null, 2)}\n`,
  );
  for (const w of written) say(`  ${w.name.padEnd(12)} ${(w.size / 1024).toFixed(0).padStart(6)} KiB`);
  say('▸ starting the server (models are loaded and warmed before it reports ready)');
  const server = await startServer({ config: { ...options.config, modelsDir: dir }, logger: options.logger });
  try {
    const rows = (await server.service.manager.index()).filter((r) => r.state === 'READY');
    say(`  ready: ${rows.map((r) => `${r.name} v${r.version}`).join(', ')}`);
    say(`  REST ${server.httpUrl}   gRPC ${options.config.host}:${server.grpcPort}`);

    const image = Array.from({ length: 784 }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
    const restBody = { id: 'demo-1', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: image }] };
    const rest = await fetch(`${server.httpUrl}/v2/models/mlp/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(restBody),
    });
    const restJson = (await rest.json()) as { outputs: { name: string; shape: number[]; data: number[] }[] };
    const logits = restJson.outputs[0]?.data ?? [];
    say(
      `▸ REST  POST /v2/models/mlp/infer → ${rest.status}: ${restJson.outputs[0]?.name} ${JSON.stringify(restJson.outputs[0]?.shape)}`,
    );
    say(`  logits ${logits.map((v) => v.toFixed(3)).join(' ')}  → class ${argmax(logits)}`);

    const grpcLogits = await inferOverGrpc(`${options.config.host}:${server.grpcPort}`, image);
    say(
      `▸ gRPC  ModelInfer(mlp) → class ${argmax(grpcLogits)} (same as REST: ${argmax(grpcLogits) === argmax(logits)})`,
    );

    say('');
    say('Try it yourself:');
    say(`  curl -s ${server.httpUrl}/v2/health/ready`);
    say(`  curl -s ${server.httpUrl}/v2/models/mlp`);
    say(
      `  curl -s -X POST ${server.httpUrl}/v2/models/bytes_echo/infer -H 'content-type: application/json' \\\n` +
        `       -d '{"inputs":[{"name":"text","datatype":"BYTES","shape":[2,1],"data":["hello","stratum"]}]}'`,
    );
    say(
      `  curl -s -X POST ${server.httpUrl}/v2/models/mlp/infer -H 'content-type: application/json' \\\n` +
        `       -d "{\\"inputs\\":[{\\"name\\":\\"input\\",\\"datatype\\":\\"FP32\\",\\"shape\\":[1,784],\\"data\\":[$(seq -s, 784 | sed 's/[0-9]*/0.5/g')]}]}"`,
    );
    say(`  curl -s ${server.httpUrl}/v2/models/mlp/stats`);
    say(`  curl -s ${server.httpUrl}/metrics | grep stratum_batch`);
    if (options.once) return 0;
    say('');
    say('Serving until Ctrl-C.');
    return await waitForSignal(server, options.logger);
  } finally {
    await server.close();
  }
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
