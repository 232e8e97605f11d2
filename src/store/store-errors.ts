/**
 * The errors more than one row module of the SQL store raises: a stale revision
 * (PRECONDITION_FAILED) and a delete refused because something still uses the target (IN_USE),
 * with names quoted the same way in every message.
 */
import { StratumError } from '../errors/index.ts';

/** A name as it appears in messages: `"name"`. */
export const quote = (name: string): string => JSON.stringify(name);

/** Throws PRECONDITION_FAILED unless `expected` is absent or equals `actual` (0: absent). */
export function checkRevision(what: string, revisions: { expected: number | undefined; actual: number }): void {
  const { expected, actual } = revisions;
  if (expected === undefined || expected === actual) return;
  const message =
    actual === 0
      ? `${what} does not exist, but revision ${expected} was expected`
      : expected === 0
        ? `${what} already exists at revision ${actual}, but was expected not to exist`
        : `${what} is at revision ${actual}, not ${expected}; read it again and retry`;
  throw new StratumError('PRECONDITION_FAILED', message, {
    details: { expectedRevision: expected, revision: actual },
  });
}

/** What still uses something that a delete would remove. */
export interface Users {
  readonly versions?: readonly number[];
  readonly aliases?: readonly string[];
  readonly deployments?: readonly string[];
}

/** `alias "a" and deployments "x", "y"` */
function describeUsers(users: Users): string {
  const parts: string[] = [];
  const add = (singular: string, plural: string, names: readonly string[]): void => {
    if (names.length > 0) parts.push(`${names.length === 1 ? singular : plural} ${names.join(', ')}`);
  };
  add('version', 'versions', (users.versions ?? []).map(String));
  add('alias', 'aliases', (users.aliases ?? []).map(quote));
  add('deployment', 'deployments', (users.deployments ?? []).map(quote));
  return parts.join(' and ');
}

/** IN_USE naming the users in the message and in `details`. */
export function inUse(what: string, users: Users & { readonly details: Record<string, unknown> }): StratumError {
  const { details, ...names } = users;
  return new StratumError('IN_USE', `${what} is in use by ${describeUsers(names)}`, {
    details: { ...details, ...names },
  });
}
