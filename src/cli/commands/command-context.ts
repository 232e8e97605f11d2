/**
 * Parses a command line against a command's declaration (`command-spec.ts`) into what its handler
 * gets: typed flags and arguments, the API client, and output that is either the server's JSON
 * reply alone on stdout (`--json`, for scripts) or text for people. Progress always goes to stderr
 * so it never mixes with either. Every mistake — an unknown flag (with the closest known one), a
 * missing value, a value outside its choices, a missing argument — is a {@link CliUsageError}
 * naming the command, before anything reaches a server.
 */
import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '../../client/api-client.ts';
import { storedCredential } from '../credentials-file.ts';
import {
  type ArgumentSpec,
  type CommandDefinition,
  type CommandIo,
  DEFAULT_ACTOR,
  type OptionsSpec,
  type OptionToken,
  type ParsedCommand,
} from './command-spec.ts';
import { didYouMean } from './suggest.ts';
import { CliUsageError } from './usage-error.ts';

/** Where and how a command line is parsed. */
export interface ParseContext {
  readonly argv: readonly string[];
  /** The words that selected the command, `stratum deploy rollout`. */
  readonly path: string;
  readonly io: CommandIo;
  /** The server when `--url` is absent; asked only when the command talks to one. */
  readonly defaultUrl: () => string;
}

/** The synopsis of a command: `stratum deploy rollout <name> --strategy <blue-green|canary> [options]`. */
export function usageLine(path: string, command: CommandDefinition<OptionsSpec, readonly ArgumentSpec[]>): string {
  const args = command.args.map((a) => {
    const word = `<${a.name}>${a.variadic === undefined ? '' : '…'}`;
    return a.optional === true ? `[${word}]` : word;
  });
  const required = Object.entries(command.options)
    .filter(([, o]) => o.required === true)
    .map(([name, o]) => `--${name} <${o.choices?.join('|') ?? o.value ?? 'value'}>`);
  return [path, ...args, ...required, '[options]'].join(' ');
}

/** True when the arguments ask for help (`--help` or `-h` before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

function parseArgsOptions(options: OptionsSpec): ParseArgsOptions {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.multiple === true && { multiple: true }),
        ...(o.short !== undefined && { short: o.short }),
      },
    ]),
  );
}

/** Refuses flags the command does not declare, naming the closest one it does. */
function checkKnownFlags(options: OptionsSpec, argv: readonly string[], fail: (message: string) => never): void {
  const { tokens } = parseArgs({
    args: [...argv],
    options: parseArgsOptions(options),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name in options) continue;
    const known = Object.keys(options).map((name) => `--${name}`);
    fail(`unknown option ${token.rawName}${didYouMean(`--${token.name}`, known, '')}`);
  }
}

/** Checks required flags, choices and numbers. */
function checkValues(options: OptionsSpec, values: Record<string, unknown>, fail: (message: string) => never): void {
  for (const [name, option] of Object.entries(options)) {
    const value = values[name];
    if (value === undefined) {
      if (option.required === true) {
        fail(`missing --${name} <${option.choices?.join('|') ?? option.value ?? 'value'}>`);
      }
      continue;
    }
    for (const raw of Array.isArray(value) ? value : [value]) {
      if (typeof raw !== 'string') continue;
      if (option.choices !== undefined && !option.choices.includes(raw)) {
        fail(`--${name} must be one of ${option.choices.join(', ')}; got "${raw}"${didYouMean(raw, option.choices)}`);
      }
      if (option.number !== undefined) {
        const number = raw.trim() === '' ? Number.NaN : Number(raw);
        const integer = option.number.integer === true;
        if (!Number.isFinite(number) || (integer && !Number.isInteger(number))) {
          fail(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${raw}"`);
        }
        if (option.number.min !== undefined && number < option.number.min) {
          fail(`--${name} must be at least ${option.number.min}, got ${number}`);
        }
      }
    }
  }
}

/** Names the positional arguments, checking their count and choices. */
function namedArguments(
  specs: readonly ArgumentSpec[],
  positionals: readonly string[],
  fail: (message: string) => never,
): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  let next = 0;
  for (const spec of specs) {
    if (spec.variadic !== undefined) {
      const rest = positionals.slice(next);
      if (rest.length < spec.variadic.min) {
        fail(`give at least ${spec.variadic.min} <${spec.name}>, got ${rest.length}`);
      }
      out[spec.name] = rest;
      next = positionals.length;
      continue;
    }
    const value = positionals[next];
    if (value === undefined) {
      if (spec.optional === true) continue;
      const missing = specs.slice(specs.indexOf(spec)).filter((s) => s.optional !== true);
      fail(`missing <${missing.map((s) => s.name).join('> <')}>`);
    }
    if (spec.choices !== undefined && !spec.choices.includes(value)) {
      fail(
        `<${spec.name}> must be one of ${spec.choices.join(', ')}; got "${value}"${didYouMean(value, spec.choices)}`,
      );
    }
    out[spec.name] = value;
    next++;
  }
  if (next < positionals.length) fail(`unexpected argument "${positionals[next]}"`);
  return out;
}

/** Parses `context.argv` for `command`; every mistake throws a {@link CliUsageError}. */
export function parseCommand<F extends OptionsSpec, A extends readonly ArgumentSpec[]>(
  command: CommandDefinition<F, A>,
  context: ParseContext,
): ParsedCommand<F, A> {
  const usage = usageLine(context.path, command);
  const usageError = (message: string): CliUsageError => new CliUsageError(message, usage);
  const fail = (message: string): never => {
    throw usageError(message);
  };
  checkKnownFlags(command.options, context.argv, fail);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...context.argv],
      options: parseArgsOptions(command.options),
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
  } catch (error) {
    // node's own messages (a flag without its value, a value given to a boolean) are good; only
    // the exit status and the usage line need to be the CLI's.
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) fail((error as Error).message);
    throw error;
  }
  const values = parsed.values as Record<string, unknown>;
  checkValues(command.options, values, fail);
  const args = namedArguments(command.args, parsed.positionals, fail);
  const tokens: OptionToken[] = parsed.tokens.flatMap((t) =>
    t.kind === 'option' ? [{ name: t.name, value: t.value }] : [],
  );
  const json = values['json'] === true;
  const io = context.io;
  let client: ApiClient | undefined;
  return {
    path: context.path,
    values: values as ParsedCommand<F, A>['values'],
    args: args as ParsedCommand<F, A>['args'],
    tokens,
    json,
    io,
    get api() {
      client ??= apiClient({ url: values['url'], actor: values['actor'], context, fail });
      return client;
    },
    get serverUrl() {
      return typeof values['url'] === 'string' ? values['url'] : context.defaultUrl();
    },
    print(reply, human) {
      io.stdout.write(json ? `${JSON.stringify(reply, null, 2)}\n` : human());
    },
    note(line) {
      io.stderr.write(`${line}\n`);
    },
    usageError,
    number(flag) {
      const raw = values[flag];
      return typeof raw === 'string' ? Number(raw) : undefined;
    },
  };
}

function apiClient(options: {
  url: unknown;
  actor: unknown;
  context: ParseContext;
  fail: (message: string) => never;
}): ApiClient {
  const baseUrl = typeof options.url === 'string' ? options.url : options.context.defaultUrl();
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    options.fail(`--url must be an http:// or https:// address like http://127.0.0.1:8000, got "${baseUrl}"`);
  }
  const credential = storedCredential(baseUrl);
  return createApiClient({
    baseUrl,
    actor: typeof options.actor === 'string' ? options.actor : DEFAULT_ACTOR,
    ...(credential !== undefined && { credential }),
  });
}

/** A version number given as a flag or an argument (`what`); a usage error otherwise. */
export function versionNumber(
  cmd: Pick<ParsedCommand<OptionsSpec, readonly ArgumentSpec[]>, 'usageError'>,
  given: { what: string; raw: string },
): number {
  if (!/^\d+$/.test(given.raw) || Number(given.raw) < 1) {
    throw cmd.usageError(`${given.what} must be a version number, got "${given.raw}"`);
  }
  return Number(given.raw);
}
