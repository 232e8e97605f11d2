/**
 * What every registry command shares: the `--url`, `--json` and `--actor` flags, strict flag
 * parsing with named positionals, the API client, and output that is either the server's JSON
 * reply alone on stdout (`--json`, for scripts) or text for people. Progress always goes to stderr
 * so it never mixes with either.
 */
import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '../../client/api-client.ts';
import { CliUsageError } from './usage-error.ts';

/** Where a command writes. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Arguments of a command group's entry point (`runModelsCommand` and its siblings). */
export interface CommandRun {
  /** The arguments after the group name, e.g. `['push', 'mlp.onnx', '--name', 'mlp']`. */
  readonly argv: readonly string[];
  /** @default process.stdout and process.stderr */
  readonly io?: CommandIo;
  /** The server when `--url` is absent (the `STRATUM_URL` setting). @default DEFAULT_URL */
  readonly defaultUrl?: string;
}

/** The server the CLI talks to unless `--url` says otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:8000';

/** Who changes are recorded under unless `--actor` says otherwise. */
export const DEFAULT_ACTOR = 'cli';

/** Flags every registry command accepts. */
export const COMMON_FLAGS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  actor: { type: 'string' },
} as const;

/** The usage text of the common flags, appended to each group's help. */
export const COMMON_USAGE = `Common flags: --url <http://host:port> (default STRATUM_URL or ${DEFAULT_URL}), --json (the server's reply as JSON on stdout), --actor <name> (recorded as the author of changes, default ${DEFAULT_ACTOR})`;

type Flags = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly multiple?: boolean }>>;

type Config<F extends Flags> = {
  args: string[];
  options: typeof COMMON_FLAGS & F;
  strict: true;
  allowPositionals: true;
  tokens: true;
};

/** What {@link parseCommand} is asked to parse. */
export interface CommandSpec<F extends Flags, R extends string, O extends string> {
  readonly argv: readonly string[];
  /** The synopsis printed on a usage mistake, e.g. `stratum models show <model>`. */
  readonly usage: string;
  /** The command's own flags (the common ones are added). */
  readonly flags: F;
  /** Names of the positional arguments that must be present, in order. */
  readonly required: readonly R[];
  /** Names of the positional arguments that may follow them. @default none */
  readonly optional?: readonly O[];
  readonly io: CommandIo;
  /** The server when `--url` is absent. @default DEFAULT_URL */
  readonly defaultUrl?: string;
}

/** A parsed command, ready to run. */
export interface ParsedCommand<F extends Flags, R extends string, O extends string> {
  readonly values: ReturnType<typeof parseArgs<Config<F>>>['values'];
  /** Flag tokens in command-line order (for flags whose pairing depends on order). */
  readonly tokens: NonNullable<ReturnType<typeof parseArgs<Config<F>>>['tokens']>;
  readonly args: Readonly<Record<R, string>> & Readonly<Partial<Record<O, string>>>;
  readonly api: ApiClient;
  readonly json: boolean;
  readonly io: CommandIo;
  readonly usage: string;
  /** Prints the reply: as JSON with `--json`, else the text `human` renders. */
  print(reply: unknown, human: () => string): void;
  /** A progress or warning line on stderr. */
  note(line: string): void;
  /** A {@link CliUsageError} for this command, to throw. */
  usageError(message: string): CliUsageError;
  /** A flag's value as a number (undefined when absent); a usage error when it is not one. */
  number(flag: string, options?: { integer?: boolean; min?: number }): number | undefined;
}

/**
 * Parses a command line strictly: an unknown flag throws node's ERR_PARSE_ARGS_UNKNOWN_OPTION,
 * a missing or extra positional argument a {@link CliUsageError}.
 */
export function parseCommand<const F extends Flags, const R extends string, const O extends string = never>(
  spec: CommandSpec<F, R, O>,
): ParsedCommand<F, R, O> {
  const config: Config<F> = {
    args: [...spec.argv],
    options: { ...COMMON_FLAGS, ...spec.flags },
    strict: true,
    allowPositionals: true,
    tokens: true,
  };
  const { values, positionals, tokens } = parseArgs(config);
  const usageError = (message: string): CliUsageError => new CliUsageError(message, spec.usage);
  const optional = spec.optional ?? [];
  if (positionals.length < spec.required.length) {
    throw usageError(`missing <${spec.required.slice(positionals.length).join('> <')}>`);
  }
  if (positionals.length > spec.required.length + optional.length) {
    throw usageError(`unexpected argument "${positionals[spec.required.length + optional.length]}"`);
  }
  const names: readonly string[] = [...spec.required, ...optional];
  const args = Object.fromEntries(positionals.map((value, i) => [names[i], value]));
  const common = values as { url?: string; json?: boolean; actor?: string };
  const json = common.json === true;
  const io = spec.io;
  return {
    values,
    tokens: tokens ?? [],
    args: args as ParsedCommand<F, R, O>['args'],
    api: createApiClient({
      baseUrl: common.url ?? spec.defaultUrl ?? DEFAULT_URL,
      actor: common.actor ?? DEFAULT_ACTOR,
    }),
    json,
    io,
    usage: spec.usage,
    print(reply, human) {
      io.stdout.write(json ? `${JSON.stringify(reply, null, 2)}\n` : human());
    },
    note(line) {
      io.stderr.write(`${line}\n`);
    },
    usageError,
    number(flag, options = {}) {
      const raw = (values as Record<string, unknown>)[flag];
      if (raw === undefined) return undefined;
      const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      const kind = options.integer === true ? 'an integer' : 'a number';
      if (!Number.isFinite(value) || (options.integer === true && !Number.isInteger(value))) {
        throw usageError(`--${flag} must be ${kind}, got "${String(raw)}"`);
      }
      if (options.min !== undefined && value < options.min) {
        throw usageError(`--${flag} must be at least ${options.min}, got ${value}`);
      }
      return value;
    },
  };
}

/** A version number given as a flag or an argument (`what`); a usage error otherwise. */
export function versionNumber(
  cmd: Pick<ParsedCommand<Flags, string, string>, 'usageError'>,
  given: { what: string; raw: string },
): number {
  if (!/^\d+$/.test(given.raw) || Number(given.raw) < 1) {
    throw cmd.usageError(`${given.what} must be a version number, got "${given.raw}"`);
  }
  return Number(given.raw);
}

/** The stdout/stderr pair of a run. */
export function ioOf(run: CommandRun): CommandIo {
  return run.io ?? { stdout: process.stdout, stderr: process.stderr };
}

/** Prints a group's help (`stratum models help`) or reports an unknown subcommand; returns the exit code. */
export function groupHelp(options: { run: CommandRun; help: string; subcommand: string | undefined }): number {
  const io = ioOf(options.run);
  const { subcommand, help } = options;
  if (subcommand === 'help' || subcommand === '--help' || subcommand === '-h') {
    io.stdout.write(help);
    return 0;
  }
  io.stderr.write(
    `stratum: ${subcommand === undefined ? 'missing subcommand' : `unknown subcommand "${subcommand}"`}\n\n${help}`,
  );
  return 2;
}
