/**
 * A probe of the logistic-regression kernel's two halves on the spam task's CSR copy: the forward
 * gather (one running sum per row, as the trainer sums today, or four) and the gradient scatter,
 * each in JavaScript and in a small hand-assembled WebAssembly function over the same arrays in a
 * `WebAssembly.Memory`, alternated in one process, best and median CPU milliseconds per pass. It
 * checks that JavaScript and wasm give the same bits for the same order. The trainer's whole
 * evaluation (`linearObjective`) runs beside them as the baseline: JavaScript loops written here
 * time differently from the trainer's (V8 compiles each on its own), so compare the wasm parts
 * with that row. For deciding whether a wasm kernel pays: `node --import tsx bench/training/linear-kernel-probe.ts [rounds]`
 */
import process from 'node:process';
import { linearObjective } from '../../src/train/linear/linear-objective.ts';
import { scanToSparseRows, type SparseRows } from '../../src/train/linear/sparse-rows.ts';
import { spamTask } from './training-bench.ts';

const ROUNDS = Number(process.argv[2] ?? 15);
const PASSES = 5;

// The WebAssembly binary format, just enough of it: unsigned and signed LEB128, sections, vectors.
const uleb = (value: number): number[] => {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    out.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return out;
};
const sleb = (value: number): number[] => {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
};
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (text: string): number[] => vector([...text].map((c) => [c.charCodeAt(0)]));
const I32 = 0x7f;
const F64 = 0x7c;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  f64Zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  i32Load: (offset: number) => [0x28, 2, ...uleb(offset)],
  f32Load: (offset: number) => [0x2a, 2, ...uleb(offset)],
  f64Load: [0x2b, 3, 0],
  f64Store: [0x39, 3, 0],
  add: [0x6a],
  shl: [0x74],
  geU: [0x4f],
  gtU: [0x4b],
  fAdd: [0xa0],
  fMul: [0xa2],
  promote: [0xbb],
};
/** `base + index · 2^shift` on the stack. */
const address = (base: number, index: number, shift: number): number[] => [
  ...op.get(base),
  ...op.get(index),
  ...op.i32(shift),
  ...op.shl,
  ...op.add,
];
// Parameters of every function: offsets, columns, values, theta (or dz), out, rows. Locals from 6:
// r, p, end (i32), then f64 sums.
const [OFFSETS, COLUMNS, VALUES, VECTOR, OUT, ROWS, R, P, END] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
/** `sum += values[p + k] · vector[columns[p + k]]`. */
const term = (sum: number, k: number): number[] => [
  ...op.get(sum),
  ...address(VALUES, P, 2),
  ...op.f32Load(4 * k),
  ...op.promote,
  ...op.get(VECTOR),
  ...address(COLUMNS, P, 2),
  ...op.i32Load(4 * k),
  ...op.i32(3),
  ...op.shl,
  ...op.add,
  ...op.f64Load,
  ...op.fMul,
  ...op.fAdd,
  ...op.set(sum),
];
const step = (by: number): number[] => [...op.get(P), ...op.i32(by), ...op.add, ...op.set(P)];
/** for r in 0..rows: p, end = offsets[r], offsets[r + 1]; inner; */
const overRows = (inner: number[]): number[] => [
  ...op.i32(0),
  ...op.set(R),
  ...op.block,
  ...op.loop,
  ...[...op.get(R), ...op.get(ROWS), ...op.geU, ...op.brIf(1)],
  ...[...address(OFFSETS, R, 2), ...op.i32Load(0), ...op.set(P)],
  ...[...address(OFFSETS, R, 2), ...op.i32Load(4), ...op.set(END)],
  ...inner,
  ...[...op.get(R), ...op.i32(1), ...op.add, ...op.set(R)],
  ...op.br(0),
  ...op.end,
  ...op.end,
];
/** while (p + width <= end) { body; p += width } */
const whileRoom = (width: number, body: number[]): number[] => [
  ...op.block,
  ...op.loop,
  ...[...op.get(P), ...op.i32(width - 1), ...op.add, ...op.get(END), ...op.geU, ...op.brIf(1)],
  ...body,
  ...step(width),
  ...op.br(0),
  ...op.end,
  ...op.end,
];
const storeOut = (value: number[]): number[] => [...address(OUT, R, 3), ...value, ...op.f64Store];
// out[r] = Σ values · theta[columns], one running sum (local 9).
const gather1 = overRows([...op.f64Zero, ...op.set(9), ...whileRoom(1, term(9, 0)), ...storeOut(op.get(9))]);
// The same with four running sums (locals 9–12) over entries k mod 4, added (s0 + s1) + (s2 + s3).
const gather4 = overRows([
  ...[9, 10, 11, 12].flatMap((sum) => [...op.f64Zero, ...op.set(sum)]),
  ...whileRoom(4, [...term(9, 0), ...term(10, 1), ...term(11, 2), ...term(12, 3)]),
  ...whileRoom(1, term(9, 0)),
  ...storeOut([...op.get(9), ...op.get(10), ...op.fAdd, ...op.get(11), ...op.get(12), ...op.fAdd, ...op.fAdd]),
]);
// out[columns[p]] += values[p] · dz[r] (dz in VECTOR; local 9 = dz[r], local 10 = the slot's address).
const scatter = overRows([
  ...[...address(VECTOR, R, 3), ...op.f64Load, ...op.set(9)],
  ...whileRoom(1, [
    ...[...op.get(OUT), ...address(COLUMNS, P, 2), ...op.i32Load(0), ...op.i32(3), ...op.shl, ...op.add, ...op.tee(10)],
    ...[...op.get(10), ...op.f64Load],
    ...[...address(VALUES, P, 2), ...op.f32Load(0), ...op.promote, ...op.get(9), ...op.fMul, ...op.fAdd],
    ...op.f64Store,
  ]),
]);
/** A function body: locals r, p, end (i32), then `f64Locals` sums, then `i32After` more i32s. */
const code = (f64Locals: number, i32After: number, body: number[]): number[] => {
  const groups = [[...uleb(3), I32], [...uleb(f64Locals), F64], ...(i32After > 0 ? [[...uleb(i32After), I32]] : [])];
  const full = [...vector(groups), ...body, ...op.end];
  return [...uleb(full.length), ...full];
};
const exports = ['gather1', 'gather4', 'scatter'];
const binary = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, vector([[0x60, ...vector(Array.from({ length: 6 }, () => [I32])), 0]])),
  ...section(2, vector([[...name('js'), ...name('memory'), 0x02, 0x00, 0x01]])),
  ...section(3, vector([[0], [0], [0]])),
  ...section(7, vector(exports.map((e, i) => [...name(e), 0x00, i]))),
  ...section(10, vector([code(1, 0, gather1), code(4, 0, gather4), code(1, 1, scatter)])),
]);

type Kernel = (...pointers: number[]) => void;

/** The part of the WebAssembly API this probe uses (the project's compiler settings have no DOM types). */
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
      instantiate(
        bytes: Uint8Array,
        imports: Record<string, Record<string, unknown>>,
      ): Promise<{ instance: { exports: Record<string, unknown> } }>;
    };
  }
).WebAssembly;

/** The CSR copy and the vectors in a wasm memory, with typed-array views of them. */
function place(sparse: SparseRows, numFeatures: number) {
  const { rows } = sparse;
  const entries = sparse.offsets[rows] as number;
  const bytes = [
    (rows + 1) * 4,
    entries * 4,
    entries * 4,
    (numFeatures + 1) * 8,
    rows * 8,
    rows * 8,
    (numFeatures + 1) * 8,
  ];
  const starts: number[] = [];
  let at = 0;
  for (const size of bytes) {
    starts.push(at);
    at = (at + size + 7) & ~7;
  }
  const memory = new Wasm.Memory({ initial: Math.ceil(at / 65536) + 1 });
  const view = <T>(make: new (buffer: ArrayBuffer, offset: number, length: number) => T, i: number, length: number) =>
    new make(memory.buffer, starts[i] as number, length);
  const views = {
    offsets: view(Uint32Array, 0, rows + 1),
    columns: view(Int32Array, 1, entries),
    values: view(Float32Array, 2, entries),
    theta: view(Float64Array, 3, numFeatures + 1),
    z: view(Float64Array, 4, rows),
    dz: view(Float64Array, 5, rows),
    gradient: view(Float64Array, 6, numFeatures + 1),
  };
  views.offsets.set(sparse.offsets.subarray(0, rows + 1));
  views.columns.set(sparse.columns.subarray(0, entries));
  views.values.set(sparse.values.subarray(0, entries));
  return { memory, starts, views, rows, entries };
}

const task = await spamTask();
const numFeatures = task.numFeatures;
const sparse = scanToSparseRows({ features: task.train.features, numFeatures }).sparse;
if (sparse === undefined) throw new Error('the spam features are not sparse');
const placed = place(sparse, numFeatures);
const { views, starts, rows, entries } = placed;
for (let j = 0; j <= numFeatures; j++) views.theta[j] = Math.sin(j) * 0.1;
for (let r = 0; r < rows; r++) views.dz[r] = Math.cos(r) * 0.01;
const { instance } = await Wasm.instantiate(binary, { js: { memory: placed.memory } });
const wasm = instance.exports as unknown as Record<'gather1' | 'gather4' | 'scatter', Kernel>;
const [pOffsets, pColumns, pValues, pTheta, pZ, pDz, pGradient] = starts as [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];
// JavaScript reads the trainer's own arrays (typed arrays over a wasm memory ran slower in V8).
const arrays = {
  offsets: sparse.offsets,
  columns: sparse.columns,
  values: sparse.values,
  theta: Float64Array.from(views.theta),
  dz: Float64Array.from(views.dz),
  z: new Float64Array(rows),
  gradient: new Float64Array(numFeatures + 1),
};
type Arrays = typeof arrays;
const zJs = arrays.z;
const gradientJs = arrays.gradient;

/** The trainer's gather: one running sum per row. */
function gather1Js({ offsets, columns, values, theta, z: zJs }: Arrays): void {
  for (let r = 0; r < rows; r++) {
    const last = offsets[r + 1] as number;
    let z = 0;
    for (let p = offsets[r] as number; p < last; p++)
      z += (values[p] as number) * (theta[columns[p] as number] as number);
    zJs[r] = z;
  }
}

/** Four running sums over entries k mod 4, added (s0 + s1) + (s2 + s3). */
function gather4Js({ offsets, columns, values, theta, z: zJs }: Arrays): void {
  for (let r = 0; r < rows; r++) {
    const last = offsets[r + 1] as number;
    let p = offsets[r] as number;
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    for (; p + 3 < last; p += 4) {
      a += (values[p] as number) * (theta[columns[p] as number] as number);
      b += (values[p + 1] as number) * (theta[columns[p + 1] as number] as number);
      c += (values[p + 2] as number) * (theta[columns[p + 2] as number] as number);
      d += (values[p + 3] as number) * (theta[columns[p + 3] as number] as number);
    }
    for (; p < last; p++) a += (values[p] as number) * (theta[columns[p] as number] as number);
    zJs[r] = a + b + (c + d);
  }
}

/** The trainer's scatter: two entries a step. */
function scatterJs({ offsets, columns, values, dz, gradient: gradientJs }: Arrays): void {
  gradientJs.fill(0);
  for (let r = 0; r < rows; r++) {
    const last = offsets[r + 1] as number;
    const g = dz[r] as number;
    let p = offsets[r] as number;
    for (; p + 1 < last; p += 2) {
      const j = columns[p] as number;
      const i = columns[p + 1] as number;
      const gj = (gradientJs[j] as number) + (values[p] as number) * g;
      const gi = (gradientJs[i] as number) + (values[p + 1] as number) * g;
      gradientJs[j] = gj;
      gradientJs[i] = gi;
    }
    if (p < last) {
      const j = columns[p] as number;
      gradientJs[j] = (gradientJs[j] as number) + (values[p] as number) * g;
    }
  }
}

const trainerGradient = new Float64Array(numFeatures + 1);
const trainerData = { features: task.train.features, labels: task.train.labels, rows, sparse };
const variants: Record<string, () => void> = {
  'whole evaluation, the trainer (linearObjective: gather, loss, scatter)': () =>
    linearObjective({
      shape: { objective: 'binary', numFeatures, numOutputs: 1 },
      data: trainerData,
      theta: arrays.theta,
      l2: 1e-4,
      gradient: trainerGradient,
    }),
  'gather, 1 sum, JS (trainer)': () => gather1Js(arrays),
  'gather, 1 sum, wasm': () => wasm.gather1(pOffsets, pColumns, pValues, pTheta, pZ, rows),
  'gather, 4 sums, JS': () => gather4Js(arrays),
  'gather, 4 sums, wasm': () => wasm.gather4(pOffsets, pColumns, pValues, pTheta, pZ, rows),
  'scatter, JS (trainer)': () => scatterJs(arrays),
  'scatter, wasm': () => {
    views.gradient.fill(0);
    wasm.scatter(pOffsets, pColumns, pValues, pDz, pGradient, rows);
  },
};
const sameBits = (a: Float64Array, b: Float64Array): boolean => a.every((value, i) => Object.is(value, b[i]));
const checks: string[] = [];
for (const [sums, js] of [
  [1, gather1Js],
  [4, gather4Js],
] as const) {
  js(arrays);
  variants[`gather, ${sums} sum${sums === 1 ? '' : 's'}, wasm`]?.();
  checks.push(`gather ${sums}: ${sameBits(zJs, views.z) ? 'same bits' : 'DIFFERENT bits'}`);
}
scatterJs(arrays);
variants['scatter, wasm']?.();
checks.push(`scatter: ${sameBits(gradientJs, views.gradient) ? 'same bits' : 'DIFFERENT bits'}`);

const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const times = new Map<string, number[]>(Object.keys(variants).map((key) => [key, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [key, run] of Object.entries(variants)) {
    const started = cpuMs();
    for (let pass = 0; pass < PASSES; pass++) run();
    times.get(key)?.push((cpuMs() - started) / PASSES);
  }
}
console.log(`spam CSR: ${rows} rows, ${entries.toLocaleString('en-US')} non-zeros; ${checks.join(', ')}`);
console.log('| variant | best ms | median ms | ns per non-zero (best) |\n|---|---:|---:|---:|');
for (const [key, list] of times) {
  const sorted = [...list].sort((a, b) => a - b);
  const best = sorted[0] as number;
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  console.log(`| ${key} | ${best.toFixed(2)} | ${median.toFixed(2)} | ${((best * 1e6) / entries).toFixed(2)} |`);
}
