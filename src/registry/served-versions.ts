/**
 * The versions that have served a deployment, read from its history: rolling back to one of them
 * is always allowed, whatever its signature, so a user who moved a deployment somewhere bad always
 * has a way back. A version counts when it took routed traffic: a route of the deployment (as
 * created, updated, switched or promoted), the stable side of a canary, or a version an alias it
 * routes through now pointed at since the deployment was created (the alias history does not say
 * when the deployment started following it, so this may count a little more, never less). A canary
 * that was rolled back and a shadow never count: they did not answer the deployment's clients for
 * good.
 */
import type { AliasEvent, DeploymentEvent, MetadataStore, Page, PageOptions } from '../store/metadata-store.ts';
import type { DeploymentSpec } from './deployment-spec.ts';

/** What {@link servedVersions} reads of a deployment. */
export interface ServedHistorySubject {
  readonly name: string;
  readonly spec: DeploymentSpec;
  readonly createdAt: number;
}

/** Every version that has served `deployment` (see the module comment). */
export async function servedVersions(
  store: Pick<MetadataStore, 'deploymentEvents' | 'aliasHistory'>,
  deployment: ServedHistorySubject,
): Promise<Set<number>> {
  const served = new Set<number>();
  const events = await readAll((page) => store.deploymentEvents({ deployment: deployment.name, ...page }));
  for (const event of events) for (const version of versionsOfEvent(event)) served.add(version);
  const aliases = new Set(deployment.spec.routes.flatMap((route) => (route.alias === undefined ? [] : [route.alias])));
  for (const alias of aliases) {
    const moves = await readAll((page) => store.aliasHistory({ model: deployment.spec.model, alias, ...page }));
    for (const version of versionsWhileFollowed(moves, deployment.createdAt)) served.add(version);
  }
  return served;
}

/** The versions an event says took the deployment's traffic (events are opaque JSON to the store). */
function versionsOfEvent(event: DeploymentEvent): number[] {
  const detail = record(event.detail);
  if (detail === undefined) return [];
  const found: unknown[] = [];
  // created / updated: the resolved routes (recorded since issue 9), or the spec's fixed versions.
  for (const routes of [detail['routes'], record(detail['spec'])?.['routes']]) {
    if (!Array.isArray(routes)) continue;
    for (const route of routes) {
      const r = record(route);
      if (r !== undefined && (typeof r['weight'] !== 'number' || r['weight'] > 0)) found.push(r['version']);
    }
  }
  // blue-green switches and alias moves: both ends served.
  if (event.kind === 'blue-green' || event.kind === 'alias-moved') found.push(detail['from'], detail['to']);
  const canary = record(detail['canary']);
  if (canary !== undefined) {
    found.push(canary['stable']);
    if (canary['status'] === 'promoted') found.push(canary['canary']);
  }
  return found.filter((v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0);
}

/**
 * The versions an alias pointed at from `since` on: the one it pointed at then, and both ends of
 * every later move (newest first, as the store lists them).
 */
function versionsWhileFollowed(moves: readonly AliasEvent[], since: number): number[] {
  const found: (number | null)[] = [];
  const before = moves.find((move) => move.at < since);
  if (before !== undefined) found.push(before.to);
  for (const move of moves) if (move.at >= since) found.push(move.from, move.to);
  return found.filter((v): v is number => v !== null);
}

async function readAll<T>(read: (page: PageOptions) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await read({ limit: 1000, ...(cursor !== undefined && { cursor }) });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
