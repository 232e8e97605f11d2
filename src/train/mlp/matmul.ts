/**
 * The one dense kernel of the MLP trainer: `C = A·B` (+ a bias per column) for strided row-major
 * operands, so the forward pass (`X·W`), the weight gradient (`Xᵀ·δ`) and back-propagation
 * (`δ·Wᵀ`) share one loop nest. Blocks of 4×4 outputs stay in local variables while the inner
 * dimension streams through: 8 loads per 16 multiply-adds, which is what lets plain JavaScript
 * train faster than tfjs' wasm backend on tabular-sized layers (figures in `train-mlp.ts`).
 */

/** One operand: element `(row, column)` is `data[row * rowStride + column * columnStride]`. */
export interface StridedMatrix {
  readonly data: Float32Array;
  readonly rowStride: number;
  readonly columnStride: number;
}

/** Options for {@link matmul}. */
export interface MatmulOptions {
  /** Left operand, `rows×inner`. */
  readonly a: StridedMatrix;
  /** Right operand, `inner×columns`. */
  readonly b: StridedMatrix;
  /** Output, dense row-major `rows×columns`; overwritten. */
  readonly out: Float32Array;
  readonly rows: number;
  readonly inner: number;
  readonly columns: number;
  /** Added to every row of the product (length `columns`). @default none */
  readonly bias?: Float32Array;
}

/** Writes `A·B (+ bias)` into `out`. */
export function matmul(options: MatmulOptions): void {
  const { a, b, out, rows, inner, columns, bias } = options;
  const { data: ad, rowStride: ai, columnStride: ap } = a;
  const { data: bd, rowStride: bp, columnStride: bj } = b;
  const fullRows = rows - (rows % 4);
  const fullColumns = columns - (columns % 4);
  for (let i = 0; i < fullRows; i += 4) {
    const a0 = i * ai;
    const a1 = a0 + ai;
    const a2 = a1 + ai;
    const a3 = a2 + ai;
    for (let j = 0; j < fullColumns; j += 4) {
      const b0 = j * bj;
      const b1 = b0 + bj;
      const b2 = b1 + bj;
      const b3 = b2 + bj;
      const init0 = bias === undefined ? 0 : (bias[j] as number);
      const init1 = bias === undefined ? 0 : (bias[j + 1] as number);
      const init2 = bias === undefined ? 0 : (bias[j + 2] as number);
      const init3 = bias === undefined ? 0 : (bias[j + 3] as number);
      let c00 = init0,
        c01 = init1,
        c02 = init2,
        c03 = init3;
      let c10 = init0,
        c11 = init1,
        c12 = init2,
        c13 = init3;
      let c20 = init0,
        c21 = init1,
        c22 = init2,
        c23 = init3;
      let c30 = init0,
        c31 = init1,
        c32 = init2,
        c33 = init3;
      for (let p = 0; p < inner; p++) {
        const pa = p * ap;
        const pb = p * bp;
        const x0 = ad[a0 + pa] as number;
        const x1 = ad[a1 + pa] as number;
        const x2 = ad[a2 + pa] as number;
        const x3 = ad[a3 + pa] as number;
        const w0 = bd[pb + b0] as number;
        const w1 = bd[pb + b1] as number;
        const w2 = bd[pb + b2] as number;
        const w3 = bd[pb + b3] as number;
        c00 += x0 * w0;
        c01 += x0 * w1;
        c02 += x0 * w2;
        c03 += x0 * w3;
        c10 += x1 * w0;
        c11 += x1 * w1;
        c12 += x1 * w2;
        c13 += x1 * w3;
        c20 += x2 * w0;
        c21 += x2 * w1;
        c22 += x2 * w2;
        c23 += x2 * w3;
        c30 += x3 * w0;
        c31 += x3 * w1;
        c32 += x3 * w2;
        c33 += x3 * w3;
      }
      const o0 = i * columns + j;
      const o1 = o0 + columns;
      const o2 = o1 + columns;
      const o3 = o2 + columns;
      out[o0] = c00;
      out[o0 + 1] = c01;
      out[o0 + 2] = c02;
      out[o0 + 3] = c03;
      out[o1] = c10;
      out[o1 + 1] = c11;
      out[o1 + 2] = c12;
      out[o1 + 3] = c13;
      out[o2] = c20;
      out[o2 + 1] = c21;
      out[o2 + 2] = c22;
      out[o2 + 3] = c23;
      out[o3] = c30;
      out[o3 + 1] = c31;
      out[o3 + 2] = c32;
      out[o3 + 3] = c33;
    }
    for (let r = i; r < i + 4; r++) edge({ options, row: r, from: fullColumns });
  }
  for (let r = fullRows; r < rows; r++) edge({ options, row: r, from: 0 });
}

/** Computes `out[row, from..columns)` one element at a time (the blocks' leftovers). */
function edge(state: { options: MatmulOptions; row: number; from: number }): void {
  const { options, row, from } = state;
  const { a, b, out, inner, columns, bias } = options;
  const { data: ad, rowStride: ai, columnStride: ap } = a;
  const { data: bd, rowStride: bp, columnStride: bj } = b;
  const base = row * ai;
  for (let j = from; j < columns; j++) {
    let sum = bias === undefined ? 0 : (bias[j] as number);
    for (let p = 0; p < inner; p++) sum += (ad[base + p * ap] as number) * (bd[p * bp + j * bj] as number);
    out[row * columns + j] = sum;
  }
}
