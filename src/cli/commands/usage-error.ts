/**
 * A command line the CLI cannot act on (an unknown word or flag, a missing argument, a flag value
 * of the wrong kind). It never reaches a server, so it carries no StratumError code:
 * `report-error.ts` prints the message and the command's usage line (with `--json`, code `USAGE`)
 * and exits 2, the conventional status for a usage mistake.
 */

/** A usage mistake; `usage` is the synopsis of the command that was misused. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}

/** Exit status of a usage mistake. */
export const USAGE_EXIT_CODE = 2;
