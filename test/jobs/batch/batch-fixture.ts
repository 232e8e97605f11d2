/**
 * A small trained classifier (features + logistic regression in one ONNX graph, class names in
 * its metadata) and input files over its raw columns (`age`, `income`, `city`, `review`) with an
 * `id` column, plus the reference predictions of one direct `session.run` over every row.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { fitFeatures } from '../../../src/features/fit.ts';
import { transformBatch } from '../../../src/features/transform.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import { exportPipelineModel } from '../../../src/train/pipeline/export-pipeline.ts';
import { PIPELINE_SPEC, tabularRows } from '../../train/pipeline/tabular-data.ts';

/** Class names the fixture model declares. */
export const CLASSES = ['stay', 'leave'] as const;

/** One input row. */
export interface InputRow {
  readonly id: string;
  readonly age: number | null;
  readonly income: number | null;
  readonly city: string | null;
  readonly review: string;
}

/** The trained model's bytes. */
export async function trainFixtureModel(): Promise<Uint8Array> {
  const train = tabularRows({ count: 600, seed: 11 });
  const fitted = await fitFeatures(PIPELINE_SPEC, train.rows);
  const { data: features, dims } = transformBatch(fitted, train.rows);
  const model = trainLinear({
    features,
    numFeatures: dims[1],
    labels: train.labels,
    objective: 'binary',
    params: { optimizer: 'adam', learningRate: 0.05, epochs: 3, batchSize: 64, seed: 5 },
  });
  return exportPipelineModel({ fitted, model: { kind: 'linear', model }, classes: [...CLASSES] });
}

/** `count` seeded rows with ids `r0`, `r1`, … */
export function inputRows(count: number, seed = 12): InputRow[] {
  return tabularRows({ count, seed }).rows.map((row, i) => ({
    id: `r${i}`,
    age: (row.age as number | undefined) ?? null,
    income: (row.income as number | undefined) ?? null,
    city: (row.city as string | null | undefined) ?? null,
    review: (row.review as string | undefined) ?? '',
  }));
}

/** The rows as CSV text (header `id,age,income,city,review`). */
export function csvText(rows: readonly InputRow[]): string {
  const cell = (v: unknown): string => {
    if (v === null) return '';
    const text = String(v);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return `id,age,income,city,review\n${rows.map((r) => [r.id, r.age, r.income, r.city, r.review].map(cell).join(',')).join('\n')}\n`;
}

/** The rows as JSON Lines. */
export function jsonlText(rows: readonly InputRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** The reference prediction of a row: its class name and P(leave). */
export interface Prediction {
  readonly label: string | null;
  readonly leave: number;
}

/** One `session.run` over every row. */
export async function referencePredictions(
  model: Uint8Array,
  rows: readonly InputRow[],
): Promise<Map<string, Prediction>> {
  const session = await ort.InferenceSession.create(model);
  try {
    const n = rows.length;
    const feeds: Record<string, ort.Tensor> = {
      age: new ort.Tensor(
        'float32',
        Float32Array.from(rows, (r) => r.age ?? Number.NaN),
        [n, 1],
      ),
      income: new ort.Tensor(
        'float32',
        Float32Array.from(rows, (r) => r.income ?? Number.NaN),
        [n, 1],
      ),
      city: new ort.Tensor(
        'string',
        rows.map((r) => r.city ?? ''),
        [n, 1],
      ),
      review: new ort.Tensor(
        'string',
        rows.map((r) => r.review),
        [n, 1],
      ),
    };
    const out = await session.run(feeds);
    const labels = out.label?.data as BigInt64Array;
    const probabilities = out.probabilities?.data as Float32Array;
    const result = new Map<string, Prediction>();
    rows.forEach((row, i) => {
      const label = Number(labels[i]);
      result.set(row.id, {
        label: label >= 0 ? (CLASSES[label] as string) : null,
        leave: probabilities[2 * i + 1] as number,
      });
    });
    return result;
  } finally {
    await session.release();
  }
}

/** A temporary folder removed by `t.after`. */
export async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-batch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `dir/name` and returns the path. */
export async function writeInput(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
