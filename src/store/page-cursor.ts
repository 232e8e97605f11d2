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

/** One list call's paging, validated before the call reads anything. */
export interface PageRequest {
  /** Rows to return (the query asks for one more). */
  readonly limit: number;
  /** The sort key the page continues from; undefined on the first page. */
  readonly after: string | number | undefined;
}

/**
 * Validates `options` for a list sorted by a key of type `keyType`: BAD_REQUEST for a bad limit or
 * a cursor that another list issued.
 */
export function pageRequest(options: PageOptions | undefined, keyType: 'string' | 'number'): PageRequest {
  const limit = pageLimit(options);
  return { limit, after: cursorKey(options, keyType) };
}

/** The page size for `options.limit`: the default when absent, at most {@link MAX_PAGE_LIMIT}. */
function pageLimit(options: PageOptions | undefined): number {
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
function cursorKey(options: PageOptions | undefined, type: 'string' | 'number'): string | number | undefined {
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
 * Turns up to `limit + 1` rows into a page: the extra row only says that a next page exists. The
 * cursor is the sort key of the last row kept (`key`), which need not be part of the item.
 */
export function toPage<Row, Item>(
  rows: readonly Row[],
  options: { limit: number; map: (row: Row) => Item; key: (row: Row) => string | number },
): Page<Item> {
  const kept = rows.slice(0, options.limit);
  const items = kept.map(options.map);
  const last = kept.at(-1);
  if (rows.length <= options.limit || last === undefined) return { items };
  const nextCursor = Buffer.from(JSON.stringify({ after: options.key(last) }), 'utf8').toString('base64url');
  return { items, nextCursor };
}
