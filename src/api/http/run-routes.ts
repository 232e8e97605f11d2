/**
 * Tracked runs under `/api/v1/runs`: start a run, log metrics by step, finish it as succeeded or
 * failed (with its error). A thin shell over the metadata store, which holds every rule.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tracking } from '../../registry/tracking.ts';
import { CreateRunBody, FinishRunBody, RunMetricsBody, RunMetricsQuery, RunsQuery } from './management-schemas.ts';
import { actorOf, jsonBody, validate } from './request-helpers.ts';

/** Options of {@link registerRunRoutes}. */
export interface RunRoutesOptions {
  readonly store: Tracking;
}

function runId(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

/** Registers the `/api/v1/runs` routes on the app. */
export function registerRunRoutes(app: FastifyInstance, options: RunRoutesOptions): void {
  const { store } = options;

  app.post('/api/v1/runs', async (req, reply) => {
    const body = jsonBody(req, CreateRunBody);
    const run = await store.createRun({
      name: body.name,
      params: body.params,
      by: actorOf(req),
      ...(body.datasetVersion !== undefined && { datasetVersion: body.datasetVersion }),
      ...(body.codeVersion !== undefined && { codeVersion: body.codeVersion }),
    });
    return reply.code(201).send(run);
  });
  app.get('/api/v1/runs', async (req) => {
    const q = validate(RunsQuery, req.query, 'query');
    const page = await store.listRuns({
      ...(q.limit !== undefined && { limit: q.limit }),
      ...(q.cursor !== undefined && { cursor: q.cursor }),
      ...(q.status !== undefined && { status: q.status }),
      ...(q.name !== undefined && { name: q.name }),
    });
    return { items: page.items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
  });
  app.get('/api/v1/runs/:id', async (req) => store.getRun(runId(req)));
  app.post('/api/v1/runs/:id/metrics', async (req, reply) => {
    const body = jsonBody(req, RunMetricsBody);
    const metrics = await store.logRunMetrics(runId(req), body.metrics);
    return reply.code(201).send({ items: metrics });
  });
  app.get('/api/v1/runs/:id/metrics', async (req) => {
    const q = validate(RunMetricsQuery, req.query, 'query');
    return { items: await store.runMetrics(runId(req), q.key === undefined ? {} : { key: q.key }) };
  });
  app.post('/api/v1/runs/:id/finish', async (req) => {
    const body = jsonBody(req, FinishRunBody);
    return store.finishRun({
      id: runId(req),
      status: body.status,
      ...(body.error !== undefined && { error: body.error }),
      ...(body.metrics !== undefined && { metrics: body.metrics }),
      ...(body.artifacts !== undefined && { artifacts: body.artifacts }),
    });
  });
}
