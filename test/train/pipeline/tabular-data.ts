/**
 * A seeded synthetic binary problem over raw rows: numbers with missing values (`age`, `income`),
 * a categorical string (`city`, with unseen values in evaluation sets) and a short text
 * (`review`). The label depends on all four, so every part of the pipeline matters.
 */
import type { FeatureRow } from '../../../src/features/fit.ts';
import type { FeatureSpecInput } from '../../../src/features/feature-spec.ts';
import { seededRandom } from '../../../src/onnx/fixtures/seeded-random.ts';

const CITIES = ['paris', 'lyon', 'berlin', 'madrid', 'rome', 'oslo', 'zürich', 'kraków'];
const CITY_EFFECT = [1.5, 1, 0.5, 0, -0.5, -1, -1.5, 0.25];
const WORDS: Readonly<Record<string, number>> = {
  great: 1.5,
  Good: 1,
  fine: 0.3,
  ok: 0,
  food: 0,
  service: 0,
  slow: -1,
  BAD: -1.5,
  awful: -2,
};

/** The feature spec the tests fit: every raw column, with missing values and unseen categories handled in the graph. */
export const PIPELINE_SPEC: FeatureSpecInput = {
  transforms: [
    { column: 'age', transform: 'standardize', missing: 'mean' },
    { column: 'age', transform: 'impute', name: 'age_filled', indicator: true },
    { column: 'income', transform: 'standardize', missing: 'median' },
    { column: 'city', transform: 'onehot', topK: 6 },
    { column: 'review', transform: 'text', buckets: 64, ngramRange: [1, 2] },
  ],
  output: 'features',
};

/** Options of {@link tabularRows}. */
export interface TabularRowsOptions {
  /** Number of rows. */
  readonly count: number;
  /** Seed of the generator. */
  readonly seed: number;
  /** Mix in cities never seen in training. @default false */
  readonly unseen?: boolean;
  /** Leave no number missing (JSON cannot carry NaN). @default false */
  readonly complete?: boolean;
}

/** Labelled rows: the raw row and its 0/1 label. */
export interface TabularRows {
  readonly rows: FeatureRow[];
  readonly labels: Float32Array;
}

/** Rows with columns `age`, `income`, `city`, `review` and a label drawn from a logistic model of them. */
export function tabularRows(options: TabularRowsOptions): TabularRows {
  const random = seededRandom(options.seed);
  const normal = (): number => {
    const u = Math.max(random.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
  };
  const words = Object.keys(WORDS);
  const rows: FeatureRow[] = [];
  const labels = new Float32Array(options.count);
  for (let i = 0; i < options.count; i++) {
    const row: Record<string, unknown> = {};
    const age = Math.round((40 + 12 * normal()) * 10) / 10;
    const income = Math.exp(10 + 0.5 * normal());
    const cityIndex = Math.floor(random.next() * CITIES.length);
    const unseen = options.unseen === true && random.next() < 0.1;
    const length = 1 + Math.floor(random.next() * 4);
    const review = Array.from({ length }, () => words[Math.floor(random.next() * words.length)] as string);
    let logit = 0.12 * (age - 40) - 1.5 * (Math.log(income) - 10) + (unseen ? 0 : (CITY_EFFECT[cityIndex] as number));
    for (const word of review) logit += WORDS[word] as number;
    if (options.complete === true || random.next() >= 0.08) row.age = age;
    if (options.complete === true || random.next() >= 0.06) row.income = income;
    row.city = unseen ? `atlantis-${i % 5}` : random.next() < 0.03 ? null : CITIES[cityIndex];
    row.review = random.next() < 0.03 ? '' : review.join(random.next() < 0.5 ? ' ' : ', ');
    rows.push(row);
    labels[i] = random.next() < 1 / (1 + Math.exp(-2 * logit)) ? 1 : 0;
  }
  return { rows, labels };
}
