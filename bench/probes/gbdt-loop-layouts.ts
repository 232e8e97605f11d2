/**
 * The GBDT histogram loop over two layouts of the dense bins, on nodes of several sizes (random
 * rows of an 800k-row shard × 20 features): 16-bit histogram codes `feature · 256 + bin` (what the
 * trainer stores) against byte bins plus a per-feature slot offset (half the bytes, one add more).
 * Both loops are copies of `addAllFeatures` in `src/train/gbdt/shard-histogram.ts`, interleaved in
 * one process, best of 25; prints ns per row-feature.
 * `node --import tsx bench/probes/gbdt-loop-layouts.ts`
 */
import { mulberry32 } from '../../src/random/mulberry32.ts';

const ROWS = 800_000;
const FEATURES = 20;
const SLOT = 2;
const FEATURE_STRIDE = 512;
const random = mulberry32(1);
const codes = new Uint16Array(ROWS * FEATURES);
const bins = new Uint8Array(ROWS * FEATURES);
for (let i = 0; i < ROWS * FEATURES; i++) {
  const bin = Math.floor(random() * 255);
  bins[i] = bin;
  codes[i] = (i % FEATURES) * 256 + bin;
}
const gradHess = Float64Array.from({ length: 2 * ROWS }, () => random());
const histogram = new Float64Array(FEATURES * FEATURE_STRIDE);
const firstSlot = Int32Array.from({ length: FEATURES }, (_, f) => f * FEATURE_STRIDE);

function addFromCodes(rows: Uint32Array): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as number;
    const g = gradHess[2 * row] as number;
    const h = gradHess[2 * row + 1] as number;
    const base = row * FEATURES;
    for (let j = 0; j < FEATURES; j += 4) {
      const s0 = (codes[base + j] as number) * SLOT;
      const s1 = (codes[base + j + 1] as number) * SLOT;
      const s2 = (codes[base + j + 2] as number) * SLOT;
      const s3 = (codes[base + j + 3] as number) * SLOT;
      histogram[s0] = (histogram[s0] as number) + g;
      histogram[s0 + 1] = (histogram[s0 + 1] as number) + h;
      histogram[s1] = (histogram[s1] as number) + g;
      histogram[s1 + 1] = (histogram[s1 + 1] as number) + h;
      histogram[s2] = (histogram[s2] as number) + g;
      histogram[s2 + 1] = (histogram[s2 + 1] as number) + h;
      histogram[s3] = (histogram[s3] as number) + g;
      histogram[s3 + 1] = (histogram[s3 + 1] as number) + h;
    }
  }
}

function addFromBins(rows: Uint32Array): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as number;
    const g = gradHess[2 * row] as number;
    const h = gradHess[2 * row + 1] as number;
    const base = row * FEATURES;
    for (let j = 0; j < FEATURES; j += 4) {
      const s0 = (firstSlot[j] as number) + (bins[base + j] as number) * SLOT;
      const s1 = (firstSlot[j + 1] as number) + (bins[base + j + 1] as number) * SLOT;
      const s2 = (firstSlot[j + 2] as number) + (bins[base + j + 2] as number) * SLOT;
      const s3 = (firstSlot[j + 3] as number) + (bins[base + j + 3] as number) * SLOT;
      histogram[s0] = (histogram[s0] as number) + g;
      histogram[s0 + 1] = (histogram[s0 + 1] as number) + h;
      histogram[s1] = (histogram[s1] as number) + g;
      histogram[s1 + 1] = (histogram[s1 + 1] as number) + h;
      histogram[s2] = (histogram[s2] as number) + g;
      histogram[s2 + 1] = (histogram[s2 + 1] as number) + h;
      histogram[s3] = (histogram[s3] as number) + g;
      histogram[s3 + 1] = (histogram[s3 + 1] as number) + h;
    }
  }
}

for (const share of [1, 0.75, 0.5, 0.25, 0.1, 0.03]) {
  const picked: number[] = [];
  for (let r = 0; r < ROWS; r++) if (random() < share) picked.push(r);
  const rows = Uint32Array.from(picked);
  const best = { codes: Infinity, bins: Infinity };
  for (let round = 0; round < 25; round++) {
    for (const [name, loop] of [
      ['codes', addFromCodes],
      ['bins', addFromBins],
    ] as const) {
      histogram.fill(0);
      const started = performance.now();
      loop(rows);
      best[name] = Math.min(best[name], performance.now() - started);
    }
  }
  const perRowFeature = (ms: number): string => ((ms * 1e6) / rows.length / FEATURES).toFixed(2);
  console.log(
    `node ${share * 100}% of the shard (${rows.length} rows): codes ${perRowFeature(best.codes)}, bins ${perRowFeature(best.bins)} ns per row-feature`,
  );
}
