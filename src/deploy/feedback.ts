/**
 * Feedback: labels for logged requests, by request id, joined with the inference log. Every item
 * gets an answer — accepted, or rejected with its index and a reason — and nothing is dropped
 * silently. A request id that is not in the log is "unknown (not logged)": the log holds only the
 * sampled share of requests, and prunes old ones. A label given again for a request replaces the
 * earlier one (the last wins: a later label is a correction, such as a reversed chargeback) and is
 * counted in `relabelled`.
 */
import type { InferenceLogMetrics } from '../monitor/inference-log-metrics.ts';
import type { InferenceLogRecord, InferenceLogStore, LabelValue, LabelWrite } from '../store/inference-log-store.ts';
import { checkLabel, predictionsOf } from './logged-predictions.ts';

/** Why an item was rejected. */
export type RejectionCode = 'invalid_item' | 'unknown_request' | 'ambiguous_request' | 'no_prediction' | 'wrong_label';

/** A rejected item. */
export interface RejectedItem {
  /** Its position in `items`. */
  readonly index: number;
  readonly request_id: string | null;
  readonly code: RejectionCode;
  readonly reason: string;
}

/** What a feedback batch did. */
export interface FeedbackResult {
  /** Items whose label was stored. */
  readonly accepted: number;
  /** Of those, items that replaced an earlier label. */
  readonly relabelled: number;
  readonly rejected: readonly RejectedItem[];
}

/** Options of {@link createFeedback}. */
export interface FeedbackOptions {
  readonly store: Pick<InferenceLogStore, 'find' | 'setLabels'>;
  /** Writes records still buffered, so feedback right after a request finds it. @default none */
  readonly flushPending?: () => Promise<void>;
  readonly metrics?: Pick<InferenceLogMetrics, 'feedback'>;
  /** Told which deployments got labels (to refresh their live quality). */
  readonly onAccepted?: (deployments: ReadonlySet<string>) => void;
}

/** Options of {@link Feedback.submit}. */
export interface SubmitOptions {
  /** Join only with requests this deployment logged. @default any deployment */
  readonly deployment?: string;
}

/** Most items one call takes. */
export const MAX_FEEDBACK_ITEMS = 10_000;

/** The feedback service. */
export interface Feedback {
  /**
   * Stores the labels of `items` (`{request_id, label}` each), answering for every item. With
   * `deployment`, only requests that deployment logged are joined (another's are unknown here).
   */
  submit(items: readonly unknown[], options?: SubmitOptions): Promise<FeedbackResult>;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function parseItem(
  item: unknown,
): { requestId: string; label: LabelValue } | { requestId: string | null; reason: string } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { requestId: null, reason: 'an item must be an object {"request_id": "…", "label": …}' };
  }
  const { request_id: id, label } = item as { request_id?: unknown; label?: unknown };
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    return {
      requestId: null,
      reason: `"request_id" must be a string of 1 to 256 characters, got ${JSON.stringify(id) ?? 'nothing'}`,
    };
  }
  if (isScalar(label)) return { requestId: id, label };
  if (Array.isArray(label) && label.length > 0 && label.every(isScalar)) return { requestId: id, label };
  return {
    requestId: id,
    reason: `wrong label type: "label" must be a number, string or boolean (or an array of them, one per row), got ${JSON.stringify(label) ?? 'nothing'}`,
  };
}

/** Creates the service. */
export function createFeedback(options: FeedbackOptions): Feedback {
  const { store, metrics } = options;

  return {
    async submit(items, submitOptions = {}) {
      const only = submitOptions.deployment;
      await options.flushPending?.();
      const rejected: RejectedItem[] = [];
      const reject = (index: number, requestId: string | null, why: { code: RejectionCode; reason: string }): void => {
        rejected.push({ index, request_id: requestId, ...why });
      };
      const parsed: { index: number; requestId: string; label: LabelValue }[] = [];
      items.forEach((item, index) => {
        const p = parseItem(item);
        if ('label' in p) parsed.push({ index, ...p });
        else
          reject(index, p.requestId, { code: p.requestId === null ? 'invalid_item' : 'wrong_label', reason: p.reason });
      });
      const byId = new Map<string, InferenceLogRecord[]>();
      for (const record of await store.find(parsed.map((p) => p.requestId))) {
        if (only !== undefined && record.deployment !== only) continue;
        byId.set(record.requestId, [...(byId.get(record.requestId) ?? []), record]);
      }
      const writes: LabelWrite[] = [];
      let relabelled = 0;
      for (const { index, requestId, label } of parsed) {
        const records = byId.get(requestId) ?? [];
        const record = records[0];
        if (record === undefined) {
          reject(index, requestId, {
            code: 'unknown_request',
            reason: `unknown request id (not logged${only === undefined ? '' : ` by deployment ${only}`}: the inference log holds only sampled requests, and prunes old ones)`,
          });
          continue;
        }
        if (records.length > 1) {
          const names = records
            .map((r) => r.deployment)
            .sort()
            .join(', ');
          reject(index, requestId, {
            code: 'ambiguous_request',
            reason: `request id logged by several deployments (${names}): ids must be unique to take feedback`,
          });
          continue;
        }
        const predictions = predictionsOf(record.outputs);
        if (predictions === undefined) {
          reject(index, requestId, {
            code: 'no_prediction',
            reason: `the logged outputs of ${record.deployment} hold no class or value to compare a label with`,
          });
          continue;
        }
        const check = checkLabel(predictions, label);
        if (!check.ok) {
          reject(index, requestId, { code: 'wrong_label', reason: check.reason });
          continue;
        }
        if (record.label !== undefined || writes.some((w) => w.requestId === requestId)) relabelled++;
        writes.push({ deployment: record.deployment, requestId, label });
      }
      await store.setLabels(writes);
      rejected.sort((a, b) => a.index - b.index);
      if (metrics !== undefined) {
        if (writes.length > 0) metrics.feedback('accepted', writes.length);
        const counts = new Map<string, number>();
        for (const r of rejected) counts.set(r.code, (counts.get(r.code) ?? 0) + 1);
        for (const [code, count] of counts) metrics.feedback(code, count);
      }
      if (writes.length > 0) options.onAccepted?.(new Set(writes.map((w) => w.deployment)));
      return { accepted: writes.length, relabelled, rejected };
    },
  };
}
