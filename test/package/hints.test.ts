/**
 * Hints the installed package gives point at things that exist there. What the CLI prints (every
 * string literal of `src/cli` and `bin/`) names no file by a checkout-relative path and no command
 * an installed package lacks (`npm run …`, `node bin/…`, tsx), unless it says it is about a
 * checkout; the example specs, read by users beside the code, name only files in the package's
 * own file list (`npm pack --dry-run`). The hint whose path depends on where the user stands, the
 * full flights run the demo suggests, is checked from a checkout, from other folders and as an
 * installed package would print it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { EXAMPLES_DIR, exampleTrainCommand, VEGA_IN_SPECS } from '../../src/cli/example-command.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A path into the package as a hint would write it: a folder of the checkout, then a file name. */
const PATH_HINT =
  /(?<![\w./-])(?:examples|scripts|bin|docs|test|bench|src)\/[\w./-]*\w\.[a-z]+\b|\b(?:README|CHANGELOG)\.md\b/g;
/** Commands an installed package does not have. */
const CHECKOUT_COMMAND = /\bnpm run\b|\bnode (?:\.\/)?bin\/|\btsx\b|--import tsx/;

/** The files `npm pack` would put in the tarball (without building: hints never name dist/). */
async function packedFiles(): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { files: { path: string }[] }[];
  assert.ok(info !== undefined);
  return new Set(info.files.map((f) => f.path));
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every string the module could print: its string and template literals, import specifiers left out. */
function printedStrings(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const strings: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) strings.push(node.text);
    else if (ts.isTemplateExpression(node)) {
      strings.push([node.head.text, ...node.templateSpans.map((span) => span.literal.text)].join('…'));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return strings;
}

/** What the CLI prints (the string literals of `src/cli` and `bin/`), each with its file. */
async function printedByCli(): Promise<{ where: string; text: string }[]> {
  const found: { where: string; text: string }[] = [];
  const code = [...(await filesUnder(join(REPO_ROOT, 'src/cli'))), ...(await filesUnder(join(REPO_ROOT, 'bin')))];
  for (const file of code.filter((f) => /\.[cm]?[jt]s$/.test(f))) {
    for (const text of printedStrings(file, await readFile(file, 'utf8'))) {
      found.push({ where: relative(REPO_ROOT, file), text });
    }
  }
  return found;
}

test('the CLI names no file by a checkout path and gives no command only a checkout has', async () => {
  const printed = await printedByCli();
  assert.ok(printed.length > 100, `the CLI's strings were read: ${printed.length}`);
  assert.ok(
    printed.some((p) => p.where === 'src/cli/demo.ts' && p.text === 'flights/gbdt-sample.yaml'),
    'the literals are read',
  );
  assert.deepEqual('npx stratum train examples/flights/gbdt.yaml'.match(PATH_HINT), ['examples/flights/gbdt.yaml']);
  for (const { where, text } of printed) {
    // Unless the text says it is about a checkout: a path printed as `examples/…` is relative to
    // the user's folder, where an installed package's files are not; the CLI locates them from
    // its own module (example-command.ts) instead.
    if (/\bcheckout\b/.test(text)) continue;
    assert.deepEqual(text.match(PATH_HINT), null, `${where}: "${text}" names a path of the checkout`);
    assert.doesNotMatch(text, CHECKOUT_COMMAND, `${where}: "${text}" gives a command only a checkout has`);
  }
});

test('the example specs name only files the package ships, and no command only a checkout has', async () => {
  const packed = await packedFiles();
  assert.ok(packed.has('examples/flights/gbdt.yaml') && packed.has('bin/stratum.js'), 'the file list is read');
  const specs = await filesUnder(join(REPO_ROOT, 'examples'));
  assert.ok(specs.length > 0);
  for (const file of specs) {
    const where = relative(REPO_ROOT, file);
    assert.ok(packed.has(where), `${where} ships`);
    const text = await readFile(file, 'utf8');
    for (const [path] of text.matchAll(PATH_HINT)) {
      assert.ok(packed.has(path), `${where} names ${path}, which the package does not ship`);
    }
    assert.doesNotMatch(text, CHECKOUT_COMMAND, `${where} gives a command only a checkout has`);
  }
});

test('the full flights run the demo suggests names a spec and a folder that exist, from anywhere', async () => {
  const spec = join(EXAMPLES_DIR, 'flights/gbdt.yaml');
  const packed = await packedFiles();
  assert.equal(exampleTrainCommand({ spec, cwd: REPO_ROOT }), 'npx stratum train examples/flights/gbdt.yaml');
  assert.ok(packed.has('examples/flights/gbdt.yaml'));
  assert.match(await readFile(spec, 'utf8'), new RegExp(VEGA_IN_SPECS), 'the spec reads vega-datasets from the folder');

  for (const cwd of [tmpdir(), join(REPO_ROOT, 'examples/spam')]) {
    const command = exampleTrainCommand({ spec, cwd });
    const match = /^cd (\S+) && npx stratum train (\S+)$/.exec(command);
    assert.ok(match, `from ${cwd}: ${command}`);
    const folder = resolve(cwd, match[1] as string);
    assert.ok(existsSync(join(folder, match[2] as string)), `${command}: the spec exists from the folder`);
    assert.ok(existsSync(join(folder, VEGA_IN_SPECS, 'data/flights-3m.parquet')), `${command}: so does its data`);
  }

  // An installed package: vega-datasets beside it in the project's node_modules.
  const project = join(tmpdir(), 'some project');
  const installed = exampleTrainCommand({
    spec: join(project, 'node_modules/stratum/examples/flights/gbdt.yaml'),
    cwd: join(project, 'demo'),
    vegaDatasets: join(project, 'node_modules/vega-datasets'),
  });
  assert.equal(installed, 'cd .. && npx stratum train node_modules/stratum/examples/flights/gbdt.yaml');
});
