/**
 * Lets people type the start of a long identifier (a run's UUID, a dataset's sha256), as the
 * tables print them shortened: the listing is read page by page until the prefix is known to be
 * unique. A full identifier is used as given, without listing anything.
 */
import type { ApiPage } from '../../client/api-client.ts';
import { StratumError } from '../../errors/index.ts';
import type { CliUsageError } from './usage-error.ts';

/** What {@link resolvePrefix} looks for, and where. */
export interface PrefixLookup<T> {
  /** What the user typed. */
  readonly given: string;
  /** True when `given` is a whole identifier (then nothing is listed). */
  readonly complete: (given: string) => boolean;
  /** One page of the listing. */
  readonly list: (cursor: string | undefined) => Promise<ApiPage<T>>;
  readonly idOf: (item: T) => string;
  /** `run`, `dataset version`: for the messages. */
  readonly what: string;
  /** The command's usage error, for an ambiguous prefix. */
  readonly usageError: (message: string) => CliUsageError;
}

/** The one identifier starting with `given`: NOT_FOUND when none does, a usage error when several do. */
export async function resolvePrefix<T>(lookup: PrefixLookup<T>): Promise<string> {
  if (lookup.complete(lookup.given)) return lookup.given;
  const matches: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await lookup.list(cursor);
    for (const item of page.items) if (lookup.idOf(item).startsWith(lookup.given)) matches.push(lookup.idOf(item));
    cursor = page.nextCursor;
  } while (cursor !== undefined && matches.length < 2);
  if (matches.length === 1) return matches[0] as string;
  if (matches.length === 0) throw new StratumError('NOT_FOUND', `no ${lookup.what} starts with "${lookup.given}"`);
  throw lookup.usageError(
    `"${lookup.given}" is the start of more than one ${lookup.what} (${matches.join(', ')}…); give more of it`,
  );
}
