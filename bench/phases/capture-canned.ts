/**
 * Captures Stratum's real response to each bench request (REST JSON, REST binary, gRPC), so the
 * transport-ceiling server can answer with the same headers and the same number of bytes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { CannedResponses, CannedRest } from '../references/canned-responses.ts';
import type { StratumProcess } from '../stratum/stratum-process.ts';
import type { BenchModel, ModelRequests, RequestFile } from '../workload.ts';

async function captureRest(server: StratumProcess, model: BenchModel, file: RequestFile): Promise<CannedRest> {
  const headers: Record<string, string> = {
    'content-type': file.headerLength === undefined ? 'application/json' : 'application/octet-stream',
  };
  if (file.headerLength !== undefined) headers['inference-header-content-length'] = String(file.headerLength);
  const response = await fetch(`${server.httpUrl}/v2/models/${model}/infer`, {
    method: 'POST',
    headers,
    body: await readFile(file.path),
  });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200)
    throw new Error(`capturing ${model}: HTTP ${response.status}: ${body.toString().slice(0, 300)}`);
  const headerLength = response.headers.get('inference-header-content-length');
  return {
    contentType: response.headers.get('content-type') ?? 'application/json',
    ...(headerLength !== null && { headerLength: Number(headerLength) }),
    bodyBase64: body.toString('base64'),
  };
}

async function captureGrpc(server: StratumProcess, file: RequestFile): Promise<string> {
  const client = new grpc.Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  const identity = (b: Buffer): Buffer => b;
  try {
    const request = await readFile(file.path);
    const response = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        '/inference.GRPCInferenceService/ModelInfer',
        identity,
        identity,
        request,
        (error, value) =>
          error || value === undefined ? reject(error ?? new Error('empty response')) : resolve(value),
      ),
    );
    return response.toString('base64');
  } finally {
    client.close();
  }
}

/** Captures every model's responses and writes the canned-responses file to `path`. */
export async function captureCanned(options: {
  server: StratumProcess;
  requests: ReadonlyMap<BenchModel, ModelRequests>;
  path: string;
}): Promise<void> {
  const rest: Record<string, { json: CannedRest; binary: CannedRest }> = {};
  const grpcResponses: Record<string, string> = {};
  for (const [model, files] of options.requests) {
    rest[model] = {
      json: await captureRest(options.server, model, files.json),
      binary: await captureRest(options.server, model, files.binary),
    };
    grpcResponses[model] = await captureGrpc(options.server, files.grpc);
  }
  await writeFile(options.path, JSON.stringify({ rest, grpc: grpcResponses } satisfies CannedResponses));
}
