/**
 * Audit records of the changes CLI commands make on the stores directly, without a server
 * (`stratum train` registering its run and version): the actor is `cli:<os user>` and the source
 * `cli`. Like the server's, a failed append does not undo the change; it is logged with the entry.
 */
import { userInfo } from 'node:os';
import type { AuditSink } from '../audit/audit-sink.ts';
import type { Logger } from '../logging/logger.ts';

/** `cli:<os user>`. */
export function cliActor(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers).
    user = String(process.getuid?.() ?? 'unknown');
  }
  return `cli:${user}`;
}

/** One change a command made. */
export interface CliChange {
  readonly action: string;
  readonly resource: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Appends the records of `changes`, in order; logs an append that fails. */
export async function recordCliChanges(
  sink: AuditSink,
  options: { readonly changes: readonly CliChange[]; readonly logger: Logger },
): Promise<void> {
  const actor = cliActor();
  for (const change of options.changes) {
    const entry = { actor, source: 'cli', outcome: 'ok' as const, ...change };
    try {
      await sink.append(entry);
    } catch (error) {
      options.logger.error({ err: error, audit: entry }, 'audit record could not be appended: the change was made');
    }
  }
}
