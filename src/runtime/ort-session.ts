/**
 * The only module that touches onnxruntime: creating a session from model bytes, running it on
 * wire tensors, releasing it. The session workers use it, and so does an inline session on the
 * main thread (`inline-session.ts`), which loads it only when a model asks for one.
 */
import * as ort from 'onnxruntime-node';
import type { SessionSettings, WireTensor, WireValueMetadata } from './messages.ts';

/** A loaded session. */
export interface OrtSession {
  readonly inputs: readonly WireValueMetadata[];
  readonly outputs: readonly WireValueMetadata[];
  /**
   * Runs the session. onnxruntime-node's `run` executes the graph synchronously on the calling
   * thread (its async API only defers the call with setImmediate).
   */
  run(feeds: readonly WireTensor[], fetches: readonly string[]): Promise<OrtRun>;
  release(): Promise<void>;
}

/** A run's outputs (each owning its buffer), those buffers, and the time spent in `session.run`. */
export interface OrtRun {
  readonly outputs: WireTensor[];
  readonly transfer: ArrayBuffer[];
  readonly computeNs: number;
}

/** Creates a session from an ONNX model. */
export async function loadOrtSession(bytes: Uint8Array, settings: SessionSettings): Promise<OrtSession> {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: settings.interOpThreads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return {
    inputs: session.inputMetadata.map(toWireMetadata),
    outputs: session.outputMetadata.map(toWireMetadata),
    run: (feeds, fetches) => runSession(session, feeds, fetches),
    release: () => session.release(),
  };
}

async function runSession(
  session: ort.InferenceSession,
  wire: readonly WireTensor[],
  fetches: readonly string[],
): Promise<OrtRun> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of wire) {
    feeds[t.name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.dims);
  }
  const start = process.hrtime.bigint();
  const result = await session.run(feeds, fetches as string[]);
  const computeNs = Number(process.hrtime.bigint() - start);
  const outputs: WireTensor[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const name of fetches) {
    const value = result[name];
    if (value === undefined) throw new Error(`session returned no output "${name}"`);
    const data = ownedData(value.data);
    outputs.push({ name, type: value.type, dims: value.dims, data });
    if (ArrayBuffer.isView(data)) transfer.push(data.buffer as ArrayBuffer);
  }
  return { outputs, transfer, computeNs };
}

// Output tensors may share or not own their buffer; a compact copy can always be transferred.
function ownedData(data: ort.Tensor.DataType): ArrayBufferView | string[] {
  if (Array.isArray(data)) return data as string[];
  const view = data as unknown as ArrayBufferView;
  if (
    view.byteOffset === 0 &&
    view.byteLength === view.buffer.byteLength &&
    !(view.buffer instanceof SharedArrayBuffer)
  ) {
    return view;
  }
  return (view as unknown as Uint8Array).slice();
}

function toWireMetadata(meta: ort.InferenceSession.ValueMetadata): WireValueMetadata {
  if (!meta.isTensor) return { name: meta.name, isTensor: false };
  return { name: meta.name, isTensor: true, type: meta.type, shape: [...meta.shape] };
}
