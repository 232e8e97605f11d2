/**
 * The `stratum` command line: a thin shell over the library. The words of a command line select a
 * command in the command table (`command-table.ts`); its declaration parses the rest and its
 * handler calls the same functions the tests call — `serve`, `demo` and `train` in this process,
 * the registry, runs and datasets groups over a running server's management API, so they share
 * its error codes and messages. Every failure is reported once, by `report-error.ts`.
 */
import { STRATUM_VERSION } from '../version.ts';
import { COMMAND_SECTIONS, groupUsage, MAIN_USAGE, type Selection, selectCommand } from './command-table.ts';
import { parseCommand, wantsHelp } from './commands/command-context.ts';
import type { CommandIo } from './commands/command-spec.ts';
import { commandHelp, groupHelp, loadSettingDocs, mainHelp } from './commands/help-text.ts';
import { flagOfSetting } from './commands/setting-overrides.ts';
import { CliUsageError } from './commands/usage-error.ts';
import { reportError } from './report-error.ts';

/** Runs the selected command; resolves with the exit code. */
async function run(
  selection: Exclude<Selection, { kind: 'main' }>,
  argv: readonly string[],
  io: CommandIo,
): Promise<number> {
  if (selection.kind === 'group') {
    const word = argv[1];
    if (word === 'help' || word === '--help' || word === '-h') {
      io.stdout.write(groupHelp(selection.group));
      return 0;
    }
    throw new CliUsageError(
      word === undefined ? 'missing command' : `expected a command before ${word}`,
      groupUsage(selection.group),
    );
  }
  if (wantsHelp(selection.rest)) {
    io.stdout.write(commandHelp(selection.path, selection.command, await loadSettingDocs()));
    return 0;
  }
  // The configuration module is light (zod and the schema); the server's modules load only when
  // a command that runs one starts. The default server is read only by a command that talks to one.
  const { loadConfig } = await import('../config/load-config.ts');
  const cmd = parseCommand(selection.command, {
    argv: selection.rest,
    path: selection.path,
    io,
    defaultUrl: () => loadConfig().apiUrl,
  });
  return selection.command.run(cmd);
}

/** The `STRATUM_LOG_LEVEL` setting, or undefined when the configuration itself is what failed. */
async function configuredLogLevel(): Promise<string | undefined> {
  try {
    const { loadConfig } = await import('../config/load-config.ts');
    return loadConfig().logLevel;
  } catch {
    return undefined;
  }
}

/**
 * What the raw arguments say about reporting — `--json`, and the log level (`--log-level`, else
 * `STRATUM_LOG_LEVEL`) — read without the command's parser, which may be what failed.
 */
async function reportMode(argv: readonly string[]): Promise<{ json: boolean; debug: boolean }> {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  const levels = args.flatMap((a, i) =>
    a === '--log-level' ? [args[i + 1] ?? ''] : a.startsWith('--log-level=') ? [a.slice(12)] : [],
  );
  const level = levels[levels.length - 1] ?? (await configuredLogLevel());
  return { json: args.includes('--json'), debug: level === 'debug' || level === 'trace' };
}

/** Runs `stratum …argv`; resolves with the exit code (never rejects: failures are reported). */
async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const selection = selectCommand(argv);
  try {
    if (selection.kind === 'unknown') throw new CliUsageError(selection.message, selection.help);
    if (selection.kind === 'main') {
      if (argv[0] === '--version' || argv[0] === '-v') {
        io.stdout.write(`${STRATUM_VERSION}\n`);
        return 0;
      }
      const known = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h';
      if (!known) throw new CliUsageError(`unknown option ${argv[0]}`, MAIN_USAGE);
      io.stdout.write(mainHelp(COMMAND_SECTIONS));
      return 0;
    }
    return await run(selection, argv, io);
  } catch (error) {
    const options = selection.kind === 'command' ? selection.command.options : {};
    return reportError(error, {
      stderr: io.stderr,
      ...(await reportMode(argv)),
      flagOfSetting: (setting) => flagOfSetting(options, setting),
    });
  }
}

// main reports its own failures; the rejection handler is for a failure to report one.
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`stratum: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
