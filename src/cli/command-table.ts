/**
 * Every command of the `stratum` CLI, in the order the top-level help lists them. The dispatcher,
 * every `--help`, the suggestions for a mistyped word and the completion scripts all read this one
 * table; a command exists exactly when it is here.
 */
import { ALIAS_GROUP } from './commands/alias-command.ts';
import { ARTIFACTS_GROUP } from './commands/artifacts-command.ts';
import { AUDIT_GROUP } from './commands/audit-command.ts';
import { batchCommand } from './commands/batch-command.ts';
import { cardCommand } from './commands/card-command.ts';
import { evaluateCommand } from './commands/evaluate-command.ts';
import { feedbackCommand } from './commands/feedback-command.ts';
import { type Command, type CommandGroup, defineCommand, GLOBAL_OPTIONS } from './commands/command-spec.ts';
import { COMPLETION_SHELLS, completionScript } from './commands/completion-script.ts';
import { DATASETS_GROUP } from './commands/datasets-command.ts';
import { DEPLOY_GROUP } from './commands/deploy-command.ts';
import { commandHelp, groupHelp, type HelpSection, loadSettingDocs, mainHelp } from './commands/help-text.ts';
import { MODELS_GROUP } from './commands/models-command.ts';
import { RUNS_GROUP } from './commands/runs-command.ts';
import { demoCommand, serveCommand } from './commands/server-commands.ts';
import { didYouMean } from './commands/suggest.ts';
import { trainCommand } from './commands/train-command.ts';
import { workerCommand } from './commands/worker-command.ts';
import { JOBS_GROUP } from './commands/jobs-command.ts';
import { PIPELINE_GROUP } from './commands/pipeline-command.ts';
import { KEYS_GROUP, loginCommand } from './commands/keys-command.ts';
import { tuneCommand } from './commands/tune-command.ts';

const completion = defineCommand({
  name: 'completion',
  summary: 'Print a shell completion script for bash or zsh',
  description:
    'Print a script that completes commands, subcommands, flags and their values in bash or zsh. Load it in the current shell with `source <(stratum completion bash)`, or save it where the shell loads completions.',
  args: [{ name: 'shell', description: 'the shell', choices: COMPLETION_SHELLS }],
  options: GLOBAL_OPTIONS,
  examples: [
    'source <(stratum completion bash)',
    'stratum completion bash > ~/.local/share/bash-completion/completions/stratum',
    'stratum completion zsh > "${fpath[1]}/_stratum"',
  ],
  async run(cmd) {
    cmd.io.stdout.write(completionScript(cmd.args.shell, commandEntries()));
    return 0;
  },
});

const help = defineCommand({
  name: 'help',
  summary: 'Show the help of stratum, of a group or of a command',
  args: [
    { name: 'command', description: 'a command or group, e.g. deploy', optional: true },
    { name: 'subcommand', description: "one of the group's commands, e.g. rollout", optional: true },
  ],
  options: GLOBAL_OPTIONS,
  examples: ['stratum help', 'stratum help deploy', 'stratum help deploy rollout'],
  async run(cmd) {
    const words = [cmd.args.command, cmd.args.subcommand].filter((w) => w !== undefined);
    cmd.io.stdout.write(await helpFor(words, cmd));
    return 0;
  },
});

/** The top-level help's sections: every command and group, in order. */
export const COMMAND_SECTIONS: readonly HelpSection[] = [
  {
    title: 'Run in this process',
    entries: [
      serveCommand,
      workerCommand,
      demoCommand,
      trainCommand,
      tuneCommand,
      evaluateCommand,
      batchCommand,
      AUDIT_GROUP,
    ],
  },
  {
    title: 'Talk to a running server',
    entries: [
      MODELS_GROUP,
      cardCommand,
      ALIAS_GROUP,
      DEPLOY_GROUP,
      RUNS_GROUP,
      DATASETS_GROUP,
      JOBS_GROUP,
      PIPELINE_GROUP,
      feedbackCommand,
      ARTIFACTS_GROUP,
      KEYS_GROUP,
      loginCommand,
    ],
  },
  { title: 'Shell', entries: [completion, help] },
];

/** Every command and group. */
export function commandEntries(): readonly (Command | CommandGroup)[] {
  return COMMAND_SECTIONS.flatMap((s) => s.entries);
}

/** What the words at the start of a command line select. */
export type Selection =
  | { readonly kind: 'main' }
  | { readonly kind: 'group'; readonly group: CommandGroup }
  | { readonly kind: 'command'; readonly command: Command; readonly path: string; readonly rest: readonly string[] };

/** A word that is not a command (or subcommand): the message, with the closest real one. */
export interface UnknownWord {
  readonly kind: 'unknown';
  readonly message: string;
  /** The usage line of the level the word was not found at. */
  readonly help: string;
}

/** Finds the command the first words of `argv` name. */
export function selectCommand(argv: readonly string[]): Selection | UnknownWord {
  const [first, second, ...rest] = argv;
  if (first === undefined || first.startsWith('-')) return { kind: 'main' };
  const entries = commandEntries();
  const entry = entries.find((e) => e.name === first);
  if (entry === undefined) {
    return {
      kind: 'unknown',
      message: `unknown command "${first}"${didYouMean(
        first,
        entries.map((e) => e.name),
      )}`,
      help: MAIN_USAGE,
    };
  }
  if (!('commands' in entry))
    return { kind: 'command', command: entry, path: `stratum ${entry.name}`, rest: argv.slice(1) };
  if (second === undefined || second.startsWith('-') || second === 'help') return { kind: 'group', group: entry };
  const command = entry.commands.find((c) => c.name === second);
  if (command === undefined) {
    return {
      kind: 'unknown',
      message: `unknown command "${entry.name} ${second}"${didYouMean(
        second,
        entry.commands.map((c) => c.name),
      )}`,
      help: groupUsage(entry),
    };
  }
  return { kind: 'command', command, path: `stratum ${entry.name} ${command.name}`, rest };
}

/** The usage line of `stratum` itself. */
export const MAIN_USAGE = 'stratum <command> [arguments] [options] (stratum --help lists the commands)';

/** `stratum deploy <create|list|…> [arguments] [options]`. */
export function groupUsage(group: CommandGroup): string {
  return `stratum ${group.name} <${group.commands.map((c) => c.name).join('|')}> [arguments] [options]`;
}

/** The help `stratum help <words…>` shows; a usage error for words that name nothing. */
async function helpFor(words: readonly string[], cmd: { usageError(message: string): Error }): Promise<string> {
  const selection = selectCommand(words);
  if (selection.kind === 'unknown') throw cmd.usageError(selection.message);
  if (selection.kind === 'main') return mainHelp(COMMAND_SECTIONS);
  if (selection.kind === 'group') return groupHelp(selection.group);
  return commandHelp(selection.path, selection.command, await loadSettingDocs());
}
