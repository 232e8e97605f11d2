/**
 * The one SELECT behind every paged list of the store: optional filters joined by AND, the sort
 * column doubling as the keyset cursor (`> key` ascending, `< key` descending), and one row more
 * than the page to know whether another follows (see `page-cursor.ts`).
 */
import type { Page } from './metadata-store.ts';
import { type PageRequest, toPage } from './page-cursor.ts';
import type { SqlExecutor, SqlValue } from './sql-driver.ts';

/** A condition with one `?`; left out of the query when `value` is undefined. */
export interface SqlFilter {
  readonly sql: string;
  readonly value: SqlValue | undefined;
}

/** What {@link selectPage} reads. */
export interface PageQuery<Row, Item> {
  /** The columns, as the row type names them. */
  readonly columns: string;
  /** The FROM clause: a table, with an alias when the filters use one (`models m`). */
  readonly from: string;
  /** Conditions every row must meet; those without a value are left out. @default none */
  readonly filters?: readonly SqlFilter[];
  /** The sort column, also the cursor's; `key` reads it from a row. */
  readonly orderBy: {
    readonly column: string;
    readonly descending: boolean;
    readonly key: (row: Row) => string | number;
  };
  /** The validated paging of the call. */
  readonly page: PageRequest;
  /** Maps a row to the contract's record. */
  readonly map: (row: Row) => Item;
}

/**
 * Reads one page.
 *
 * @example
 * const page = pageRequest(options, 'string');
 * return selectPage(driver, {
 *   columns: DEPLOYMENT_COLUMNS,
 *   from: 'deployments',
 *   filters: [{ sql: 'model = ?', value: options?.model }],
 *   orderBy: { column: 'name', descending: false, key: (row) => row.name },
 *   page,
 *   map: toDeployment,
 * });
 */
export async function selectPage<Row, Item>(db: SqlExecutor, query: PageQuery<Row, Item>): Promise<Page<Item>> {
  const { orderBy, page } = query;
  const filters: SqlFilter[] = [...(query.filters ?? [])];
  if (page.after !== undefined) {
    filters.push({ sql: `${orderBy.column} ${orderBy.descending ? '<' : '>'} ?`, value: page.after });
  }
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  for (const filter of filters) {
    if (filter.value === undefined) continue;
    conditions.push(filter.sql);
    params.push(filter.value);
  }
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
  const order = `${orderBy.column}${orderBy.descending ? ' DESC' : ''}`;
  const rows = await db.query<Row>(`SELECT ${query.columns} FROM ${query.from}${where} ORDER BY ${order} LIMIT ?`, [
    ...params,
    page.limit + 1,
  ]);
  return toPage(rows, { limit: page.limit, map: query.map, key: orderBy.key });
}
