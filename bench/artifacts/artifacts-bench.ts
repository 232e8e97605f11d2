/**
 * `npm run bench -- --only artifacts`: artifact load time from an encrypted folder store against
 * a plain one, for a few sizes. The same random content is put into both stores, then loaded
 * alternately (plain, encrypted, plain, …) so that load on a shared machine hits both alike:
 * `read()` (the whole artifact in memory, verified: what the model loader does) and a streamed
 * `get()` consumed to the end (what a download does). Both files were just written, so the page
 * cache holds them: the figures are the cost of decrypting and verifying, not of the disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { createFolderArtifactStore } from '../../src/artifacts/folder-artifact-store.ts';
import { createMasterKeyring, parseMasterKey } from '../../src/artifacts/master-keys.ts';
import type { Progress } from '../progress.ts';

const MIB = 1024 * 1024;

/** One size's medians. */
export interface ArtifactsBenchRow {
  readonly sizeMiB: number;
  readonly rounds: number;
  readonly plainReadMs: number;
  readonly encryptedReadMs: number;
  readonly plainStreamMs: number;
  readonly encryptedStreamMs: number;
  readonly plainPutMs: number;
  readonly encryptedPutMs: number;
}

/** Runs the comparison; sizes 1, 64 and 256 MiB (quick: 1 and 64). */
export async function runArtifactsBench(options: { progress: Progress; quick: boolean }): Promise<ArtifactsBenchRow[]> {
  const sizes = options.quick ? [1, 64] : [1, 64, 256];
  const rounds = options.quick ? 3 : 5;
  const dir = await mkdtemp(join(tmpdir(), 'stratum-artifacts-bench-'));
  const keyring = createMasterKeyring({ current: parseMasterKey(randomBytes(32).toString('base64'), 'bench key') });
  const plain = await createFolderArtifactStore({ dir: join(dir, 'plain') });
  const encrypted = await createFolderArtifactStore({ dir: join(dir, 'encrypted'), keyring });
  const rows: ArtifactsBenchRow[] = [];
  try {
    for (const sizeMiB of sizes) {
      options.progress.log(`artifacts: ${sizeMiB} MiB`);
      const content = randomBytes(sizeMiB * MIB);
      const plainPut = await timed(() => plain.put(chunksOf(content)));
      const encryptedPut = await timed(() => encrypted.put(chunksOf(content)));
      const digest = plainPut.value.digest;
      const samples = {
        plainRead: [] as number[],
        encRead: [] as number[],
        plainStream: [] as number[],
        encStream: [] as number[],
      };
      for (let round = 0; round < rounds; round++) {
        samples.plainRead.push((await timed(() => plain.read(digest))).ms);
        samples.encRead.push((await timed(() => encrypted.read(digest))).ms);
        samples.plainStream.push((await timed(() => drain(plain, digest))).ms);
        samples.encStream.push((await timed(() => drain(encrypted, digest))).ms);
      }
      rows.push({
        sizeMiB,
        rounds,
        plainReadMs: median(samples.plainRead),
        encryptedReadMs: median(samples.encRead),
        plainStreamMs: median(samples.plainStream),
        encryptedStreamMs: median(samples.encStream),
        plainPutMs: plainPut.ms,
        encryptedPutMs: encryptedPut.ms,
      });
      await Promise.all([plain.delete(digest), encrypted.delete(digest)]);
    }
  } finally {
    await Promise.allSettled([plain.close(), encrypted.close()]);
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The report's table. */
export function renderArtifactsBench(rows: readonly ArtifactsBenchRow[]): string {
  const lines = [
    '## Artifact load time, encrypted at rest against plain',
    '',
    'Medians of interleaved rounds, warm page cache. `read` loads the whole artifact verified (the model loader); `stream` consumes a streamed `get` to the end. Ratio = encrypted / plain. `put` is one upload each (not a median).',
    '',
    '| size | rounds | read plain | read encrypted | ratio | stream plain | stream encrypted | ratio | put plain | put encrypted | ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.sizeMiB} MiB | ${r.rounds} | ${ms(r.plainReadMs)} | ${ms(r.encryptedReadMs)} | ${ratio(r.encryptedReadMs, r.plainReadMs)} | ${ms(r.plainStreamMs)} | ${ms(r.encryptedStreamMs)} | ${ratio(r.encryptedStreamMs, r.plainStreamMs)} | ${ms(r.plainPutMs)} | ${ms(r.encryptedPutMs)} | ${ratio(r.encryptedPutMs, r.plainPutMs)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

async function drain(store: ArtifactStore, digest: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of await store.get(digest)) bytes += chunk.byteLength;
  return bytes;
}

/** The content in 1 MiB pieces, as an upload arrives. */
async function* chunksOf(content: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < content.length; at += MIB) yield content.subarray(at, at + MIB);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function ms(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}
