/**
 * The drift window of a deployment read from the sampled inference log: each logged request's
 * rows become raw input columns (an input of shape [n] or [n, 1] is one column; a wider one, up to
 * MAX_EXPANDED_WIDTH, one column per element, `name[j]`), its scalar outputs the predictions.
 */
import type { DriftWindowRows, DriftWindowSource } from '../drift/drift-window-source.ts';
import type { InferenceLogWriter } from '../deploy/inference-log-writer.ts';
import type { InferenceLogStore, LoggedTensor } from '../store/inference-log-store.ts';

/** Wider inputs (an image, an embedding) are not tabular columns; drift skips them. */
const MAX_EXPANDED_WIDTH = 64;
/** The store reads at most this many records at once. */
const MAX_RECORDS = 100_000;

export function inferenceLogDriftSource(options: {
  store: InferenceLogStore;
  writer: Pick<InferenceLogWriter, 'flush'>;
}): DriftWindowSource {
  return {
    async readWindow(query): Promise<DriftWindowRows> {
      // What was answered before the report was asked for belongs in it.
      await options.writer.flush();
      const records = await options.store.readWindow({
        deployment: query.deployment,
        limit: Math.min(query.limit ?? MAX_RECORDS, MAX_RECORDS),
        ...(query.version !== undefined && { version: query.version }),
        ...(query.since !== undefined && { since: query.since.getTime() }),
      });
      const rows: Record<string, unknown>[] = [];
      const predictions: Record<string, unknown>[] = [];
      for (const record of records) {
        const inputRows = tensorRows(record.inputs);
        const outputRows = tensorRows(record.outputs);
        inputRows.forEach((row, i) => {
          rows.push(row);
          predictions.push(outputRows[i] ?? {});
        });
      }
      const first = records[0];
      const last = records.at(-1);
      return {
        rows,
        predictions,
        ...(first !== undefined && { from: new Date(first.at) }),
        ...(last !== undefined && { to: new Date(last.at) }),
      };
    },
  };
}

/** A request's tensors as rows of named scalar columns; the batch size from the first dimension. */
function tensorRows(tensors: Readonly<Record<string, LoggedTensor>>): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor.redacted !== undefined) continue;
    const n = tensor.shape.length === 0 ? 1 : (tensor.shape[0] ?? 0);
    if (n === 0) continue;
    const width = tensor.data.length / n;
    if (!Number.isInteger(width) || width > MAX_EXPANDED_WIDTH) continue;
    for (let r = 0; r < n; r++) {
      const row = (rows[r] ??= {});
      if (width === 1) row[name] = tensor.data[r];
      else for (let j = 0; j < width; j++) row[`${name}[${j}]`] = tensor.data[r * width + j];
    }
  }
  return rows;
}
