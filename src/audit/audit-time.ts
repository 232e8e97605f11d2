/** The time bounds of audit queries, as people type them (API query, CLI flags). */

/**
 * Epoch milliseconds of `raw`: ISO 8601 (`2026-12-05T03:00:00Z`, `2026-12-05`) or epoch
 * milliseconds (`1764903600000`); undefined when it is neither.
 */
export function parseAuditTime(raw: string): number | undefined {
  if (/^\d+$/.test(raw)) return Number(raw);
  // Date.parse also reads free text ("March 5"); an ISO date starts with its four-digit year.
  if (!/^\d{4}-\d\d/.test(raw)) return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : undefined;
}

/** What {@link parseAuditTime} accepts, for messages. */
export const AUDIT_TIME_FORMS = 'an ISO 8601 time (2026-12-05T03:00:00Z) or epoch milliseconds';
