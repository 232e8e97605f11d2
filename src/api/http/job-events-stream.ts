/**
 * `GET /api/v1/jobs/:id/events`: a job's life as server-sent events. The job's current record
 * comes first (`event: state`), then each of its events as the queue publishes them (`progress`,
 * `active`, `failed`, …) followed, when the state changed, by the new record; the stream ends
 * after the record of a finished job. Comment lines keep idle proxies from closing the stream; the
 * server's shutdown ends it, and a client reconnecting gets the current state first again.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { publicJob } from '../../jobs/public-job.ts';
import { FINISHED_STATES, type JobEvent, type JobQueue, type JobRecord } from '../../queue/job-queue.ts';

/** Options of {@link streamJobEvents}. */
export interface JobEventsStreamOptions {
  readonly jobId: string;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly queue: Pick<JobQueue, 'get' | 'onEvent'>;
  /** Aborted when the server starts closing: open streams end then, so the close does not wait for them. */
  readonly shutdown?: AbortSignal;
}

/** A comment line this often keeps intermediaries from timing the stream out. */
const HEARTBEAT_MS = 15_000;

/** Streams the job's events; resolves once the stream is handed over (JOB_NOT_FOUND before that). */
export async function streamJobEvents(options: JobEventsStreamOptions): Promise<FastifyReply> {
  const { jobId, reply, queue } = options;
  // Subscribe before reading the record, so no event falls between the two; they wait in order.
  const pending: JobEvent[] = [];
  const sink: { deliver?: (event: JobEvent) => void } = {};
  const unsubscribe = queue.onEvent((event) => {
    if (event.jobId !== jobId) return;
    if (sink.deliver === undefined) pending.push(event);
    else sink.deliver(event);
  });
  let first: JobRecord;
  try {
    first = await queue.get(jobId);
  } catch (error) {
    unsubscribe();
    throw error;
  }
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  let ended = false;
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    options.shutdown?.removeEventListener('abort', end);
    raw.end();
  };
  const send = (type: string, data: unknown): void => {
    if (!ended) raw.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const sendState = (record: JobRecord): void => {
    send('state', publicJob(record));
    if (FINISHED_STATES.includes(record.state)) end();
  };
  options.request.raw.on('close', end);
  options.shutdown?.addEventListener('abort', end, { once: true });
  if (options.shutdown?.aborted === true) end();
  sendState(first);
  // Events are handled one after another: each state change re-reads the record, in order.
  let chain: Promise<void> = Promise.resolve();
  const deliver = (event: JobEvent): void => {
    chain = chain
      .then(async () => {
        if (ended) return;
        send(event.type, event);
        if (event.type === 'progress' || event.type === 'added') return;
        sendState(await queue.get(jobId));
      })
      .catch(() => end());
  };
  for (const event of pending.splice(0)) deliver(event);
  sink.deliver = deliver;
  return reply;
}
