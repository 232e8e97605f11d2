/**
 * No Docker engine runs on these machines, so the image is checked without building it: the
 * Dockerfile parses and validates (dockerfile-utils, the linter behind VS Code's Docker support),
 * follows the rules the image promises (multi-stage, pinned base, production dependencies only,
 * non-root, a health check on readiness, exec-form entry point), every file it copies from the
 * build context exists and is not excluded by .dockerignore, every `STRATUM_*` it sets is a setting
 * Stratum reads, and the runtime stage holds everything the package ships to run.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { CONFIG_ENV_VARS, loadConfig } from '../../src/config/index.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEXT = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(TEXT);

/** The instructions of each stage, in order, by stage name. */
function stages(): { name: string; image: string; instructions: Instruction[] }[] {
  const result: { name: string; image: string; instructions: Instruction[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const args = instruction.getArguments().map((a) => a.getValue());
      result.push({ name: args[2] ?? '', image: args[0] ?? '', instructions: [] });
    } else {
      result.at(-1)?.instructions.push(instruction);
    }
  }
  return result;
}

/** A COPY's sources and destination, without its flags. */
function copyPaths(instruction: Instruction): string[] {
  return instruction
    .getArguments()
    .map((a) => a.getValue())
    .filter((a) => !a.startsWith('--'));
}

/** The stage a COPY takes its files from, if not the build context. */
function copyFrom(instruction: Instruction): string | undefined {
  return (instruction as Copy).getFromFlag?.()?.getValue() ?? undefined;
}

function of(instructions: readonly Instruction[], keyword: string): Instruction[] {
  return instructions.filter((i) => i.getKeyword() === keyword);
}

/** `.dockerignore` patterns as path prefixes and simple globs (the only forms the file uses). */
function ignored(path: string): boolean {
  const patterns = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return patterns.some((pattern) => {
    if (pattern.startsWith('*.')) return path.endsWith(pattern.slice(1));
    const clean = pattern.replace(/\/$/, '');
    return path === clean || path.startsWith(`${clean}/`);
  });
}

test('the Dockerfile parses and validates with no error or warning', () => {
  const problems = validate(TEXT).filter(
    (d) => d.severity === ValidationSeverity.ERROR || d.severity === ValidationSeverity.WARNING,
  );
  assert.deepEqual(
    problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`),
    [],
  );
});

test('the image is multi-stage: a build stage, then a slim runtime with production dependencies only, non-root', () => {
  const all = stages();
  assert.ok(all.length >= 2, 'at least a build and a runtime stage');
  const build = all[0];
  const runtime = all.at(-1);
  assert.ok(build !== undefined && runtime !== undefined);
  const args = Object.fromEntries(
    dockerfile.getInitialARGs().map((a) => [a.getProperty()?.getName(), a.getProperty()?.getValue()]),
  );
  for (const stage of all) {
    assert.notEqual(stage.name, '', `stage ${stage.image} is named (FROM … AS name)`);
    const image = stage.image.replace(/\$\{(\w+)\}/g, (_, name: string) => String(args[name]));
    assert.match(image, /^node:\d+-[a-z]+-slim$/, `${stage.name}: a pinned, slim Node base image (got ${image})`);
  }
  const buildRuns = of(build.instructions, 'RUN').map((r) => r.getArgumentsContent() ?? '');
  assert.ok(
    buildRuns.some((r) => r.includes('npm run build')),
    'the build stage compiles',
  );
  const runtimeRuns = of(runtime.instructions, 'RUN').map((r) => r.getArgumentsContent() ?? '');
  assert.ok(
    runtimeRuns.some((r) => /npm ci\b.*--omit=dev/.test(r)),
    'the runtime stage installs production dependencies only',
  );
  const copiedFromBuild = of(runtime.instructions, 'COPY')
    .filter((c) => copyFrom(c) === build.name)
    .map((c) => copyPaths(c)[0]);
  assert.ok(copiedFromBuild.includes('/src/dist/'), 'the compiled dist/ comes from the build stage');

  const users = of(runtime.instructions, 'USER').map((u) => u.getArgumentsContent());
  assert.ok(users.length > 0, 'the runtime stage sets a user');
  assert.ok(!['root', '0'].includes(users.at(-1) ?? 'root'), `runs as a non-root user, got ${users.at(-1)}`);
  const lastUser = runtime.instructions.lastIndexOf(of(runtime.instructions, 'USER').at(-1) as Instruction);
  const entry = runtime.instructions.findIndex((i) => i.getKeyword() === 'ENTRYPOINT');
  assert.ok(lastUser < entry, 'the user is set before the entry point');

  for (const keyword of ['ENTRYPOINT', 'CMD']) {
    const [instruction] = of(runtime.instructions, keyword);
    assert.ok(instruction !== undefined, `${keyword} is set`);
    assert.doesNotThrow(() => JSON.parse(instruction.getArgumentsContent() ?? ''), `${keyword} in exec (JSON) form`);
  }
  for (const workdir of of(dockerfile.getInstructions(), 'WORKDIR')) {
    assert.match(workdir.getArgumentsContent() ?? '', /^\//, 'WORKDIR is absolute');
  }
});

test('the health check asks /v2/health/ready on the port the image serves on', () => {
  const runtime = stages().at(-1);
  assert.ok(runtime !== undefined);
  const [healthcheck] = of(runtime.instructions, 'HEALTHCHECK');
  assert.ok(healthcheck !== undefined, 'HEALTHCHECK is set');
  const content = healthcheck.getArgumentsContent() ?? '';
  assert.match(content, /\/v2\/health\/ready/);
  assert.match(content, /STRATUM_HTTP_PORT/);
  const exposed = of(runtime.instructions, 'EXPOSE').flatMap((e) => e.getArguments().map((a) => a.getValue()));
  const env = runtimeEnv();
  assert.deepEqual(exposed.sort(), [env['STRATUM_HTTP_PORT'], env['STRATUM_GRPC_PORT']].sort());
});

function runtimeEnv(): Record<string, string> {
  const runtime = stages().at(-1);
  assert.ok(runtime !== undefined);
  const env: Record<string, string> = {};
  for (const instruction of of(runtime.instructions, 'ENV')) {
    for (const property of (
      instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
    ).getProperties()) {
      env[property.getName()] = property.getValue() ?? '';
    }
  }
  return env;
}

test('every STRATUM_* variable the image sets is a setting Stratum reads, with a valid value', () => {
  const env = Object.fromEntries(Object.entries(runtimeEnv()).filter(([name]) => name.startsWith('STRATUM_')));
  assert.ok(Object.keys(env).length >= 4, 'the image configures Stratum through the environment');
  for (const name of Object.keys(env))
    assert.ok(CONFIG_ENV_VARS.includes(name), `${name} is not a setting Stratum reads`);
  const config = loadConfig({ env });
  assert.equal(config.host, '0.0.0.0', 'listens beyond the container');
});

test('every file the Dockerfile copies from the build context exists and is not excluded by .dockerignore', () => {
  const sources: string[] = [];
  for (const copy of [...of(dockerfile.getInstructions(), 'COPY'), ...of(dockerfile.getInstructions(), 'ADD')]) {
    if (copyFrom(copy) !== undefined) continue;
    sources.push(...copyPaths(copy).slice(0, -1));
  }
  assert.ok(sources.length > 0);
  for (const source of sources) {
    const path = source.replace(/\/$/, '');
    assert.ok(existsSync(join(REPO_ROOT, path)), `COPY ${source}: no such file in the repository`);
    assert.ok(!ignored(path), `COPY ${source}: excluded by .dockerignore`);
  }
  for (const heavy of ['node_modules', '.git', 'dist', '.stratum']) {
    assert.ok(ignored(heavy), `.dockerignore keeps ${heavy} out of the build context`);
  }
});

test('the runtime stage holds everything the package ships to run', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
  const runtime = stages().at(-1);
  assert.ok(runtime !== undefined);
  const copied = of(runtime.instructions, 'COPY').map((c) => copyPaths(c).at(-1) ?? '');
  // Install-time and informational files are not needed in the image.
  const needed = pkg.files.filter((f) => !f.startsWith('!') && f !== 'CHANGELOG.md' && !f.startsWith('scripts/'));
  for (const file of needed) assert.ok(copied.includes(file), `the image copies ${file}`);
});
