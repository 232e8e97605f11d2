/**
 * A job as the API shows it: the record without the secrets its payload carries. An `infer-async`
 * job keeps its callback's signing secret in its payload (the `callback` job that delivers it
 * reads it back), and its callback URL may carry credentials or a token in its query, so every
 * reply of the jobs API and its event stream goes through here.
 */
import type { JobRecord } from '../queue/job-queue.ts';

/** What replaces a secret in a reply. */
export const REDACTED = '[redacted]';

/**
 * `record` with `payload.callback.secret` replaced, and the callback URL's user, password and
 * query; the same object when there is nothing to hide.
 */
export function publicJob(record: JobRecord): JobRecord {
  const payload = record.payload as { callback?: { secret?: unknown; url?: unknown } } | null | undefined;
  if (typeof payload !== 'object' || payload === null || payload.callback === undefined) return record;
  const { secret, url } = payload.callback;
  const shownUrl = typeof url === 'string' ? urlWithoutCredentials(url) : url;
  if (secret === undefined && shownUrl === url) return record;
  const callback = {
    ...payload.callback,
    ...(secret !== undefined && { secret: REDACTED }),
    ...(shownUrl !== url && { url: shownUrl }),
  };
  return { ...record, payload: { ...payload, callback } };
}

function urlWithoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.username === '' && parsed.password === '' && parsed.search === '') return url;
  const query = parsed.search === '' ? '' : `?${REDACTED}`;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${query}`;
}
