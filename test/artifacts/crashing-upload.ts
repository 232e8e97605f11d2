/**
 * Child process for the crash test: starts an upload into the folder store given as argv[2],
 * prints `WRITING` once part of it is on disk, and then hangs until the parent kills it with
 * SIGKILL, the way a power cut or an OOM kill would end a real upload.
 */
import { createFolderArtifactStore } from '../../src/artifacts/folder-artifact-store.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: crashing-upload.ts <store folder>');
const store = await createFolderArtifactStore({ dir });

async function* hangingSource(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 4; i++) yield new Uint8Array(256 * 1024).fill(i + 1);
  // The store asks for the next chunk only after the previous ones are written.
  process.stdout.write('WRITING\n');
  await new Promise(() => {});
}

await store.put(hangingSource());
