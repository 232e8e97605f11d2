/** Reads a YAML or JSON file a person wrote (a spec, a rules file), naming the file in every error. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { StratumError } from '../errors/index.ts';

/**
 * The parsed file.
 * @throws StratumError NOT_FOUND when it cannot be read, BAD_REQUEST when it is not YAML; `what` names it.
 */
export async function readYamlFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StratumError('NOT_FOUND', `${path}: cannot read the ${what} (${(error as Error).message})`);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new StratumError('BAD_REQUEST', `${path}: not valid YAML or JSON: ${(error as Error).message}`);
  }
}
