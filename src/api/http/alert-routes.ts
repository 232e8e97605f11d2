/**
 * The state of this replica's alert rules and their recent transitions (src/alerts): what the
 * dashboard and an operator read. Rules are configured by file (`alerts.rulesFile`), not here.
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

const AlertsReply = z.object({
  rules: z.array(
    z.object({
      rule: z.string(),
      phase: z.enum(['inactive', 'pending', 'firing']),
      value: z.number().optional(),
      since: z.string().optional(),
      noData: z.boolean(),
      threshold: z.number(),
      direction: z.enum(['above', 'below']),
    }),
  ),
  history: z.array(z.record(z.string(), z.unknown())),
});

/** The alert routes. */
export const ALERT_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'GET',
    path: '/api/v1/alerts',
    permission: 'metrics:read',
    summary: "This replica's alert rules (inactive, pending or firing, with the last value) and recent transitions",
    tags: ['meta'],
    reply: AlertsReply,
    errors: ['UNSUPPORTED'],
    handler: (_input, { alerts }) => {
      if (alerts === undefined) {
        throw new StratumError(
          'UNSUPPORTED',
          'no alert rules are evaluated on this server: set alerts.rulesFile (STRATUM_ALERT_RULES)',
        );
      }
      return { rules: alerts.status(), history: alerts.history() };
    },
  }),
];
