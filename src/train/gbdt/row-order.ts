/**
 * The order the trainer keeps rows in when it spreads them over shards. Shards own contiguous
 * ranges of that order; data that arrives sorted (flights by date) would give each shard a
 * different slice of it, so a split on a date sends most of a node's rows to one shard while the
 * others wait. Dealing rows out round-robin (row `i` to shard `i mod workers`) keeps every shard a
 * sample of the whole, without a random permutation.
 */

/** Where each original row sits in the trainer's order, and back. */
export interface RowOrder {
  /** `original[p]` is the input row at position `p`. */
  readonly original: Uint32Array;
  /** `position[i]` is input row `i`'s position. */
  readonly position: Uint32Array;
}

/** Rows dealt round-robin to `workers` shards: all rows `i ≡ 0 (mod workers)` first, then `≡ 1`, … */
export function interleavedRowOrder(numRows: number, workers: number): RowOrder {
  const original = new Uint32Array(numRows);
  const position = new Uint32Array(numRows);
  let p = 0;
  for (let s = 0; s < workers; s++) {
    for (let i = s; i < numRows; i += workers) {
      original[p] = i;
      position[i] = p++;
    }
  }
  return { original, position };
}

/** Copies row-major `source` (`width` values per row, input order) into `target` in `order`. */
export function reorderRows<T extends Uint8Array | Float32Array>(args: {
  order: RowOrder;
  source: T;
  target: T;
  width: number;
}): void {
  const { order, source, target, width } = args;
  for (let p = 0; p < order.original.length; p++) {
    const from = (order.original[p] as number) * width;
    const to = p * width;
    for (let j = 0; j < width; j++) target[to + j] = source[from + j] as number;
  }
}

/** The ascending positions of the ascending input rows `rows`. */
export function positionsOf(order: RowOrder, rows: Uint32Array): Uint32Array {
  const picked = new Uint8Array(order.position.length);
  for (let j = 0; j < rows.length; j++) picked[order.position[rows[j] as number] as number] = 1;
  const positions = new Uint32Array(rows.length);
  let at = 0;
  for (let p = 0; p < picked.length; p++) if (picked[p] === 1) positions[at++] = p;
  return positions;
}
