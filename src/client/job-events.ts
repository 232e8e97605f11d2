/**
 * Following a job over `GET /api/v1/jobs/{id}/events` (server-sent events) until it finishes. The
 * server sends the job's record first and after every state change, and its events between; a
 * stream that ends before the job does (the server restarting, a proxy timing out) is opened again,
 * and the record it starts with says where the job is now, so nothing is missed that matters.
 */
import { StratumError } from '../errors/index.ts';
import { FINISHED_STATES, type JobEvent, type JobRecord } from '../queue/job-queue.ts';

/** What {@link followJobEvents} reports: the job's record, or one of its events. */
export type JobUpdate =
  { readonly type: 'state'; readonly record: JobRecord } | { readonly type: 'event'; readonly event: JobEvent };

/** Options of {@link followJobEvents}. */
export interface FollowJobOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Reads the job when the stream cannot be opened (to tell a gone server from a gone job). */
  readonly getJob: () => Promise<JobRecord>;
  readonly onUpdate?: (update: JobUpdate) => void;
  /** Pause before opening a dropped stream again (ms). @default 500 */
  readonly reconnectMs?: number;
}

/** Resolves with the job's finished record. */
export async function followJobEvents(options: FollowJobOptions): Promise<JobRecord> {
  for (;;) {
    const finished = await followOnce(options).catch(async (error: unknown) => {
      // The job itself is asked: JOB_NOT_FOUND and an unreachable server end the wait with their error.
      const record = await options.getJob();
      if (FINISHED_STATES.includes(record.state)) return record;
      if (error instanceof StratumError && error.code !== 'SERVER_UNREACHABLE') throw error;
      return undefined;
    });
    if (finished !== undefined) return finished;
    await new Promise((resolve) => setTimeout(resolve, options.reconnectMs ?? 500));
  }
}

/** Reads one stream; the finished record, or undefined when the stream ended before the job did. */
async function followOnce(options: FollowJobOptions): Promise<JobRecord | undefined> {
  let response: Response;
  try {
    response = await fetch(options.url, { headers: { accept: 'text/event-stream', ...options.headers } });
  } catch (error) {
    throw new StratumError('SERVER_UNREACHABLE', `cannot reach ${options.url}: ${(error as Error).message}`);
  }
  if (!response.ok || response.body === null) {
    const text = await response.text();
    const reply = (() => {
      try {
        return JSON.parse(text) as { code?: string; error?: string };
      } catch {
        return {};
      }
    })();
    throw new StratumError('INTERNAL', reply.error ?? `HTTP ${response.status}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = parseEvent(block);
      if (message === undefined) continue;
      if (message.type === 'state') {
        const record = message.data as JobRecord;
        options.onUpdate?.({ type: 'state', record });
        if (FINISHED_STATES.includes(record.state)) return record;
      } else {
        options.onUpdate?.({ type: 'event', event: message.data as JobEvent });
      }
    }
  }
  return undefined;
}

/** One SSE block (`event:` and `data:` lines; comments ignored). */
function parseEvent(block: string): { type: string; data: unknown } | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return undefined;
  return { type, data: JSON.parse(data.join('\n')) };
}
