/** Stratum's version, read once from package.json. */
import { readFileSync } from 'node:fs';

/** The package version, e.g. `0.1.0`. */
export const STRATUM_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
