/**
 * Writes the fixture models in the model-repository layout the server loads:
 * `<dir>/<name>/1/model.onnx`. Used by `scripts/make-fixtures.ts`, tests and the demo.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FIXTURE_NAMES, FIXTURES, type FixtureName } from './fixtures.ts';

/** Options for {@link writeFixtureRepository}. */
export interface WriteFixtureRepositoryOptions {
  /** Repository root; created if missing. */
  readonly dir: string;
  /** Fixtures to write. @default every fixture in `FIXTURES` */
  readonly only?: readonly FixtureName[];
}

/** One model file that {@link writeFixtureRepository} wrote or found already up to date. */
export interface WrittenFixture {
  readonly name: FixtureName;
  /** Path of `model.onnx`. */
  readonly path: string;
  /** File size in bytes. */
  readonly size: number;
  /** `unchanged` when the file already held exactly these bytes and was left alone. */
  readonly status: 'written' | 'unchanged';
}

/**
 * Builds the fixtures and writes them as version 1 of a model each. Idempotent: the bytes are
 * deterministic, and a file that already holds them is not rewritten.
 *
 * @example
 * ```ts
 * const written = await writeFixtureRepository({ dir: await mkdtemp(join(tmpdir(), 'models-')), only: ['mlp'] })
 * ```
 */
export async function writeFixtureRepository(options: WriteFixtureRepositoryOptions): Promise<WrittenFixture[]> {
  const names = options.only ?? FIXTURE_NAMES;
  for (const name of names) {
    if (!Object.hasOwn(FIXTURES, name)) {
      throw new RangeError(`unknown fixture "${name}"; known fixtures: ${FIXTURE_NAMES.join(', ')}`);
    }
  }
  const written: WrittenFixture[] = [];
  for (const name of names) {
    const bytes = FIXTURES[name].build();
    const versionDir = join(options.dir, name, '1');
    const path = join(versionDir, 'model.onnx');
    await mkdir(versionDir, { recursive: true });
    if (await holds(path, bytes)) {
      written.push({ name, path, size: bytes.length, status: 'unchanged' });
      continue;
    }
    // Write then rename, so a server watching the repository never loads a half-written file.
    const partial = `${path}.${process.pid}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, path);
    written.push({ name, path, size: bytes.length, status: 'written' });
  }
  return written;
}

async function holds(path: string, bytes: Uint8Array): Promise<boolean> {
  try {
    return Buffer.from(bytes).equals(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
