/**
 * The audit log through the API (in-process requests, real stores): every mutating route declares
 * its audit, changes through the routes land in the log with who, what, before and after, failed
 * changes too, and `/api/v1/audit` filters, pages and exports JSON Lines that verify as a chain.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify from 'fastify';
import { Registry as MetricsRegistry } from 'prom-client';
import { auditHash, type AuditRecord, GENESIS_HASH } from '../../../src/audit/audit-record.ts';
import type { AuditEntryInput } from '../../../src/audit/audit-sink.ts';
import { HTTP_ROUTES, ROUTE_PERMISSIONS } from '../../../src/api/http/route-table.ts';
import { registerRoutes, routeFactory } from '../../../src/api/http/route.ts';
import { createAuditRecorder } from '../../../src/api/http/route-audit.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { FIXTURES } from '../../../src/onnx/fixtures.ts';
import { buildMlp } from '../../../src/onnx/fixtures/mlp.ts';
import { api } from '../../helpers/management-api.ts';
import { type RegistryServer, startRegistryServer } from '../../helpers/test-server.ts';

test('every route but GET declares its audit, and only those', () => {
  const undeclared = HTTP_ROUTES.filter((r) => r.method !== 'GET' && r.audit === undefined).map(
    (r) => `${r.method} ${r.path}`,
  );
  assert.deepEqual(undeclared, [], 'declare `audit` (or `audit: false` for a route that changes nothing)');
  const onReads = HTTP_ROUTES.filter((r) => r.method === 'GET' && r.audit !== undefined && r.audit !== false);
  assert.deepEqual(onReads, []);
  const actions = HTTP_ROUTES.flatMap((r) => (r.audit ? [r.audit.action] : []));
  for (const action of actions) assert.match(action, /^[a-z]+\.[a-z-]+$/, action);
  assert.equal(new Set(actions).size, actions.length, 'one action per route');
  assert.equal(ROUTE_PERMISSIONS['GET /api/v1/audit'], 'audit:read');
});

async function auditLog(server: RegistryServer, query = ''): Promise<AuditRecord[]> {
  const res = await api(server, { url: `/api/v1/audit?order=asc&limit=1000${query}` });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.items as AuditRecord[];
}

test('changes through the routes are recorded with before and after, failures too', async (t) => {
  const server = await startRegistryServer(t, { overrides: { shutdownGraceMs: 1000 } });
  const ok = async (request: Parameters<typeof api>[1], status = 200) => {
    const res = await api(server, request);
    assert.equal(res.status, status, `${request.method ?? 'POST'} ${request.url}: ${JSON.stringify(res.json)}`);
    return res;
  };
  await ok({ url: '/api/v1/models', body: { name: 'iris', description: 'flowers' } }, 201);
  await ok({ method: 'PATCH', url: '/api/v1/models/iris', body: { description: 'irises' } });
  await ok({ url: '/api/v1/models/iris/versions', body: FIXTURES.mlp.build() }, 201);
  await ok({ url: '/api/v1/models/iris/versions', body: buildMlp({ seed: 7 }) }, 201);
  await ok({ method: 'PUT', url: '/api/v1/models/iris/aliases/production', body: { version: 1 } });
  await ok({ method: 'PUT', url: '/api/v1/models/iris/aliases/production', body: { version: 2, reason: 'better' } });
  await ok(
    {
      url: '/api/v1/deployments',
      body: { name: 'iris', model: 'iris', routes: [{ alias: 'production', weight: 100 }] },
    },
    201,
  );
  await ok({
    method: 'PUT',
    url: '/api/v1/deployments/iris',
    body: { model: 'iris', routes: [{ version: 1, weight: 100 }] },
  });
  const refused = await api(server, { method: 'DELETE', url: '/api/v1/models/iris/versions/1' });
  assert.equal(refused.status, 409, 'version 1 is in use');
  const job = await ok({ url: '/api/v1/jobs', body: { kind: 'noop', payload: {}, delayMs: 86_400_000 } }, 201);
  const id = job.json.id as string;
  await ok({ method: 'POST', url: `/api/v1/jobs/${id}/cancel` });

  const records = await auditLog(server);
  assert.deepEqual(
    records.map((r) => [r.action, r.resource, r.outcome]),
    [
      ['model.create', 'models/iris', 'ok'],
      ['model.update', 'models/iris', 'ok'],
      ['version.register', 'models/iris/versions/1', 'ok'],
      ['version.register', 'models/iris/versions/2', 'ok'],
      ['alias.set', 'models/iris/aliases/production', 'ok'],
      ['alias.set', 'models/iris/aliases/production', 'ok'],
      ['deployment.create', 'deployments/iris', 'ok'],
      ['deployment.update', 'deployments/iris', 'ok'],
      ['version.delete', 'models/iris/versions/1', 'failed'],
      ['job.submit', `jobs/${id}`, 'ok'],
      ['job.cancel', `jobs/${id}`, 'ok'],
    ],
  );
  const [create, patch, , , aliasCreated, aliasMoved, , deploymentUpdated, failedDelete, submitted, cancelled] =
    records as [AuditRecord, ...AuditRecord[]] as AuditRecord[];
  for (const record of records) {
    assert.equal(record.actor, 'anonymous', 'no principal without authentication');
    assert.equal(record.source, '127.0.0.1');
    assert.match(record.requestId ?? '', /^req-/);
  }
  const field = (value: unknown, key: string) => (value as Record<string, unknown> | null)?.[key];
  assert.equal(create?.before, null);
  assert.equal(field(create?.after, 'description'), 'flowers');
  assert.equal(field(patch?.before, 'description'), 'flowers');
  assert.equal(field(patch?.after, 'description'), 'irises');
  assert.equal(aliasCreated?.before, null);
  assert.equal(field(aliasCreated?.after, 'version'), 1);
  assert.equal(field(aliasMoved?.before, 'version'), 1);
  assert.equal(field(aliasMoved?.after, 'version'), 2);
  assert.deepEqual(field(field(deploymentUpdated?.before, 'spec'), 'routes'), [{ alias: 'production', weight: 100 }]);
  assert.deepEqual(field(field(deploymentUpdated?.after, 'spec'), 'routes'), [{ version: 1, weight: 100 }]);
  assert.equal(field(failedDelete?.before, 'version'), 1, 'the state the refused change would have removed');
  assert.equal(failedDelete?.after, null);
  assert.equal(submitted?.before, null);
  assert.equal(field(submitted?.after, 'kind'), 'noop');
  assert.notEqual(field(cancelled?.before, 'state'), 'cancelled');
  assert.equal(field(cancelled?.after, 'state'), 'cancelled');

  // Filters, paging and the export.
  assert.deepEqual(
    (await auditLog(server, '&action=alias.set')).map((r) => r.seq),
    [aliasCreated?.seq, aliasMoved?.seq],
  );
  assert.deepEqual(
    (await auditLog(server, '&resource=models/iris/versions/')).map((r) => r.action),
    ['version.register', 'version.register', 'version.delete'],
  );
  assert.deepEqual(
    (await auditLog(server, '&outcome=failed')).map((r) => r.seq),
    [failedDelete?.seq],
  );
  assert.equal((await auditLog(server, '&actor=key:someone')).length, 0);
  const since = encodeURIComponent(aliasMoved?.time ?? '');
  assert.ok((await auditLog(server, `&since=${since}`)).every((r) => r.seq >= (aliasMoved?.seq ?? 0)));
  assert.equal((await auditLog(server, `&until=${Date.parse(create?.time ?? '')}`)).length, 0);
  const newest = await api(server, { url: '/api/v1/audit?limit=2' });
  assert.deepEqual(
    (newest.json.items as AuditRecord[]).map((r) => r.seq),
    [records.length, records.length - 1],
  );
  const next = await api(server, { url: `/api/v1/audit?limit=2&cursor=${newest.json.nextCursor as string}` });
  assert.deepEqual(
    (next.json.items as AuditRecord[]).map((r) => r.seq),
    [records.length - 2, records.length - 3],
  );

  for (const request of [
    { url: '/api/v1/audit?limit=3', headers: { accept: 'application/x-ndjson' } },
    { url: '/api/v1/audit?format=jsonl&limit=3' },
  ]) {
    const res = await server.http.inject({ method: 'GET', ...request });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    const lines = res.body.trimEnd().split('\n');
    assert.equal(lines.length, records.length, 'every record, past the page size');
    // Each line is a record exactly as hashed: recompute the chain from the export alone.
    let prevHash = GENESIS_HASH;
    for (const [i, line] of lines.entries()) {
      const record = JSON.parse(line) as AuditRecord;
      assert.equal(record.seq, i + 1);
      assert.equal(record.prevHash, prevHash);
      assert.equal(auditHash(record), record.hash);
      prevHash = record.hash;
    }
  }

  const badTime = await api(server, { url: '/api/v1/audit?since=yesterday' });
  assert.equal(badTime.status, 400);
  assert.match(badTime.json.error as string, /since must be an ISO 8601 time .*got "yesterday"/);
  const badOutcome = await api(server, { url: '/api/v1/audit?outcome=maybe' });
  assert.equal(badOutcome.status, 400);
  assert.match(badOutcome.json.error as string, /outcome/);
});

test('the actor is the principal, and a failed append is logged and counted without failing the change', async (t) => {
  const appended: AuditEntryInput[] = [];
  let failNext = false;
  const sink = {
    append: async (entry: AuditEntryInput) => {
      if (failNext) throw new Error('disk full');
      appended.push(entry);
    },
  };
  const metrics = new MetricsRegistry();
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'error', destination, pretty: false });
  const state = { value: 1 };
  const route = routeFactory<typeof state>();
  const app = Fastify();
  t.after(() => app.close());
  app.addHook('onRequest', async (request) => {
    request.principal = { id: 'jwt:alice', kind: 'jwt', grants: [{ role: 'admin' }] };
  });
  registerRoutes(app, {
    routes: [
      route({
        method: 'POST',
        path: '/counter',
        permission: 'public',
        summary: 'bump',
        tags: ['meta'],
        audit: { action: 'counter.bump', resource: () => 'counter', state: async (_input, ctx) => ({ ...ctx }) },
        handler: (_input, ctx) => {
          ctx.value += 1;
          return undefined;
        },
      }),
    ],
    context: state,
    recorder: createAuditRecorder({ sink, logger, metrics }),
  });
  const first = await app.inject({ method: 'POST', url: '/counter' });
  assert.equal(first.statusCode, 200);
  assert.equal(appended.length, 1);
  assert.equal(appended[0]?.actor, 'jwt:alice');
  assert.deepEqual([appended[0]?.before, appended[0]?.after], [{ value: 1 }, { value: 2 }]);

  failNext = true;
  const second = await app.inject({ method: 'POST', url: '/counter' });
  assert.equal(second.statusCode, 200, 'the change was made: the request succeeds');
  assert.equal(state.value, 3);
  const counted = await metrics.getSingleMetricAsString('stratum_audit_append_failures_total');
  assert.match(counted, /stratum_audit_append_failures_total\{action="counter.bump"\} 1/);
  assert.equal(logLines.length, 1);
  const logged = JSON.parse(logLines[0] ?? '{}') as { msg: string; audit: AuditEntryInput };
  assert.match(logged.msg, /audit record could not be appended/);
  assert.deepEqual(logged.audit.after, { value: 3 }, 'the whole entry is in the error log');
});
