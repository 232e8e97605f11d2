/**
 * A leveled, structured (JSON lines) logger. Backed by pino, which Fastify shares, so server and
 * library logs go through one sink with one format.
 */
import { pino } from 'pino';

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
}

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions = {}): Logger & pino.Logger {
  const dest = options.destination ?? pino.destination({ dest: 2, sync: false });
  return pino(
    {
      level: options.level ?? 'info',
      base: { ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}
