/**
 * The dashboard's only data source: the management API, same origin. Sends the bearer token kept
 * in localStorage (an API key or a JWT) when there is one; a 401 becomes {@link SignInRequired}; a
 * 404 or 501 (the server lacks the feature) or a 403 (this key may not see it) becomes
 * {@link NotAvailable}, so a page leaves out an optional part instead of failing whole.
 */

const TOKEN_KEY = 'stratum.token';

/** The server wants credentials (or refused the ones sent). */
export class SignInRequired extends Error {}

/** The server has no such thing or does not implement it (404, 501), or this key may not see it (403). */
export class NotAvailable extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The stored token, if any. */
export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

/** Stores (or with null forgets) the token. */
export function setToken(value: string | null): void {
  if (value === null || value === '') localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, value);
}

/** GETs a management API path and returns its JSON. */
export async function getJson<T>(path: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const bearer = token();
  if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`;
  const response = await fetch(path, { headers });
  if (response.status === 401) throw new SignInRequired(await messageOf(response));
  if (response.status === 403 || response.status === 404 || response.status === 501) {
    throw new NotAvailable(response.status, await messageOf(response));
  }
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await messageOf(response)}`);
  return (await response.json()) as T;
}

/** GETs, or returns undefined when the server does not have it (404/501). */
export async function getOptional<T>(path: string): Promise<T | undefined> {
  try {
    return await getJson<T>(path);
  } catch (error) {
    if (error instanceof NotAvailable) return undefined;
    throw error;
  }
}

/** Every item of a paged list (`{ items, nextCursor }`), up to `max`. */
export async function getAll<T>(path: string, max = 1000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const url = cursor === undefined ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`;
    const page = await getJson<{ items: T[]; nextCursor?: string }>(url);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && items.length < max);
  return items;
}

async function messageOf(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    return String(body.error ?? body.message ?? text);
  } catch {
    return text;
  }
}

/** `encodeURIComponent` for a path segment. */
export const seg = encodeURIComponent;
