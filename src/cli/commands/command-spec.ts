/**
 * How a command of the `stratum` CLI is declared: once, as data (name, summary, arguments, options
 * with their types, defaults and descriptions, examples) beside its handler. Parsing, `--help`,
 * the top-level help, "did you mean" suggestions and the shell completion scripts are all derived
 * from these declarations (`command-table.ts` lists them), so none of them can drift from the code.
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { CliUsageError } from './usage-error.ts';

/** One flag of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** The flag may be repeated; its value is then an array. */
  readonly multiple?: boolean;
  /** A one-letter alias, `h` for `-h`. */
  readonly short?: string;
  /** What the help and the usage line call the value, `n` for `--limit <n>`. @default 'value' */
  readonly value?: string;
  /** One line (or a few) for the help. */
  readonly description: string;
  /**
   * The default as the help shows it. Parsing does not apply it: the handler or the configuration
   * does (a flag that overrides a setting must not hide the setting's environment variable).
   */
  readonly default?: string;
  /**
   * The configuration setting the flag overrides, as a path (`httpPort`, `runtime.workers`): the
   * help shows the setting's default and environment variable, and an error about the setting (a
   * busy port) names the flag that changes it.
   */
  readonly setting?: string;
  /** A boolean flag that turns its setting off (`--no-watch`). */
  readonly negates?: boolean;
  /** The flag must be given. */
  readonly required?: boolean;
  /** The only values accepted: checked when parsing, offered by completion. */
  readonly choices?: readonly string[];
  /** The value must be a number (checked when parsing, so a mistake never reaches a server). */
  readonly number?: { readonly integer?: boolean; readonly min?: number };
  /** Completion offers file names for the value. */
  readonly file?: boolean;
  /** Shared by many commands: the help lists it under "Common options". */
  readonly common?: boolean;
}

/** One positional argument of a command. */
export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
  /** May be left out (only after the required ones). */
  readonly optional?: boolean;
  /** Takes every remaining argument (the last one only); `min` of them at least. */
  readonly variadic?: { readonly min: number };
  /** The only values accepted, offered by completion. */
  readonly choices?: readonly string[];
  /** Completion offers file names. */
  readonly file?: boolean;
}

/** The options of a command, by flag name (without the dashes). */
export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

/** A string flag's value: one of its choices when it declares them. */
type StringValue<O extends OptionSpec> = O extends { readonly choices: readonly (infer C extends string)[] }
  ? C
  : string;

type OptionValue<O extends OptionSpec> = O['type'] extends 'boolean'
  ? O extends { readonly multiple: true }
    ? boolean[]
    : boolean
  : O extends { readonly multiple: true }
    ? StringValue<O>[]
    : StringValue<O>;

/** The parsed flags of a command: required ones always present, the others when given. */
export type OptionValues<F extends OptionsSpec> = {
  readonly [K in keyof F as F[K] extends { readonly required: true } ? K : never]: OptionValue<F[K]>;
} & {
  readonly [K in keyof F as F[K] extends { readonly required: true } ? never : K]?: OptionValue<F[K]>;
};

type ArgumentValue<A extends ArgumentSpec> = A extends { readonly variadic: object }
  ? readonly string[]
  : A extends { readonly choices: readonly (infer C extends string)[] }
    ? C
    : string;

/** The parsed positional arguments of a command, by name. */
export type ArgumentValues<A extends readonly ArgumentSpec[]> = {
  readonly [X in A[number] as X extends { readonly optional: true } ? never : X['name']]: ArgumentValue<X>;
} & {
  readonly [X in A[number] as X extends { readonly optional: true } ? X['name'] : never]?: ArgumentValue<X>;
};

/** Where a command writes. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** A flag as it appeared on the command line, in order (for flags whose pairing depends on order). */
export interface OptionToken {
  readonly name: string;
  readonly value: string | undefined;
}

/** What a handler gets: its parsed command line and the means to answer. */
export interface ParsedCommand<F extends OptionsSpec, A extends readonly ArgumentSpec[]> {
  /** `stratum deploy rollout`. */
  readonly path: string;
  readonly values: OptionValues<F>;
  readonly args: ArgumentValues<A>;
  readonly tokens: readonly OptionToken[];
  /** `--json` was given: replies as JSON on stdout, errors as JSON on stderr. */
  readonly json: boolean;
  readonly io: CommandIo;
  /** A client of the server at `--url` (or the `STRATUM_URL` setting). */
  readonly api: ApiClient;
  /** The server's address the client talks to (`--url`, else the `STRATUM_URL` setting). */
  readonly serverUrl: string;
  /** Prints the reply: as JSON with `--json`, else the text `human` renders. */
  print(reply: unknown, human: () => string): void;
  /** A progress or warning line on stderr. */
  note(line: string): void;
  /** A {@link CliUsageError} for this command, to throw. */
  usageError(message: string): CliUsageError;
  /** A numeric flag's value (its declaration's `number` says what is valid; parsing checked it). */
  number(flag: keyof F & string): number | undefined;
}

/** A handler's view of any command. */
export type AnyParsedCommand = ParsedCommand<OptionsSpec, readonly ArgumentSpec[]>;

/** A command as its module declares it. */
export interface CommandDefinition<F extends OptionsSpec, A extends readonly ArgumentSpec[]> {
  /** The word that selects it (`rollout` in `stratum deploy rollout`). */
  readonly name: string;
  /** One line for the command lists. */
  readonly summary: string;
  /** What it does, in a few sentences, for its own help. @default the summary */
  readonly description?: string;
  readonly args: A;
  readonly options: F;
  /** Extra usage lines for combinations the option list cannot say (`(--version <v> | --alias <a>)…`). */
  readonly usage?: readonly string[];
  /** Command lines to copy, shown at the end of the help. */
  readonly examples: readonly string[];
  /** Runs the command; resolves with the exit code. */
  run(cmd: ParsedCommand<F, A>): Promise<number>;
}

/** Any command, as the table holds it. */
export type Command = CommandDefinition<OptionsSpec, readonly ArgumentSpec[]>;

/** A word that groups subcommands (`models`, `deploy`). */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
}

/**
 * Declares a command. The handler's `cmd.values` and `cmd.args` are typed from the declaration.
 * @example defineCommand({ name: 'show', summary: 'Show a model', args: [{ name: 'model', description: '…' }], options: API_OPTIONS, examples: [], run: async (cmd) => 0 })
 */
export function defineCommand<const F extends OptionsSpec, const A extends readonly ArgumentSpec[]>(
  definition: CommandDefinition<F, A>,
): Command {
  // `run` is a method, so a command of narrower options is accepted where any command is.
  return definition as unknown as Command;
}

/** Every command accepts these. */
export const GLOBAL_OPTIONS = {
  'log-level': {
    type: 'string',
    value: 'level',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    setting: 'logLevel',
    description: 'how much is logged; debug also prints the stack trace of an error',
    common: true,
  },
  help: { type: 'boolean', short: 'h', description: 'show this help and exit', common: true },
} as const satisfies OptionsSpec;

/** The server the CLI talks to unless `--url` says otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:8000';

/** Who changes are recorded under unless `--actor` says otherwise. */
export const DEFAULT_ACTOR = 'cli';

/** The options of a command that lists a page of records. */
export const PAGE_OPTIONS = {
  limit: { type: 'string', value: 'n', number: { integer: true, min: 1 }, description: 'at most this many' },
  cursor: { type: 'string', value: 'c', description: 'the next page (printed after a full page)' },
} as const satisfies OptionsSpec;

/** The flags of every command that talks to a running server's management API. */
export const API_OPTIONS = {
  url: {
    type: 'string',
    value: 'url',
    setting: 'apiUrl',
    description: 'the Stratum server to talk to',
    common: true,
  },
  json: {
    type: 'boolean',
    description: "print the server's reply as JSON on stdout (and errors as one JSON line on stderr)",
    common: true,
  },
  actor: {
    type: 'string',
    value: 'name',
    default: DEFAULT_ACTOR,
    description: 'who changes are recorded under',
    common: true,
  },
  ...GLOBAL_OPTIONS,
} as const satisfies OptionsSpec;
