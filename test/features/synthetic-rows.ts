/**
 * Seeded synthetic rows for the feature tests: numbers with missing values (null, absent, NaN,
 * numeric strings), skewed categories, and — in the evaluation set — categories never seen in training.
 */
import { seededRandom } from '../../src/onnx/fixtures/seeded-random.ts';
import type { FeatureRow } from '../../src/features/fit.ts';

const CITIES = [
  'paris',
  'lyon',
  'berlin',
  'madrid',
  'rome',
  'oslo',
  'lisbon',
  'vienna',
  'prague',
  'dublin',
  'zürich',
  'kraków',
];
const DEVICES = ['ios', 'android', 'web', 'tv'];

/** Options of {@link syntheticRows}. */
export interface SyntheticRowsOptions {
  /** Number of rows. */
  readonly count: number;
  /** Seed of the generator. */
  readonly seed: number;
  /** Mix in categories and value ranges the training set never has. @default false */
  readonly unseen?: boolean;
}

/** Rows with columns `age`, `income`, `score`, `city`, `device`. */
export function syntheticRows(options: SyntheticRowsOptions): FeatureRow[] {
  const random = seededRandom(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random.next() ** 2 * values.length)] as T;
  const normal = (): number => {
    const u = Math.max(random.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
  };
  const rows: FeatureRow[] = [];
  for (let i = 0; i < options.count; i++) {
    const row: Record<string, unknown> = {};
    const r = random.next();
    const age = Math.round((40 + 12 * normal()) * 10) / 10;
    row.age = r < 0.05 ? null : r < 0.08 ? Number.NaN : r < 0.12 ? String(age) : age;
    const income = Math.exp(10 + normal()) * (options.unseen === true && random.next() < 0.1 ? 50 : 1);
    if (random.next() >= 0.06) row.income = income;
    row.score = random.next() < 0.1 ? undefined : Math.round(random.next() * 10) / 10;
    const c = random.next();
    row.city = c < 0.05 ? null : options.unseen === true && c < 0.15 ? `atlantis-${i % 7}` : pick(CITIES);
    row.device = random.next() < 0.03 ? '' : pick(DEVICES);
    rows.push(row);
  }
  return rows;
}
