/**
 * The command table as users meet it, through the compiled CLI: every command and group answers
 * --help (exit 0, its own options, an example), the top-level help lists them all, mistyped words
 * get a suggestion, and the bash and zsh completion scripts complete commands, subcommands, flags
 * and flag values.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { commandEntries } from '../../src/cli/command-table.ts';
import type { Command, CommandGroup } from '../../src/cli/commands/command-spec.ts';
import { closest } from '../../src/cli/commands/suggest.ts';
import { inBatches, runCli } from '../helpers/run-cli.ts';

/** Every command with the words that select it. */
const COMMANDS: readonly { path: string; command: Command }[] = commandEntries().flatMap((entry) =>
  'commands' in entry
    ? entry.commands.map((command) => ({ path: `${entry.name} ${command.name}`, command }))
    : [{ path: entry.name, command: entry }],
);
const GROUPS = commandEntries().filter((e): e is CommandGroup => 'commands' in e);

test('every command answers --help with exit 0, its usage, every one of its options and an example', async () => {
  assert.ok(COMMANDS.length >= 25, `the table holds ${COMMANDS.length} commands`);
  const results = await inBatches(COMMANDS, ({ path }) => runCli([...path.split(' '), '--help']));
  COMMANDS.forEach(({ path, command }, i) => {
    const { code, stdout, stderr } = results[i] ?? { code: null, stdout: '', stderr: '' };
    assert.equal(code, 0, `stratum ${path} --help: exit ${code}\n${stderr}`);
    assert.equal(stderr, '', `stratum ${path} --help wrote to stderr`);
    assert.ok(stdout.startsWith(`stratum ${path} — ${command.summary}\n`), `stratum ${path} --help:\n${stdout}`);
    assert.match(stdout, new RegExp(`^Usage:\\n {2}stratum ${path}`, 'm'));
    for (const flag of Object.keys(command.options)) {
      assert.match(stdout, new RegExp(`^ {2}(-\\w, )?--${flag}\\b`, 'm'), `stratum ${path} --help lacks --${flag}`);
    }
    for (const arg of command.args)
      assert.ok(stdout.includes(`<${arg.name}>`), `stratum ${path} --help lacks <${arg.name}>`);
    assert.match(stdout, /^Examples:\n {2}\S/m);
  });
});

test('the commands the issue names answer --help, -h and `stratum help …` alike', async () => {
  for (const words of [['train'], ['serve'], ['models', 'push'], ['deploy', 'rollout']]) {
    const long = await runCli([...words, '--help']);
    const short = await runCli([...words, '-h']);
    const viaHelp = await runCli(['help', ...words]);
    assert.equal(long.code, 0, long.stderr);
    assert.equal(short.stdout, long.stdout, `stratum ${words.join(' ')} -h`);
    assert.equal(viaHelp.stdout, long.stdout, `stratum help ${words.join(' ')}`);
  }
  // Help wins over what the rest of the line lacks: no required flag or argument is asked for.
  const partial = await runCli(['deploy', 'rollout', '--strategy', '--help']);
  assert.equal(partial.code, 0, partial.stderr);
  // Wrapped lines joined, so a description reads as one line.
  const unwrapped = async (words: string[]): Promise<string> =>
    (await runCli([...words, '--help'])).stdout.replace(/\n {3,}/g, ' ');
  const serve = await unwrapped(['serve']);
  // Defaults and environment variables come from the configuration schema.
  assert.match(serve, /--http-port <port> +the REST port, 0 for any free one \(default 8000; env STRATUM_HTTP_PORT\)/);
  assert.match(serve, /--no-watch .*\(env STRATUM_WATCH=false\)/);
  const rollout = await unwrapped(['deploy', 'rollout']);
  assert.match(rollout, /--strategy <blue-green\|canary> +blue-green switches .*\(required\)/);
  assert.match(rollout, /--force +roll out even if/);
  assert.match(await unwrapped(['alias', 'set']), /--force +move it even if/);
  assert.match(await unwrapped(['train']), /--force +move the spec's alias even where/);
});

test('the top-level help lists every command; each group lists its commands', async () => {
  for (const words of [[], ['--help'], ['-h'], ['help']]) {
    const main = await runCli(words);
    assert.equal(main.code, 0, main.stderr);
    assert.ok(main.stdout.startsWith('stratum — train, register, serve and monitor models\n'));
    for (const { path } of COMMANDS) assert.match(main.stdout, new RegExp(`^ {2}${path}\\b`, 'm'), `lacks ${path}`);
  }
  for (const group of GROUPS) {
    for (const words of [
      [group.name, '--help'],
      [group.name, 'help'],
      ['help', group.name],
    ]) {
      const help = await runCli(words);
      assert.equal(help.code, 0, help.stderr);
      for (const command of group.commands) {
        assert.match(help.stdout, new RegExp(`^ {2}stratum ${group.name} ${command.name}\\b`, 'm'));
      }
    }
  }
  const bare = await runCli(['deploy']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /^stratum: missing command\nusage: stratum deploy <create\|list\|show\|status/);
});

test('mistyped commands, subcommands, flags and choices get a suggestion and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['modles', 'list'], /^stratum: unknown command "modles"; did you mean "models"\?\n/],
    [
      ['deploy', 'rolout', 'x'],
      /^stratum: unknown command "deploy rolout"; did you mean "rollout"\?\nusage: stratum deploy </,
    ],
    [['runs', 'list', '--experimnet', 'x'], /^stratum: unknown option --experimnet; did you mean --experiment\?\n/],
    [
      ['deploy', 'rollout', 'd', '--strategy', 'canry', '--version', '2'],
      /--strategy must be one of blue-green, canary; got "canry"; did you mean "canary"\?/,
    ],
    [
      ['runs', 'list', '--limit', 'ten'],
      /^stratum: --limit must be an integer, got "ten"\nusage: stratum runs list \[options\]\n$/,
    ],
    [['runs', 'compare', 'one'], /^stratum: give at least 2 <runs>, got 1\n/],
    [['completion', 'fish'], /^stratum: <shell> must be one of bash, zsh; got "fish"\n/],
    [
      ['models', 'push', 'm.onnx'],
      /^stratum: missing --name <model>\nusage: stratum models push <file> --name <model> \[options\]\n$/,
    ],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `stratum ${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.equal(result.stdout, '');
  }
  assert.equal(closest('modles', ['models', 'alias']), 'models');
  assert.equal(closest('dpeloy', ['models', 'deploy']), 'deploy', 'a swap of neighbours is one edit');
  assert.equal(closest('zzz', ['models', 'deploy']), undefined, 'no guess when nothing is close');
});

/** Runs the bash completion function as bash would on `line` (the cursor after its last word). */
function completeInBash(script: string, words: readonly string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(' ');
  const run = spawnSync(
    'bash',
    [
      '-c',
      `source "$1"; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _stratum; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'bash',
      script,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter((l) => l !== '');
}

test('stratum completion bash completes commands, subcommands, flags and their values', async (t) => {
  const result = await runCli(['completion', 'bash']);
  assert.equal(result.code, 0, result.stderr);
  const dir = await mkdtemp(join(tmpdir(), 'stratum-completion-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const script = join(dir, 'stratum.bash');
  await writeFile(script, result.stdout);
  assert.match(result.stdout, /^complete -o filenames -F _stratum stratum$/m);

  const top = completeInBash(script, ['stratum', '']);
  for (const entry of commandEntries()) assert.ok(top.includes(entry.name), `top level lacks ${entry.name}`);
  assert.deepEqual(completeInBash(script, ['stratum', 'de']), ['demo', 'deploy']);
  assert.deepEqual(completeInBash(script, ['stratum', 'deploy', 'ro']), ['rollout']);
  for (const { path, command } of COMMANDS) {
    const offered = completeInBash(script, ['stratum', ...path.split(' '), '--']);
    const flags = Object.keys(command.options).map((f) => `--${f}`);
    assert.deepEqual(offered.sort(), [...flags].sort(), `flags of stratum ${path}`);
  }
  assert.deepEqual(completeInBash(script, ['stratum', 'deploy', 'rollout', 'd', '--strategy', '']), [
    'blue-green',
    'canary',
  ]);
  assert.deepEqual(completeInBash(script, ['stratum', 'runs', 'list', '--status', 's']), ['succeeded']);
  assert.deepEqual(completeInBash(script, ['stratum', 'completion', '']), ['bash', 'zsh']);
  assert.deepEqual(completeInBash(script, ['stratum', 'help', 'deploy', 'ab']), ['abort']);
  assert.deepEqual(completeInBash(script, ['stratum', 'models', 'push', 'f.onnx', '--name', '']), [], 'a free value');
  // A file argument completes file names.
  await writeFile(join(dir, 'spec-one.yaml'), '');
  assert.deepEqual(completeInBash(script, ['stratum', 'train', join(dir, 'spec-')]), [join(dir, 'spec-one.yaml')]);
});

test('stratum completion zsh defines the same completions for zsh', async (t) => {
  const result = await runCli(['completion', 'zsh']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.startsWith('#compdef stratum\n'));
  for (const { path, command } of COMMANDS) {
    assert.ok(result.stdout.includes(`'${path}')`), `no case for ${path}`);
    for (const flag of Object.keys(command.options)) assert.ok(result.stdout.includes(`'--${flag}:`), `--${flag}`);
  }
  const zsh = spawnSync('zsh', ['--version'], { encoding: 'utf8' });
  if (zsh.status !== 0) {
    t.skip('zsh is not installed: the script is checked as text only');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'stratum-completion-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const script = join(dir, '_stratum');
  await writeFile(script, result.stdout);
  assert.equal(spawnSync('zsh', ['-n', script]).status, 0, 'the script parses');
  // Outside a completion widget, `words` and `CURRENT` are plain variables and the completion
  // builtins are stubbed to print what they were offered (zsh filters by prefix itself).
  const complete = (words: readonly string[]): string[] => {
    const run = spawnSync(
      'zsh',
      [
        '-c',
        [
          'compdef() { :; }',
          '_describe() { local -a items; items=("${(@P)2}"); print -rl -- "${items[@]%%:*}"; }',
          'compadd() { shift; print -rl -- "$@"; }',
          '_files() { print -r -- FILES; }',
          `source ${script}`,
          `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; _stratum`,
        ].join('\n'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.split('\n').filter((l) => l !== '');
  };
  assert.ok(complete(['stratum', '']).includes('deploy'));
  assert.deepEqual(complete(['stratum', 'runs', '']), ['list', 'show', 'compare']);
  assert.ok(complete(['stratum', 'deploy', 'rollout', '--']).includes('--strategy'));
  assert.deepEqual(complete(['stratum', 'deploy', 'rollout', 'd', '--strategy', '']), ['blue-green', 'canary']);
  assert.deepEqual(complete(['stratum', 'train', '']), ['FILES']);
});
