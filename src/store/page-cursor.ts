/**
 * Keyset pagination for the store's list methods. A cursor is the sort key of the last item of the
 * previous page, wrapped in base64url so that callers treat it as opaque; a page fetches one row
 * more than asked to know whether another page follows.
 */
import { StratumError } from '../errors/index.ts';
import type { Page, PageOptions } from './metadata-store.ts';

/** Page size when none is given. */
export const DEFAULT_PAGE_LIMIT = 50;
/** Largest page; larger requests are served this many. */
export const MAX_PAGE_LIMIT = 1000;

/** The page size for `options.limit`: the default when absent, at most {@link MAX_PAGE_LIMIT}. */
export function pageLimit(options: PageOptions | undefined): number {
  const limit = options?.limit;
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new StratumError('BAD_REQUEST', `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}, got ${limit}`, {
      details: { limit },
    });
  }
  return Math.min(limit, MAX_PAGE_LIMIT);
}

/** The key after which the page starts, or undefined for the first page. */
export function cursorKey(options: PageOptions | undefined, type: 'string'): string | undefined;
export function cursorKey(options: PageOptions | undefined, type: 'number'): number | undefined;
export function cursorKey(options: PageOptions | undefined, type: 'string' | 'number'): string | number | undefined {
  const cursor = options?.cursor;
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    key = undefined;
  }
  if (typeof key !== type) {
    throw new StratumError(
      'BAD_REQUEST',
      `cursor "${cursor}" was not issued by this list; pass the nextCursor of the previous page`,
      { details: { cursor } },
    );
  }
  return key as string | number;
}

/**
 * Turns up to `limit + 1` rows into a page: the extra row only says that a next page exists.
 */
export function toPage<Row, Item>(
  rows: readonly Row[],
  options: { limit: number; map: (row: Row) => Item; key: (item: Item) => string | number },
): Page<Item> {
  const items = rows.slice(0, options.limit).map(options.map);
  const last = items.at(-1);
  if (rows.length <= options.limit || last === undefined) return { items };
  const nextCursor = Buffer.from(JSON.stringify({ after: options.key(last) }), 'utf8').toString('base64url');
  return { items, nextCursor };
}
