/**
 * Child process of memory-bound.test.ts, run with a small heap (--max-old-space-size): streams the
 * CSV file named in argv through csvDataset → map → batch and prints the counts and peak RSS as
 * JSON. A non-streaming implementation dies here with a heap out-of-memory error.
 */
import { csvDataset } from '../../src/data/csv-source.ts';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: memory-bound-child.ts <file.csv>');
let rows = 0;
let batches = 0;
let total = 0;
await csvDataset(path)
  .map((row) => (typeof row.value === 'number' ? row.value : 0))
  .batch(1024)
  .forEach((batch) => {
    batches++;
    rows += batch.length;
    for (const value of batch) total += value;
  });
process.stdout.write(JSON.stringify({ rows, batches, total, maxRssKb: process.resourceUsage().maxRSS }));
