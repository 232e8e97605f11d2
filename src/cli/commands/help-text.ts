/**
 * The CLI's help, generated from the command declarations: one command's (`stratum deploy
 * rollout --help`: usage, what it does, arguments, options with their defaults and environment
 * variables, examples), a group's (`stratum deploy --help`) and the top-level one (`stratum
 * --help`). Text is wrapped to 100 columns so it reads in any terminal.
 */
import { usageLine } from './command-context.ts';
import type { ArgumentSpec, Command, CommandGroup, OptionSpec } from './command-spec.ts';

/** A titled part of the top-level help: commands and groups, in order. */
export interface HelpSection {
  readonly title: string;
  readonly entries: readonly (Command | CommandGroup)[];
}

const WIDTH = 100;
/** Flags longer than this put their description on the next line. */
const LABEL_MAX = 34;
/** Likewise for the commands of the top-level help (`alias set <model> <alias> <version>`). */
const COMMAND_LABEL_MAX = 36;

/** Wraps `text` to the page width, every line starting with `indent`. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}

/** Label/description rows as an aligned two-column list. */
function twoColumns(rows: readonly (readonly [string, string])[], labelMax = LABEL_MAX): string {
  const width = Math.min(labelMax, Math.max(0, ...rows.map(([label]) => label.length)));
  return rows
    .map(([label, text]) => {
      const indent = ' '.repeat(2 + width + 2);
      if (label.length > width) return `  ${label}\n${wrap(text, indent)}`;
      return `  ${label.padEnd(width)}  ${wrap(text, indent).slice(indent.length)}`;
    })
    .join('\n');
}

/** What the help says about the settings flags override: their defaults and environment variables. */
export interface SettingDocs {
  /** The setting's default (`httpPort` → 8000), undefined when it has none. */
  defaultOf(path: string): unknown;
  /** The setting's environment variable (`httpPort` → `STRATUM_HTTP_PORT`). */
  envOf(path: string): string | undefined;
}

/**
 * The settings' documentation, from the configuration schema. Loaded on demand: the schema pulls
 * in zod, which the top-level help and the completion scripts do without.
 */
export async function loadSettingDocs(): Promise<SettingDocs> {
  const { ConfigSchema, SETTING_ENV_VARS } = await import('../../config/index.ts');
  const defaults: unknown = ConfigSchema.parse({});
  return {
    defaultOf(path) {
      let node = defaults;
      for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
      return node;
    },
    envOf: (path) => SETTING_ENV_VARS[path],
  };
}

function optionLabel(name: string, option: OptionSpec): string {
  const flag = `${option.short === undefined ? '' : `-${option.short}, `}--${name}`;
  if (option.type === 'boolean') return flag;
  const value = option.value ?? option.choices?.join('|') ?? 'value';
  return `${flag} <${value}>${option.multiple === true ? '…' : ''}`;
}

function optionText(option: OptionSpec, settings: SettingDocs): string {
  const notes: string[] = [];
  if (option.choices !== undefined && option.value !== undefined) notes.push(`one of ${option.choices.join(', ')}`);
  const env = option.setting === undefined ? undefined : settings.envOf(option.setting);
  if (option.negates === true) {
    if (env !== undefined) notes.push(`env ${env}=false`);
  } else {
    const fallback = option.setting === undefined ? undefined : settings.defaultOf(option.setting);
    const shown = option.default ?? (fallback === undefined ? undefined : String(fallback));
    if (shown !== undefined) notes.push(`default ${shown}`);
    if (env !== undefined) notes.push(`env ${env}`);
  }
  if (option.required === true) notes.push('required');
  return notes.length === 0 ? option.description : `${option.description} (${notes.join('; ')})`;
}

function argumentLabel(arg: ArgumentSpec): string {
  return `<${arg.name}>${arg.variadic === undefined ? '' : '…'}`;
}

/** `stratum deploy rollout --help`. */
export function commandHelp(path: string, command: Command, settings: SettingDocs): string {
  const own = Object.entries(command.options).filter(([, o]) => o.common !== true);
  const common = Object.entries(command.options).filter(([, o]) => o.common === true);
  const usage = command.usage ?? [usageLine(path, command)];
  const parts = [
    `${path} — ${command.summary}`,
    `Usage:\n${usage.map((u) => `  ${u}`).join('\n')}`,
    wrap(command.description ?? command.summary, ''),
  ];
  if (command.args.length > 0) {
    parts.push(
      `Arguments:\n${twoColumns(command.args.map((a) => [argumentLabel(a), a.description + (a.choices === undefined ? '' : ` (one of ${a.choices.join(', ')})`)]))}`,
    );
  }
  if (own.length > 0)
    parts.push(`Options:\n${twoColumns(own.map(([name, o]) => [optionLabel(name, o), optionText(o, settings)]))}`);
  parts.push(
    `Common options:\n${twoColumns(common.map(([name, o]) => [optionLabel(name, o), optionText(o, settings)]))}`,
  );
  if (command.examples.length > 0) parts.push(`Examples:\n${command.examples.map((e) => `  ${e}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}

/** `stratum deploy --help`. */
export function groupHelp(group: CommandGroup): string {
  const rows = group.commands.map((c) => [usageLine(`stratum ${group.name} ${c.name}`, c), c.summary] as const);
  return [
    `stratum ${group.name} — ${group.summary}`,
    `Usage:\n  stratum ${group.name} <command> [arguments] [options]`,
    `Commands:\n${rows.map(([usage, summary]) => `  ${usage}\n${wrap(summary, '      ')}`).join('\n')}`,
    `\`stratum ${group.name} <command> --help\` shows a command's options, defaults and examples.\n`,
  ].join('\n\n');
}

function entryRows(entry: Command | CommandGroup): [string, string][] {
  if ('commands' in entry) {
    return entry.commands.map((c) => [
      [
        `${entry.name} ${c.name}`,
        ...c.args.map((a) => (a.optional === true ? `[${argumentLabel(a)}]` : argumentLabel(a))),
      ].join(' '),
      c.summary,
    ]);
  }
  const args = entry.args.map((a) => (a.optional === true ? `[${argumentLabel(a)}]` : argumentLabel(a)));
  return [[[entry.name, ...args].join(' '), entry.summary]];
}

/** `stratum --help`. */
export function mainHelp(sections: readonly HelpSection[]): string {
  return [
    'stratum — train, register, serve and monitor models',
    'Usage:\n  stratum <command> [<subcommand>] [arguments] [options]',
    ...sections.map((s) => `${s.title}:\n${twoColumns(s.entries.flatMap(entryRows), COMMAND_LABEL_MAX)}`),
    wrap(
      'Every command takes --help (-h) for its options, defaults and examples, and --log-level debug to print the stack trace of an error. The registry, runs and datasets commands talk to a running server (--url, default STRATUM_URL or http://127.0.0.1:8000) and take --json for scripts: the reply as JSON on stdout, an error as one JSON line on stderr.',
      '',
    ),
    'Exit codes: 0 done, 1 failed, 2 a usage mistake, 3 a rollout --wait that ended rolled back.\n',
  ].join('\n\n');
}
