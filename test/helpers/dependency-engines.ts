/**
 * Which installed production dependencies leave out part of the Node range a package promises in
 * its `engines`: the packages its `dependencies` (and installed `optionalDependencies` and
 * `peerDependencies`) resolve to, found the way Node resolves them, transitively. Used on the
 * checkout's node_modules (what the lock installs) and on a packed install (what users get).
 */
import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import semver from 'semver';

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly engines?: { readonly node?: string };
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/** A dependency whose `engines.node` does not cover the whole promised range. */
export interface EngineConflict {
  readonly name: string;
  readonly version: string;
  /** Its `engines.node`. */
  readonly node: string;
  /** How it is reached from the root package. */
  readonly via: readonly string[];
}

/** Options of {@link productionEngineConflicts}. */
export interface EngineCheckOptions {
  /** The folder of the package whose dependencies are checked. */
  readonly root: string;
  /** The promised range. @default the root package's own `engines.node` */
  readonly node?: string;
}

async function manifestOf(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The folder `name` resolves to from `dir` (node_modules here, then in each parent), if installed. */
function resolvePackage(dir: string, name: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(at) === at) return undefined;
  }
}

/** Every production dependency whose `engines.node` leaves out a version of the promised range. */
export async function productionEngineConflicts(options: EngineCheckOptions): Promise<EngineConflict[]> {
  const rootManifest = await manifestOf(options.root);
  const promised = options.node ?? rootManifest.engines?.node;
  if (promised === undefined) throw new Error(`${options.root}/package.json declares no engines.node`);
  const conflicts: EngineConflict[] = [];
  const seen = new Set<string>();
  const queue: { dir: string; via: readonly string[] }[] = [{ dir: realpathSync(options.root), via: [] }];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const manifest = await manifestOf(next.dir);
    const node = manifest.engines?.node;
    if (next.via.length > 0 && node !== undefined && !semver.subset(promised, node)) {
      conflicts.push({ name: manifest.name, version: manifest.version, node, via: next.via });
    }
    const optional = Object.keys(manifest.optionalDependencies ?? {});
    const required = Object.keys(manifest.dependencies ?? {}).filter((name) => !optional.includes(name));
    const ifInstalled = [...optional, ...Object.keys(manifest.peerDependencies ?? {})];
    for (const name of [...required, ...ifInstalled]) {
      const dir = resolvePackage(next.dir, name);
      if (dir === undefined) {
        if (required.includes(name)) throw new Error(`${name} (required by ${manifest.name}) is not installed`);
        continue;
      }
      if (seen.has(dir)) continue;
      seen.add(dir);
      queue.push({ dir, via: [...next.via, `${manifest.name}@${manifest.version}`] });
    }
  }
  return conflicts;
}

/** One line per conflict, for an assertion message. */
export function describeConflicts(conflicts: readonly EngineConflict[]): string {
  return conflicts.map((c) => `${c.name}@${c.version} needs node ${c.node} (via ${c.via.join(' → ')})`).join('\n');
}
