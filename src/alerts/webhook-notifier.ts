/**
 * Sends alert notifications to webhooks: each payload signed with HMAC-SHA256, delivered from a
 * bounded queue with retries, so that a webhook that is down or slow never slows whoever raised
 * the alert (serving included). When the queue is full the oldest notification is dropped and
 * counted: the newest state of an alert is the one worth delivering.
 *
 * The receiver checks `X-Stratum-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * with the shared key, and may refuse old timestamps (replays).
 */
import { createHmac } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../logging/logger.ts';

export interface WebhookNotification {
  readonly url: string;
  /** The HMAC key; absent: unsigned. */
  readonly secret?: string;
  readonly payload: unknown;
}

export interface WebhookNotifierOptions {
  readonly logger: Logger;
  /** Notifications waiting at most. @default 1000 */
  readonly capacity?: number;
  /** Attempts per notification. @default 5 */
  readonly attempts?: number;
  /** First retry delay, doubled each time. @default 1000 */
  readonly backoffMs?: number;
  /** One attempt's time limit. @default 10000 */
  readonly timeoutMs?: number;
  /** Counts outcomes (`delivered`, `failed`, `dropped`, `retried`). */
  readonly onOutcome?: (outcome: 'delivered' | 'failed' | 'dropped' | 'retried') => void;
  readonly now?: () => number;
}

export interface WebhookNotifier {
  /** Queues a notification and returns at once. */
  notify(notification: WebhookNotification): void;
  /** Notifications queued or in flight. */
  readonly pending: number;
  /** Stops: waits for the one in flight, drops the rest (counted). */
  close(): Promise<void>;
}

/** The signature header's value for `body` sent at `unixSeconds`. */
export function signWebhook(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const capacity = options.capacity ?? 1000;
  const attempts = options.attempts ?? 5;
  const backoffMs = options.backoffMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? Date.now;
  const queue: WebhookNotification[] = [];
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let inFlight = 0;

  const deliver = async (n: WebhookNotification): Promise<boolean> => {
    const body = JSON.stringify(n.payload);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (stop.signal.aborted) return false;
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (n.secret !== undefined)
          headers['x-stratum-signature'] = signWebhook(n.secret, Math.floor(now() / 1000), body);
        const response = await fetch(n.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.arrayBuffer();
        if (response.ok) return true;
        options.logger.warn({ url: n.url, status: response.status, attempt }, 'alert webhook refused the notification');
      } catch (error) {
        if (stop.signal.aborted) return false;
        options.logger.warn({ url: n.url, attempt, err: (error as Error).message }, 'alert webhook unreachable');
      }
      if (attempt < attempts) {
        options.onOutcome?.('retried');
        try {
          await delay(backoffMs * 2 ** (attempt - 1), undefined, { signal: stop.signal });
        } catch {
          return false;
        }
      }
    }
    return false;
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0 && !stop.signal.aborted) {
      const next = queue.shift() as WebhookNotification;
      inFlight++;
      try {
        options.onOutcome?.((await deliver(next)) ? 'delivered' : 'failed');
      } finally {
        inFlight--;
      }
    }
    running = undefined;
  };

  return {
    notify(notification) {
      if (stop.signal.aborted) {
        options.onOutcome?.('dropped');
        return;
      }
      if (queue.length >= capacity) {
        queue.shift();
        options.onOutcome?.('dropped');
      }
      queue.push(notification);
      running ??= drain();
    },
    get pending() {
      return queue.length + inFlight;
    },
    async close() {
      stop.abort();
      for (let i = 0; i < queue.length; i++) options.onOutcome?.('dropped');
      queue.length = 0;
      await running;
    },
  };
}
