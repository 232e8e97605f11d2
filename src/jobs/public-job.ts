/**
 * A job as the API shows it: the record without the secrets its payload carries. An `infer-async`
 * job keeps its callback's signing secret in its payload (the `callback` job that delivers it
 * reads it back), so every reply of the jobs API and its event stream goes through here.
 */
import type { JobRecord } from '../queue/job-queue.ts';

/** What replaces a secret in a reply. */
export const REDACTED = '[redacted]';

/** `record` with `payload.callback.secret` replaced; the same object when there is none. */
export function publicJob(record: JobRecord): JobRecord {
  const payload = record.payload as { callback?: { secret?: unknown } } | null | undefined;
  if (typeof payload !== 'object' || payload === null || payload.callback?.secret === undefined) return record;
  return { ...record, payload: { ...payload, callback: { ...payload.callback, secret: REDACTED } } };
}
