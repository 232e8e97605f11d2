/**
 * Chunks read on their own from the byte offsets the scan notes give the same records, on the
 * same lines, as one parse of the whole file — with CRLF and lone CR line ends, quoted fields
 * holding newlines and commas, blank lines, a BOM and a last line without a newline.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvParser } from '../../../src/data/csv-parser.ts';
import type { PlannedChunk } from '../../../src/jobs/batch/batch-plan.ts';
import { readChunk } from '../../../src/jobs/batch/chunk-reader.ts';
import { scanCsv, scanJsonl } from '../../../src/jobs/batch/text-scan.ts';
import { tempDir, writeInput } from './batch-fixture.ts';

const CSV =
  '\ufeffid,note\r\n' +
  'a,"one\r\nline two"\r\n' +
  '\r\n' +
  'b,plain\n' +
  'c,"with, comma ""and"" quote"\r' +
  'd,é ü\n' +
  '\n\n' +
  'e,"x\ny\nz"\r\n' +
  'f,last';

async function chunksOf(path: string, kind: 'csv' | 'jsonl', chunkRows: number): Promise<PlannedChunk[]> {
  const scan = kind === 'csv' ? await scanCsv({ path, chunkRows }) : await scanJsonl({ path, chunkRows });
  return scan.starts.map((start, index) => ({
    index,
    firstRow: index * chunkRows,
    rows: Math.min(chunkRows, scan.records - index * chunkRows),
    offset: start.offset,
    end: scan.starts[index + 1]?.offset ?? scan.bytes,
    line: start.line,
  }));
}

for (const chunkRows of [1, 2, 4, 100]) {
  test(`CSV in chunks of ${chunkRows}: the records and lines of one whole-file parse`, async (t) => {
    const path = await writeInput(await tempDir(t), 'tricky.csv', CSV);
    const whole = new CsvParser({ label: path });
    const records = [...whole.push(CSV.slice(1))];
    const lines = [...whole.lines];
    records.push(...whole.end());
    lines.push(...whole.lines);
    const scan = await scanCsv({ path, chunkRows });
    assert.equal(scan.records, records.length - 1);
    const source = { kind: 'csv' as const, path, columns: ['id', 'note'] };
    const got: { values: unknown[]; line: number }[] = [];
    for (const chunk of await chunksOf(path, 'csv', chunkRows)) {
      for await (const batch of readChunk({ source, chunk, columns: ['id', 'note'], batchRows: 2 })) {
        assert.deepEqual(batch.bad, []);
        batch.records.forEach((values, k) => got.push({ values, line: batch.lines[k] as number }));
      }
    }
    assert.deepEqual(
      got,
      records.slice(1).map((values, k) => ({ values, line: lines[k + 1] })),
    );
  });
}

test('JSON Lines in chunks: every object once, on its own line, blank lines skipped', async (t) => {
  const text = '{"id":"a"}\n\n{"id":"b"}\r\n   \n{"id":"c"}\n{"id":"d"}';
  const path = await writeInput(await tempDir(t), 'x.jsonl', text);
  for (const chunkRows of [1, 3]) {
    const got: [unknown, number][] = [];
    for (const chunk of await chunksOf(path, 'jsonl', chunkRows)) {
      const source = { kind: 'jsonl' as const, path, columns: ['id'] };
      for await (const batch of readChunk({ source, chunk, columns: ['id'], batchRows: 10 })) {
        batch.records.forEach((values, k) => got.push([values[0], batch.lines[k] as number]));
      }
    }
    assert.deepEqual(got, [
      ['a', 1],
      ['b', 3],
      ['c', 5],
      ['d', 6],
    ]);
  }
});
