/**
 * LISTEN/NOTIFY between the stores of one PostgreSQL database. Writers call `pg_notify` inside
 * their transaction (PostgreSQL sends it on commit, in commit order, and drops it on rollback); each
 * store holds one dedicated connection that LISTENs, opened when its first listener subscribes and
 * re-opened with back-off when it drops. The channel is shared by the whole database, so payloads
 * carry the schema and a store ignores other schemas' changes.
 */
import pg from 'pg';
import type { Logger } from '../logging/logger.ts';
import type { ChangeNotifier, NotifierHandlers, SequencedChange } from './change-notifier.ts';
import type { PostgresConnection } from './postgres-driver.ts';

/** Options of {@link createPostgresNotifier}. */
export interface PostgresNotifierOptions {
  readonly connection: PostgresConnection;
  /** First delay before re-opening a dropped LISTEN connection (doubles up to 30 s). @default 500 */
  readonly reconnectMs?: number;
  readonly logger?: Logger;
}

/** The NOTIFY channel. */
export const CHANGE_CHANNEL = 'stratum_changes';

const KINDS = new Set<string>(['model', 'version', 'alias', 'deployment']);
const MAX_RECONNECT_MS = 30_000;

function parsePayload(payload: string, schema: string | null): SequencedChange | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { schema: from, seq, kind, name } = value as Record<string, unknown>;
  if (from !== schema || typeof seq !== 'number' || typeof name !== 'string') return undefined;
  if (typeof kind !== 'string' || !KINDS.has(kind)) return undefined;
  return { seq, kind: kind as SequencedChange['kind'], name };
}

/**
 * Creates the notifier of one store.
 *
 * @example
 * const notifier = createPostgresNotifier({ connection: parsePostgresUrl(url), logger });
 */
export function createPostgresNotifier(options: PostgresNotifierOptions): ChangeNotifier {
  const { connection, logger } = options;
  const firstDelay = options.reconnectMs ?? 500;
  let handlers: NotifierHandlers | undefined;
  let current: pg.Client | undefined;
  let schema: string | null = null;
  let delay = firstDelay;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  function scheduleReconnect(): void {
    if (closed || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void listen();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, MAX_RECONNECT_MS);
  }

  function lost(client: pg.Client, error?: unknown): void {
    // 'error' and 'end' both fire for one failure; only the first counts.
    if (current !== client) return;
    current = undefined;
    client.end().catch(() => undefined);
    if (closed) return;
    logger?.warn({ err: error, database: connection.label }, 'change notifications connection lost; reconnecting');
    scheduleReconnect();
  }

  async function listen(): Promise<void> {
    if (closed) return;
    const client = new pg.Client({
      ...connection.clientConfig,
      // Named per schema so that an operator (or a test) can find this connection.
      application_name: `stratum-listen${connection.schema === undefined ? '' : `:${connection.schema}`}`,
    });
    current = client;
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client));
    client.on('notification', (message) => {
      if (message.channel !== CHANGE_CHANNEL || message.payload === undefined) return;
      const change = parsePayload(message.payload, schema);
      if (change !== undefined && current === client) handlers?.deliver(change);
    });
    try {
      await client.connect();
      const rows = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      schema = rows.rows[0]?.schema ?? null;
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (current !== client) return;
      delay = firstDelay;
      // Changes committed while no connection was listening are found by polling now.
      handlers?.resync();
    } catch (error) {
      lost(client, error);
    }
  }

  return {
    publish: async (tx, change) => {
      await tx.query(
        `SELECT pg_notify('${CHANGE_CHANNEL}', json_build_object('schema', current_schema(), 'seq', ?::bigint, 'kind', ?::text, 'name', ?::text)::text)`,
        [change.seq, change.kind, change.name],
      );
    },
    start: (next) => {
      if (handlers !== undefined || closed) return;
      handlers = next;
      void listen();
    },
    close: () => {
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        const client = current;
        current = undefined;
        await client?.end();
      })();
      return closing;
    },
  };
}
