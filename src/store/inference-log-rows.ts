/**
 * The inference log on SQL (`inference_log`, migrations 011, 015 and 016), the same statements on
 * SQLite and PostgreSQL. Appends are multi-row INSERTs in one transaction, so a flush of hundreds
 * of records is a handful of statements and one commit: on SQLite every statement runs on the
 * event loop, and one commit per record is what hurt serving latency before. A record's tensors
 * are one binary value per column, numeric ones as raw bytes (`logged-tensor-codec.ts`): a BLOB in
 * SQLite's TEXT-declared column, BYTEA on PostgreSQL; rows of the earlier JSON forms read as well.
 */
import { StratumError } from '../errors/index.ts';
import type {
  InferenceLogRecord,
  InferenceLogStore,
  LabelValue,
  NewInferenceLogRecord,
} from './inference-log-store.ts';
import { decodeLoggedTensors, encodeLoggedTensors, type StoredTensors } from './logged-tensor-codec.ts';
import type { SqlDriver, SqlValue } from './sql-driver.ts';
import { fromJson, toJson } from './store-rows.ts';

const COLUMNS = 'deployment, request_id, model, version, at, latency_ms, inputs, outputs, label, labelled_at';
const INSERT_COLUMNS = 8;
// 8 placeholders a row: far below SQLite's and PostgreSQL's limits on bound parameters.
const ROWS_PER_INSERT = 250;
// PostgreSQL takes at most 65,535 parameters; ids are looked up in slices well below that.
const IDS_PER_SELECT = 500;
const MAX_WINDOW = 100_000;

interface LogRow {
  deployment: string;
  request_id: string;
  model: string;
  version: string;
  at: number;
  latency_ms: number;
  // Bytes, or the JSON text SQLite rows written before the binary form hold.
  inputs: StoredTensors;
  outputs: StoredTensors;
  label: string | null;
  labelled_at: number | null;
}

function toRecord(row: LogRow): InferenceLogRecord {
  return {
    deployment: row.deployment,
    requestId: row.request_id,
    model: row.model,
    version: row.version,
    at: Number(row.at),
    latencyMs: Number(row.latency_ms),
    inputs: decodeLoggedTensors(row.inputs),
    outputs: decodeLoggedTensors(row.outputs),
    ...(row.label !== null && { label: fromJson<LabelValue>(row.label) }),
    ...(row.labelled_at !== null && { labelledAt: Number(row.labelled_at) }),
  };
}

function placeholders(count: number, width: number): string {
  const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  return Array.from({ length: count }, () => row).join(', ');
}

/** The inference log on a migrated database; it owns `driver` (closed by `close()`). */
export function inferenceLogRows(driver: SqlDriver): InferenceLogStore {
  let closing: Promise<void> | undefined;

  return {
    engine: driver.engine,

    async append(records: readonly NewInferenceLogRecord[]) {
      if (records.length === 0) return 0;
      return driver.transaction(async (tx) => {
        let written = 0;
        for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
          const slice = records.slice(start, start + ROWS_PER_INSERT);
          const params: SqlValue[] = [];
          for (const r of slice) {
            params.push(r.deployment, r.requestId, r.model, r.version, r.at, r.latencyMs);
            params.push(encodeLoggedTensors(r.inputs), encodeLoggedTensors(r.outputs));
          }
          const { changes } = await tx.execute(
            `INSERT INTO inference_log (deployment, request_id, model, version, at, latency_ms, inputs, outputs)
             VALUES ${placeholders(slice.length, INSERT_COLUMNS)}
             ON CONFLICT (deployment, request_id) DO NOTHING`,
            params,
          );
          written += changes;
        }
        return written;
      });
    },

    async readWindow(options) {
      const { deployment, version, since, labelled } = options;
      if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_WINDOW) {
        throw new StratumError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_WINDOW}, got ${options.limit}`);
      }
      const where = ['deployment = ?'];
      const params: SqlValue[] = [deployment];
      if (version !== undefined) {
        where.push('version = ?');
        params.push(version);
      }
      if (since !== undefined) {
        where.push('at >= ?');
        params.push(since);
      }
      if (labelled !== undefined) where.push(labelled ? 'label IS NOT NULL' : 'label IS NULL');
      params.push(options.limit);
      const rows = await driver.query<LogRow>(
        `SELECT ${COLUMNS} FROM inference_log WHERE ${where.join(' AND ')} ORDER BY at DESC, request_id DESC LIMIT ?`,
        params,
      );
      return rows.reverse().map(toRecord);
    },

    async find(requestIds) {
      const ids = [...new Set(requestIds)];
      const found: InferenceLogRecord[] = [];
      for (let start = 0; start < ids.length; start += IDS_PER_SELECT) {
        const slice = ids.slice(start, start + IDS_PER_SELECT);
        const rows = await driver.query<LogRow>(
          `SELECT ${COLUMNS} FROM inference_log WHERE request_id IN (${slice.map(() => '?').join(', ')})`,
          slice,
        );
        found.push(...rows.map(toRecord));
      }
      return found;
    },

    async setLabels(labels) {
      if (labels.length === 0) return 0;
      const now = Date.now();
      return driver.transaction(async (tx) => {
        let updated = 0;
        for (const { deployment, requestId, label } of labels) {
          const { changes } = await tx.execute(
            'UPDATE inference_log SET label = ?, labelled_at = ? WHERE deployment = ? AND request_id = ?',
            [toJson(label), now, deployment, requestId],
          );
          updated += changes;
        }
        return updated;
      });
    },

    async prune({ before, maxRows }) {
      let removed = 0;
      if (before !== undefined) {
        removed += (await driver.execute('DELETE FROM inference_log WHERE at < ?', [before])).changes;
      }
      if (maxRows !== undefined) {
        // The time of the newest record past the cap: everything at or before it goes (records
        // sharing that millisecond with kept ones go too, which errs on the side of the cap).
        const [edge] = await driver.query<{ at: number }>(
          'SELECT at FROM inference_log ORDER BY at DESC LIMIT 1 OFFSET ?',
          [maxRows],
        );
        if (edge !== undefined) {
          removed += (await driver.execute('DELETE FROM inference_log WHERE at <= ?', [Number(edge.at)])).changes;
        }
      }
      return removed;
    },

    async count(deployment) {
      const [row] =
        deployment === undefined
          ? await driver.query<{ n: number }>('SELECT COUNT(*) AS n FROM inference_log')
          : await driver.query<{ n: number }>('SELECT COUNT(*) AS n FROM inference_log WHERE deployment = ?', [
              deployment,
            ]);
      return Number(row?.n ?? 0);
    },

    close() {
      closing ??= driver.close();
      return closing;
    },
  };
}
