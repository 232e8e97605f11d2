/**
 * Child process of duckdb-memory-bound.test.ts, run with a small heap (--max-old-space-size):
 * streams the Parquet file named in argv through parquetDataset → batch and prints the row count
 * and the sum of `delay` as JSON; with `whole` it reads every row into an array instead.
 */
import { parquetDataset } from '../../src/data/duckdb-source.ts';

const [path, mode] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: duckdb-memory-bound-child.ts <file.parquet> [whole]');
const flights = parquetDataset(path, { columns: ['delay', 'distance'] });
let rows = 0;
let delay = 0;
if (mode === 'whole') {
  rows = (await flights.toArray()).length;
} else {
  await flights.batch(1024).forEach((batch) => {
    rows += batch.length;
    for (const row of batch) delay += row.delay as number;
  });
}
process.stdout.write(JSON.stringify({ rows, delay, maxRssKb: process.resourceUsage().maxRSS }));
