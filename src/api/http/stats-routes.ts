/**
 * Serving statistics over time for the dashboard: a deployment's requests per second, error rate
 * and p50/p99 latency, per version and summed, from the server's in-memory sampler
 * (`monitor/serving-stats.ts`). This replica's traffic only: Prometheus scrapes every replica.
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { pointOf, sumSamples } from '../../monitor/stats-points.ts';
import { DeploymentParams } from './management-schemas.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

const Point = z.object({
  at: z.number().describe('epoch ms'),
  requests: z.number(),
  requestsPerSecond: z.number(),
  errorRate: z.number().nullable(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
});

const StatsReply = z.object({
  deployment: z.string(),
  intervalMs: z.number(),
  total: z.array(Point),
  versions: z.array(z.object({ version: z.string(), points: z.array(Point) })),
});

/** The statistics routes. */
export const STATS_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/deployments/:name/stats',
    permission: 'metrics:read',
    summary: "This replica's recent traffic of a deployment: requests/s, error rate, p50/p99 latency over time",
    tags: ['deployments'],
    params: DeploymentParams,
    reply: StatsReply,
    errors: ['DEPLOYMENT_NOT_FOUND', 'UNSUPPORTED'],
    handler: async ({ params: { name } }, { registry, stats }) => {
      await registry.getDeployment(name);
      if (stats === undefined) throw new StratumError('UNSUPPORTED', 'this server keeps no serving statistics');
      const bounds = stats.bounds();
      const versions = stats.forModel(name);
      return {
        deployment: name,
        intervalMs: stats.intervalMs,
        total: sumSamples(versions.map((v) => v.samples)).map((s) => pointOf(s, bounds)),
        versions: versions.map((v) => ({ version: v.version, points: v.samples.map((s) => pointOf(s, bounds)) })),
      };
    },
  }),
];
