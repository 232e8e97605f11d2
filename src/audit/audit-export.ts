/**
 * The audit log as JSON Lines: every record matching a query, one object per line, exactly the
 * fields the hash covers plus the hash (so a tool outside Stratum can verify an export of the
 * whole log, see `audit-record.ts`). Shared by `GET /api/v1/audit` and `stratum audit export`.
 */
import type { AuditLog, AuditQuery } from './audit-log.ts';

/** Records read per page. */
const EXPORT_PAGE = 500;

/**
 * Every record matching `query` from its cursor on (`limit` is the page size of the reads, not a
 * cap), in `query.order` (oldest first by default: chain order), one chunk of lines per page.
 */
export async function* auditJsonLines(log: AuditLog, query: AuditQuery = {}): AsyncGenerator<string> {
  let cursor = query.cursor;
  const order = query.order ?? 'asc';
  do {
    const page = await log.list({
      ...query,
      order,
      limit: query.limit ?? EXPORT_PAGE,
      ...(cursor !== undefined && { cursor }),
    });
    if (page.items.length > 0) yield page.items.map((record) => `${JSON.stringify(record)}\n`).join('');
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}
