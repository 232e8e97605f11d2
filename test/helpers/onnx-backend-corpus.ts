/**
 * The ONNX project's backend test corpus (Debian's `libonnx-testdata`): one folder per case with
 * `model.onnx` and `test_data_set_N/{input,output}_K.pb` TensorProtos. Reads the cases, keeps
 * apart the ones the inference protocol cannot express (sequence, map or optional values), runs
 * the rest in onnxruntime directly, and compares outputs with the tolerances the ONNX backend
 * runner uses.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DATA_TYPE, decodeModel, decodeTensor, type ValueInfoProto } from '../../src/onnx/onnx-proto.ts';
import { readTensorProto, type TensorContents } from '../../src/onnx/read-tensor-proto.ts';
import { DATATYPE_NAMES, DATATYPES, type Datatype, type TensorValues } from '../../src/tensor/datatypes.ts';
import { isClose, type Tolerance } from './assert-close.ts';
import { halfToNumber } from '../onnx/ort-feeds.ts';

/** Where `libonnx-testdata` installs the corpus (`/usr/include/onnx/backend/test/data` links here). */
export const CORPUS_DIR = '/usr/share/libonnx-testdata/data';

/** A tensor of a test data set, in Stratum's terms. */
export interface CorpusTensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** Typed array, or one string per element for BYTES. */
  readonly values: ArrayLike<number | bigint> | readonly string[];
}

/** One test data set: inputs in the model's input order, expected outputs in its output order. */
export interface CorpusDataSet {
  readonly inputs: readonly CorpusTensor[];
  readonly outputs: readonly CorpusTensor[];
}

/** A case that the protocol can express: only tensors in and out. */
export interface CorpusCase {
  /** `node/test_abs`. */
  readonly id: string;
  /** A valid model name: `node.test_abs`. */
  readonly model: string;
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly dataSets: readonly CorpusDataSet[];
}

/** A case left out, and why. */
export interface ExcludedCase {
  readonly id: string;
  readonly reason: string;
}

/** What {@link readCorpus} found. */
export interface Corpus {
  readonly cases: readonly CorpusCase[];
  /** Cases whose inputs or outputs are not tensors the protocol can carry. */
  readonly excluded: readonly ExcludedCase[];
  /** Number of case folders with a `model.onnx`. */
  readonly total: number;
}

const DATATYPE_BY_ONNX: ReadonlyMap<number, Datatype> = new Map(
  DATATYPE_NAMES.map((name) => [DATATYPES[name].onnx, name] as const),
);
const DATATYPE_BY_ONNX_NAME: Readonly<Record<string, Datatype>> = Object.freeze({
  BOOL: 'BOOL',
  UINT8: 'UINT8',
  UINT16: 'UINT16',
  UINT32: 'UINT32',
  UINT64: 'UINT64',
  INT8: 'INT8',
  INT16: 'INT16',
  INT32: 'INT32',
  INT64: 'INT64',
  FLOAT16: 'FP16',
  FLOAT: 'FP32',
  DOUBLE: 'FP64',
  STRING: 'BYTES',
});

/** Throws a clear error when the corpus is not installed (the test set-up installs it). */
export function assertCorpusInstalled(): void {
  if (!existsSync(join(CORPUS_DIR, 'node'))) {
    throw new Error(
      `the ONNX backend test data is missing (${CORPUS_DIR}): install the Debian package libonnx-testdata ` +
        '(scripts/test-data.sh does it: apt-get install -y libonnx-testdata)',
    );
  }
}

/** Reads every case of the corpus. */
export async function readCorpus(): Promise<Corpus> {
  assertCorpusInstalled();
  const cases: CorpusCase[] = [];
  const excluded: ExcludedCase[] = [];
  let total = 0;
  for (const group of (await readdir(CORPUS_DIR)).sort()) {
    const groupDir = join(CORPUS_DIR, group);
    for (const name of (await readdir(groupDir)).sort()) {
      const dir = join(groupDir, name);
      const file = join(dir, 'model.onnx');
      if (!existsSync(file)) continue;
      total++;
      const id = `${group}/${name}`;
      const read = await readCase({ id, dir, file });
      if ('reason' in read) excluded.push(read);
      else cases.push(read);
    }
  }
  return { cases, excluded, total };
}

async function readCase(where: { id: string; dir: string; file: string }): Promise<CorpusCase | ExcludedCase> {
  const { id, dir, file } = where;
  const bytes = new Uint8Array(await readFile(file));
  const { graph } = decodeModel(bytes);
  const constants = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((v) => v.name === undefined || !constants.has(v.name));
  for (const [role, values] of [
    ['input', inputs],
    ['output', graph.output],
  ] as const) {
    for (const value of values) {
      const why = notCarried(value);
      if (why !== undefined) return { id, reason: `${role} "${value.name ?? ''}" is ${why}` };
    }
  }
  const dataSets: CorpusDataSet[] = [];
  for (const setName of (await readdir(dir)).filter((n) => n.startsWith('test_data_set_')).sort()) {
    const setDir = join(dir, setName);
    const files = await readdir(setDir);
    const read = async (prefix: string, specs: readonly ValueInfoProto[]): Promise<CorpusTensor[]> => {
      const count = files.filter((f) => f.startsWith(prefix) && f.endsWith('.pb')).length;
      const out: CorpusTensor[] = [];
      for (let i = 0; i < count; i++) {
        const contents = readTensorProto(decodeTensor(await readFile(join(setDir, `${prefix}${i}.pb`))));
        out.push(toCorpusTensor(contents, specs[i]?.name ?? contents.name));
      }
      return out;
    };
    dataSets.push({ inputs: await read('input_', inputs), outputs: await read('output_', graph.output) });
  }
  return { id, model: id.replace('/', '.'), file, bytes, dataSets };
}

function notCarried(value: ValueInfoProto): string | undefined {
  const type = value.type;
  if (type?.sequence_type !== undefined) return 'a sequence';
  if (type?.map_type !== undefined) return 'a map';
  if (type?.optional_type !== undefined) return 'an optional';
  const elem = type?.tensor_type?.elem_type;
  if (elem === undefined) return 'of no declared type';
  if (!DATATYPE_BY_ONNX.has(elem)) {
    const name = Object.entries(DATA_TYPE).find(([, value]) => value === elem)?.[0] ?? String(elem);
    return `of element type ${name}, which the protocol has no datatype for`;
  }
  return undefined;
}

function toCorpusTensor(contents: TensorContents, name: string): CorpusTensor {
  const datatype = DATATYPE_BY_ONNX_NAME[contents.type];
  if (datatype === undefined) throw new Error(`tensor "${name}": element type ${contents.type} has no OIP datatype`);
  return { name, datatype, shape: contents.dims, values: contents.data as CorpusTensor['values'] };
}

/** The tensor's values as Stratum holds them (BYTES as UTF-8 bytes per element). */
export function toTensorValues(tensor: CorpusTensor): TensorValues {
  if (tensor.datatype === 'BYTES') {
    const utf8 = new TextEncoder();
    return (tensor.values as readonly string[]).map((s) => utf8.encode(s));
  }
  return tensor.values as TensorValues;
}

/** Runs a case's data sets in onnxruntime directly; undefined when every output matches. */
export async function runDirect(testCase: CorpusCase): Promise<string | undefined> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(testCase.bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 4,
    });
  } catch (error) {
    return `session: ${(error as Error).message.split('\n')[0]}`;
  }
  try {
    for (const set of testCase.dataSets) {
      const feeds: Record<string, ort.Tensor> = {};
      session.inputNames.forEach((name, i) => {
        const t = set.inputs[i];
        if (t !== undefined) feeds[name] = toOrtTensor(t);
      });
      let result: ort.InferenceSession.ReturnType;
      try {
        result = await session.run(feeds);
      } catch (error) {
        return `run: ${(error as Error).message.split('\n')[0]}`;
      }
      for (let i = 0; i < set.outputs.length; i++) {
        const expected = set.outputs[i] as CorpusTensor;
        const name = session.outputNames[i] ?? expected.name;
        const actual = result[name];
        if (actual === undefined) return `no output "${name}"`;
        const why = compareTensor({
          actual: { shape: actual.dims, values: actual.data as CorpusTensor['values'] },
          expected,
        });
        if (why !== undefined) return `output "${name}": ${why}`;
      }
    }
    return undefined;
  } finally {
    await session.release();
  }
}

function toOrtTensor(t: CorpusTensor): ort.Tensor {
  const type = DATATYPES[t.datatype].ort as ort.Tensor.Type;
  return new ort.Tensor(type, t.values as ort.Tensor.DataType, [...t.shape]);
}

/** The ONNX backend runner's default tolerance: |a − e| ≤ atol + rtol·|e|, NaN equal to NaN. */
export const CORPUS_TOLERANCE: Tolerance = Object.freeze({ rtol: 1e-3, atol: 1e-7 });

/**
 * Compares one output with the expected tensor: shapes equal; floats within
 * {@link CORPUS_TOLERANCE} (FP16 decoded from its bits), everything else exactly.
 * @returns undefined when they match, else what differs.
 */
export function compareTensor(options: {
  actual: { shape: readonly number[]; values: ArrayLike<unknown> };
  expected: CorpusTensor;
}): string | undefined {
  const { actual, expected } = options;
  if (actual.shape.join(',') !== expected.shape.join(',')) {
    return `shape [${actual.shape.join(',')}], expected [${expected.shape.join(',')}]`;
  }
  const a = actual.values;
  const e = expected.values as ArrayLike<unknown>;
  if (a.length !== e.length) return `${a.length} elements, expected ${e.length}`;
  const float = expected.datatype === 'FP32' || expected.datatype === 'FP64' || expected.datatype === 'FP16';
  const decode = expected.datatype === 'FP16' ? (v: unknown) => halfToNumber(Number(v)) : (v: unknown) => v;
  for (let i = 0; i < e.length; i++) {
    const x = decode(a[i]);
    const y = decode(e[i]);
    if (float) {
      const xn = Number(x);
      const yn = Number(y);
      if (Number.isNaN(xn) && Number.isNaN(yn)) continue;
      if (xn === yn) continue;
      if (isClose(xn, yn, CORPUS_TOLERANCE)) continue;
      return `element ${i} is ${xn}, expected ${yn}`;
    }
    if (plain(x) !== plain(y)) return `element ${i} is ${String(x)}, expected ${String(y)}`;
  }
  return undefined;
}

// Booleans arrive as true/false (JSON, gRPC) or 0/1 (typed arrays); 64-bit integers as bigints,
// numbers (JSON) or decimal strings (gRPC).
function plain(value: unknown): string {
  return typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
}
