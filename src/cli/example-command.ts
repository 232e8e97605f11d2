/**
 * Where the bundled examples and their data are, and the command that trains an example from
 * where the user stands. The flight example specs read vega-datasets at
 * `node_modules/vega-datasets/…` relative to the working directory (the demo rewrites that path,
 * `stratum train` does not), so the command runs in the folder whose node_modules holds the
 * package — a checkout, or the project that installed Stratum — and names the spec from there: a
 * hint that holds in an installed package as well as in a checkout.
 */
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundled example specs: `examples/` of the checkout, or of the installed package. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Where the example specs expect the `vega-datasets` package, relative to the working directory. */
export const VEGA_IN_SPECS = 'node_modules/vega-datasets/';

/** The `vega-datasets` package as Stratum resolves it (its `exports` hide package.json; its entry is build/index.js). */
export function vegaDatasetsDir(): string {
  return dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets')));
}

/** Options of {@link exampleTrainCommand}. */
export interface ExampleCommandOptions {
  /** The spec, absolute. */
  readonly spec: string;
  /** Where the user runs commands. @default process.cwd() */
  readonly cwd?: string;
  /** The vega-datasets package the spec's data path must reach. @default {@link vegaDatasetsDir} */
  readonly vegaDatasets?: string;
}

/**
 * The command that trains `spec` on its full data, typed from `cwd`.
 * @example
 * exampleTrainCommand({ spec: join(EXAMPLES_DIR, 'flights/gbdt.yaml') });
 * // in a checkout:      'npx stratum train examples/flights/gbdt.yaml'
 * // in an app's subdir: 'cd .. && npx stratum train node_modules/stratum/examples/flights/gbdt.yaml'
 */
export function exampleTrainCommand(options: ExampleCommandOptions): string {
  const cwd = resolve(options.cwd ?? process.cwd());
  // The folder in which `node_modules/vega-datasets/` names the package.
  const root = dirname(dirname(options.vegaDatasets ?? vegaDatasetsDir()));
  const command = `npx stratum train ${shellWord(relative(root, options.spec))}`;
  return root === cwd ? command : `cd ${shellWord(relative(cwd, root) || '.')} && ${command}`;
}

/** A path as one shell word. */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
