/**
 * A pipeline spec file as a person writes it: YAML or JSON, its `train:` a path to a training
 * spec or the spec inline, relative paths relative to the file. Read into the stored form (the
 * training spec inline, `baseDir` the file's folder unless given) and checked.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { readYamlFile } from '../config/read-yaml-file.ts';
import { StratumError } from '../errors/index.ts';
import { parsePipelineSpec, type PipelineSpec } from './pipeline-spec.ts';

/** Reads, completes and checks a pipeline spec file. @throws StratumError naming the file and field */
export async function readPipelineFile(path: string): Promise<PipelineSpec> {
  const absolute = resolve(path);
  const raw = await readYamlFile(absolute, 'pipeline spec');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new StratumError('BAD_REQUEST', `invalid pipeline spec ${path}: expected a mapping of fields`);
  }
  const spec = { ...(raw as Record<string, unknown>) };
  const folder = dirname(absolute);
  if (typeof spec['baseDir'] === 'string' && !isAbsolute(spec['baseDir'])) {
    spec['baseDir'] = resolve(folder, spec['baseDir']);
  }
  spec['baseDir'] ??= folder;
  if (typeof spec['train'] === 'string') {
    spec['train'] = await readYamlFile(resolve(folder, spec['train']), 'training spec');
  }
  return parsePipelineSpec(spec, `pipeline spec ${path}`);
}
