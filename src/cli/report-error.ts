/**
 * How the CLI reports a failure, the one place that decides it: one line on stderr that says what
 * went wrong (and, for a busy port, which flag picks another), or with `--json` one JSON line
 * (`{"error", "code", "status"?, "hint"?}`) that a script can parse. An error Stratum did not
 * anticipate also gets one line, plus a hint to rerun with `--log-level debug`, which prints the
 * stack trace (and its causes). Usage mistakes exit 2, everything else 1.
 */
import { isStratumError, type StratumError } from '../errors/index.ts';
import { CliUsageError, USAGE_EXIT_CODE } from './commands/usage-error.ts';

/** How to report. */
export interface ErrorReport {
  readonly stderr: NodeJS.WritableStream;
  /** `--json` was given. */
  readonly json: boolean;
  /** Print the stack trace (`--log-level debug` or `trace`). */
  readonly debug: boolean;
  /** The flag that overrides a setting in the command that failed (`httpPort` → `--http-port`). */
  readonly flagOfSetting?: (setting: string) => string | undefined;
}

/** The hint after a busy port's message, naming the flag that changes it. */
function portHint(error: StratumError, report: ErrorReport): string | undefined {
  const setting = error.details?.['setting'];
  if (typeof setting !== 'string') return undefined;
  const flag = report.flagOfSetting?.(setting);
  return flag === undefined ? `pick another with the ${setting} setting` : `pick another with ${flag}`;
}

/** What to tell a person beyond the message, by error code. */
function hintOf(error: unknown, report: ErrorReport): string | undefined {
  if (!isStratumError(error)) return undefined;
  if (error.code === 'PORT_IN_USE') return portHint(error, report);
  if (error.code === 'SERVER_UNREACHABLE')
    return 'is `stratum serve` running there? --url or STRATUM_URL names another server';
  return undefined;
}

/** The stack of `error` and of each of its causes. */
function stackOf(error: unknown): string {
  const stacks: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 8; depth++) {
    stacks.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) stacks.push('caused by:');
  }
  return stacks.join('\n');
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : `${text.slice(0, end)} …`;
}

/** Reports `error` and returns the exit code. */
export function reportError(error: unknown, report: ErrorReport): number {
  const usage = error instanceof CliUsageError;
  const expected = usage || isStratumError(error);
  const message = error instanceof Error ? error.message : String(error);
  const hint = hintOf(error, report);
  if (report.json) {
    const line = {
      error: expected ? message : firstLine(message),
      code: usage ? 'USAGE' : isStratumError(error) ? error.code : 'INTERNAL',
      ...(isStratumError(error) && { status: error.status }),
      ...(usage && { usage: error.usage }),
      ...(hint !== undefined && { hint }),
      ...(report.debug && { stack: stackOf(error) }),
    };
    report.stderr.write(`${JSON.stringify(line)}\n`);
  } else if (usage) {
    report.stderr.write(`stratum: ${message}\nusage: ${error.usage}\n`);
  } else if (expected) {
    report.stderr.write(`stratum: ${message}${hint === undefined ? '' : `; ${hint}`}\n`);
  } else if (!report.debug) {
    report.stderr.write(`stratum: ${firstLine(message)} (rerun with --log-level debug for the stack trace)\n`);
  }
  if (report.debug && !report.json) report.stderr.write(`${stackOf(error)}\n`);
  return usage ? USAGE_EXIT_CODE : 1;
}
