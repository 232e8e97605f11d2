/**
 * A leveled, structured logger. Backed by pino, which Fastify shares, so server and library logs go
 * through one sink with one format: JSON lines for machines (a pipe, a file, a log collector), and
 * readable, coloured lines (pino-pretty) when the lines go to a terminal, as users of pino expect.
 * pino-pretty is loaded only for a terminal: a server writing JSON never loads it.
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';
import type PinoPretty from 'pino-pretty';

/** Log levels, most verbose first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** The logging surface the rest of Stratum depends on. */
export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  fatal(obj: object, msg?: string): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
  /** Current level. */
  readonly level: string;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** Added to every line, e.g. `{ component: 'serving' }`. */
  base?: Record<string, unknown>;
  /** Where lines go. @default standard error */
  destination?: NodeJS.WritableStream;
  /**
   * Readable lines (time, level, message, then the fields) instead of JSON lines.
   * @default true when the destination is a terminal (standard error's `isTTY`)
   */
  pretty?: boolean;
}

/**
 * Fields never written, whatever logs them: credentials a request carries (as Fastify and the
 * gRPC metadata name them) and the settings that hold keys. A second line of defence: code does
 * not log these, and a test scans a full run's lines for every secret.
 */
export const REDACTED_LOG_PATHS: readonly string[] = Object.freeze([
  ...['authorization', 'x-api-key', 'cookie', 'set-cookie', 'x-stratum-callback-secret'].flatMap((header) => [
    `headers["${header}"]`,
    `req.headers["${header}"]`,
    `request.headers["${header}"]`,
    `metadata["${header}"]`,
  ]),
  ...['masterKey', 'previousMasterKeys', 'callbackSecret', 'secret', 'apiKey', 'token', 'password'].flatMap((field) => [
    field,
    `*.${field}`,
  ]),
  'config.artifactEncryption.masterKey',
  'config.artifactEncryption.previousMasterKeys',
  'config.asyncInference.callbackSecret',
]);

/** True when lines written to `destination` (standard error when absent) reach a terminal. */
export function isTerminal(destination: NodeJS.WritableStream | undefined): boolean {
  return ((destination ?? process.stderr) as { isTTY?: boolean }).isTTY === true;
}

/** A pino-pretty stream writing to `destination` (file descriptor 2 when absent). */
function prettyStream(destination: NodeJS.WritableStream | undefined): NodeJS.WritableStream {
  // A synchronous require keeps createLogger synchronous; pino-pretty is CommonJS.
  const build = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return build({
    destination: destination ?? 2,
    // Lines already written survive an exit right after them (a failed start, a second Ctrl-C).
    sync: true,
    colorize: isTerminal(destination),
    translateTime: 'SYS:HH:MM:ss.l',
    // The fields of a line on the line itself; an error's stack still gets lines of its own.
    singleLine: true,
  });
}

/** Creates a logger: JSON lines, or readable lines on a terminal (see {@link LoggerOptions.pretty}). */
export function createLogger(options: LoggerOptions = {}): Logger & pino.Logger {
  const pretty = options.pretty ?? isTerminal(options.destination);
  const dest = pretty
    ? prettyStream(options.destination)
    : (options.destination ?? pino.destination({ dest: 2, sync: false }));
  return pino(
    {
      level: options.level ?? 'info',
      base: { ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' },
    },
    dest,
  );
}
