/**
 * `npm run bench -- --only json-reader`: decoding an FP32 inference body's JSON into a typed
 * array, the tensor-aware reader (src/serving/protocol/json-tensor-reader.ts, through
 * `decodeRestInferRequest`) against `JSON.parse` followed by the element-by-element decoder (what
 * every request paid before, and what a naive server pays at least). Two number styles: float32
 * values printed in full (17 significant digits, as `JSON.stringify(Array.from(f32))` or Python's
 * `tolist()` give) and short decimals (6 digits). The two are timed alternately in rounds so that
 * load on a shared machine hits both alike; medians of µs per body.
 */
import { decodeRestInferRequest } from '../../src/serving/protocol/rest-infer-request.ts';
import { decodeJsonTensor } from '../../src/serving/protocol/tensor-json.ts';
import type { Progress } from '../progress.ts';

/** One body's medians. */
export interface JsonReaderRow {
  readonly style: 'full float32' | 'short decimals';
  readonly elements: number;
  readonly bytes: number;
  readonly jsonParseUs: number;
  readonly readerUs: number;
}

/** Runs the comparison for 784 and 8,192 elements in both number styles. */
export function runJsonReaderBench(options: { progress: Progress; quick: boolean }): JsonReaderRow[] {
  const rows: JsonReaderRow[] = [];
  const rounds = options.quick ? 5 : 15;
  for (const elements of [784, 8192]) {
    for (const style of ['full float32', 'short decimals'] as const) {
      options.progress.log(`json-reader: ${elements} elements, ${style}`);
      const values = Array.from(new Float32Array(elements).map(() => Math.random() * 2 - 1));
      const data = style === 'full float32' ? values : values.map((v) => Number(v.toFixed(6)));
      const shape = [1, elements];
      const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape, data }] }));
      const viaJsonParse = (): unknown => {
        const json = JSON.parse(body.toString('utf8')) as { inputs: [{ data: unknown }] };
        return decodeJsonTensor({ name: 'x', datatype: 'FP32', shape, data: json.inputs[0].data, maxBytesElement: 1 });
      };
      const viaReader = (): unknown => decodeRestInferRequest({ body, maxBytesElement: 1 }).inputs[0]?.data;
      const iterations = Math.max(20, Math.round(2_000_000 / elements));
      const a: number[] = [];
      const b: number[] = [];
      for (let round = 0; round < rounds; round++) {
        a.push(timePerCall(viaJsonParse, iterations));
        b.push(timePerCall(viaReader, iterations));
      }
      rows.push({ style, elements, bytes: body.length, jsonParseUs: median(a), readerUs: median(b) });
    }
  }
  return rows;
}

function timePerCall(fn: () => unknown, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations / 1e3;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The Markdown table. */
export function renderJsonReaderBench(rows: readonly JsonReaderRow[]): string {
  const lines = [
    '| numbers | elements | body bytes | JSON.parse + decode µs | reader µs | speed-up |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.style} | ${r.elements} | ${r.bytes} | ${r.jsonParseUs.toFixed(0)} | ${r.readerUs.toFixed(0)} | ${(r.jsonParseUs / r.readerUs).toFixed(2)}× |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
