// One conformance suite for the MetadataStore contract, run against every engine for real: SQLite
// in a temporary folder and PostgreSQL in a schema of its own (dropped afterwards). Tests share one
// database per engine and keep apart by unique names.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type ErrorCode, StratumError } from '../../src/errors/index.ts';
import type { MetadataStore, NewVersion, Page, StoreChange } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { openPostgresDriver, parsePostgresUrl } from '../../src/store/postgres-driver.ts';
import type { SqlDriver } from '../../src/store/sql-driver.ts';
import { openSqliteDriver } from '../../src/store/sqlite-driver.ts';
import { WAIT_LIMIT_MS } from '../helpers/wait-for.ts';

/**
 * `{ version, name }` of each file in src/store/migrations that `engine` runs (`003_runs.sql` → 3,
 * 'runs'; `016_x.postgres.sql` only on PostgreSQL), in order.
 */
async function migrationFiles(engine: string): Promise<{ version: number; name: string }[]> {
  const files = await readdir(new URL('../../src/store/migrations/', import.meta.url));
  return files
    .map((file) => /^(\d+)_(.+?)(?:\.(sqlite|postgres))?\.sql$/.exec(file))
    .filter((match) => match !== null && (match[3] === undefined || match[3] === engine))
    .map((match) => ({ version: Number(match?.[1]), name: match?.[2] as string }))
    .sort((a, b) => a.version - b.version);
}

const execFileAsync = promisify(execFile);
const CHILD = new URL('./fixtures/create-versions.ts', import.meta.url).pathname;
const PG_BASE = 'postgres://postgres@127.0.0.1:5432/test';

/** What the suite needs from an engine. */
interface Engine {
  /** A URL of a database (or schema) that no store has opened yet. */
  freshUrl(): string;
  /** A raw driver on `url`, to look under the store. */
  rawDriver(url: string): Promise<SqlDriver>;
  /** Removes every database `freshUrl` handed out. */
  cleanup(): Promise<void>;
}

function sqliteEngine(): Engine {
  const folder = mkdtempSync(join(tmpdir(), 'stratum-store-'));
  let files = 0;
  return {
    freshUrl: () => `sqlite:${join(folder, `db-${++files}`, 'stratum.db')}`,
    rawDriver: (url) => Promise.resolve(openSqliteDriver({ path: url.slice('sqlite:'.length) })),
    cleanup: () => {
      rmSync(folder, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

function postgresEngine(): Engine {
  const schemas: string[] = [];
  return {
    freshUrl: () => {
      const schema = `stratum_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      schemas.push(schema);
      return `${PG_BASE}?schema=${schema}`;
    },
    rawDriver: (url) => openPostgresDriver({ connection: parsePostgresUrl(url) }),
    cleanup: async () => {
      const client = new pg.Client({ connectionString: PG_BASE });
      await client.connect();
      try {
        for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<StratumError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof StratumError, `expected a StratumError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message !== undefined) assert.match(caught.message, message);
  return caught;
}

/**
 * Polling period of a store that must not poll during a test: a change it hears came through
 * NOTIFY (or the resync after its LISTEN connection (re)opened), never through polling.
 */
const NO_POLL_MS = 3_600_000;

/**
 * Resolves with the first change `match` accepts. The limit only bounds a broken feed: how fast
 * a change arrives on a busy machine is not what these tests judge.
 */
function nextChange(
  store: MetadataStore,
  options: { match: (change: StoreChange) => boolean; timeoutMs?: number },
): Promise<StoreChange> {
  const timeoutMs = options.timeoutMs ?? WAIT_LIMIT_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching change within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = store.onChange((change) => {
      if (!options.match(change)) return;
      clearTimeout(timer);
      stop();
      resolve(change);
    });
  });
}

/** The options that ask for the page after `page`, which must exist. */
function nextPage(page: Page<unknown>): { cursor: string } {
  assert.ok(page.nextCursor !== undefined, 'expected another page');
  return { cursor: page.nextCursor };
}

function newVersion(model: string, extra: Partial<NewVersion> = {}): NewVersion {
  return {
    model,
    artifactDigest: randomUUID().replaceAll('-', '').padEnd(64, '0'),
    artifactSize: 1234,
    signature: {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
    },
    metrics: { accuracy: 0.97 },
    by: 'alice',
    ...extra,
  };
}

function conformance(name: string, makeEngine: () => Engine): void {
  describe(`MetadataStore conformance: ${name}`, () => {
    const engine = makeEngine();
    const url = engine.freshUrl();
    let store: MetadataStore;
    // Lowercase letters and digits only, so that "sorted by name" means the same on both engines.
    const unique = (prefix: string): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 10)}`;

    async function modelWithVersions(count: number): Promise<string> {
      const model = unique('m');
      await store.createModel({ name: model, by: 'alice' });
      for (let i = 0; i < count; i++) await store.createVersion(newVersion(model));
      return model;
    }

    before(async () => {
      store = await openMetadataStore({ url, pollMs: 50 });
    });
    after(async () => {
      await store.close();
      await engine.cleanup();
    });

    test('engine is reported', () => {
      assert.equal(store.engine, name);
    });

    test('models: create, get, update, delete; ALREADY_EXISTS and MODEL_NOT_FOUND', async () => {
      const model = unique('model');
      const created = await store.createModel({
        name: model,
        description: 'first',
        tags: ['a', 'b', 'a'],
        by: 'alice',
      });
      assert.deepEqual(created.tags, ['a', 'b']);
      assert.equal(created.createdBy, 'alice');
      assert.deepEqual(await store.getModel(model), created);

      await rejectsWith(
        store.createModel({ name: model, description: 'again', by: 'bob' }),
        'ALREADY_EXISTS',
        /already/,
      );
      assert.deepEqual(await store.getModel(model), created, 'a rejected create changes nothing');

      const updated = await store.updateModel(model, { description: 'second', tags: ['c'] });
      assert.equal(updated.description, 'second');
      assert.deepEqual(updated.tags, ['c']);
      assert.equal(updated.createdAt, created.createdAt);
      assert.ok(updated.updatedAt >= created.updatedAt);
      assert.deepEqual(await store.getModel(model), updated);
      assert.deepEqual((await store.updateModel(model, {})).tags, ['c'], 'an empty patch keeps everything');

      await store.deleteModel(model);
      await rejectsWith(store.getModel(model), 'MODEL_NOT_FOUND', new RegExp(`"${model}"`));
      await rejectsWith(store.updateModel(model, { description: 'x' }), 'MODEL_NOT_FOUND');
      await rejectsWith(store.deleteModel(model), 'MODEL_NOT_FOUND');
    });

    test('listModels: sorted by name, paginated, nameContains (case-insensitive) and tag filters', async () => {
      const prefix = unique('lm');
      const names = ['e', 'a', 'd', 'b', 'c'].map((suffix) => `${prefix}${suffix}`);
      for (const [i, model] of names.entries()) {
        await store.createModel({ name: model, tags: i % 2 === 0 ? [`${prefix}even`] : [], by: 'alice' });
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listModels({
          nameContains: prefix.toUpperCase(),
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((model) => model.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      assert.deepEqual(seen, [...names].sort());
      assert.equal(pages, 3);

      const tagged = await store.listModels({ tag: `${prefix}even` });
      assert.deepEqual(
        tagged.items.map((model) => model.name),
        [`${prefix}c`, `${prefix}d`, `${prefix}e`],
      );
      assert.equal(tagged.nextCursor, undefined);
      assert.deepEqual((await store.listModels({ nameContains: `${prefix}%` })).items, [], '% is not a wildcard');
      assert.deepEqual((await store.listModels({ nameContains: `${prefix}_` })).items, [], '_ is not a wildcard');
      assert.equal((await store.listModels({ nameContains: `${prefix}b` })).items.length, 1);

      await rejectsWith(store.listModels({ cursor: 'not-a-cursor' }), 'BAD_REQUEST', /cursor/);
      await rejectsWith(store.listModels({ limit: 0 }), 'BAD_REQUEST', /limit/);
      await rejectsWith(store.listModels({ limit: 1.5 }), 'BAD_REQUEST', /limit/);
      assert.ok((await store.listModels({ limit: 5000 })).items.length <= 1000);
    });

    test('versions: numbered per model, immutable artifact, newest first with filters', async () => {
      const model = await modelWithVersions(0);
      await rejectsWith(store.createVersion(newVersion(unique('missing'))), 'MODEL_NOT_FOUND');
      const input = newVersion(model, {
        tags: ['candidate'],
        description: 'v1',
        lineage: { runId: 'run-1', datasetVersion: 'ds@3', source: 'train' },
      });
      const v1 = await store.createVersion(input);
      assert.equal(v1.version, 1);
      assert.equal(v1.status, 'ready');
      assert.deepEqual(v1.signature, input.signature);
      assert.deepEqual(v1.metrics, input.metrics);
      assert.deepEqual(v1.lineage, input.lineage);
      assert.deepEqual(await store.getVersion(model, 1), v1);
      const v2 = await store.createVersion(
        newVersion(model, { tags: ['candidate', 'big'], lineage: { parentVersion: 1 } }),
      );
      const v3 = await store.createVersion(newVersion(model));
      assert.deepEqual([v2.version, v3.version], [2, 3]);

      const archived = await store.updateVersion(model, 2, { status: 'archived', tags: ['big'], description: 'old' });
      assert.equal(archived.status, 'archived');
      assert.deepEqual(archived.tags, ['big']);
      assert.equal(archived.description, 'old');
      // The contract has no way to change the artifact; a caller smuggling fields in gets nothing.
      const smuggled = {
        artifactDigest: 'f'.repeat(64),
        metrics: { accuracy: 0 },
        signature: { inputs: [], outputs: [] },
      };
      const after = await store.updateVersion(model, 2, smuggled as never);
      assert.equal(after.artifactDigest, v2.artifactDigest);
      assert.deepEqual(after.metrics, v2.metrics);
      assert.deepEqual(after.signature, v2.signature);
      assert.deepEqual(await store.getVersion(model, 2), after);
      await rejectsWith(store.updateVersion(model, 2, { status: 'gone' as never }), 'BAD_REQUEST');

      const all = await store.listVersions(model);
      assert.deepEqual(
        all.items.map((version) => version.version),
        [3, 2, 1],
      );
      const page1 = await store.listVersions(model, { limit: 2 });
      assert.deepEqual(
        page1.items.map((version) => version.version),
        [3, 2],
      );
      assert.ok(page1.nextCursor);
      const page2 = await store.listVersions(model, { limit: 2, ...nextPage(page1) });
      assert.deepEqual(
        page2.items.map((version) => version.version),
        [1],
      );
      assert.equal(page2.nextCursor, undefined);
      assert.deepEqual(
        (await store.listVersions(model, { status: 'archived' })).items.map((version) => version.version),
        [2],
      );
      assert.deepEqual(
        (await store.listVersions(model, { status: 'ready', tag: 'candidate' })).items.map(
          (version) => version.version,
        ),
        [1],
      );

      await rejectsWith(store.getVersion(model, 9), 'VERSION_NOT_FOUND', new RegExp(`version 9 of model "${model}"`));
      await rejectsWith(store.getVersion(unique('missing'), 1), 'MODEL_NOT_FOUND');
      await rejectsWith(store.listVersions(unique('missing')), 'MODEL_NOT_FOUND');
      await rejectsWith(store.updateVersion(model, 9, { description: 'x' }), 'VERSION_NOT_FOUND');
      await rejectsWith(store.createVersion(newVersion(model, { metrics: { loss: Number.NaN } })), 'BAD_REQUEST');

      await store.deleteVersion(model, 3);
      await rejectsWith(store.getVersion(model, 3), 'VERSION_NOT_FOUND');
      await rejectsWith(store.deleteVersion(model, 3), 'VERSION_NOT_FOUND');
      assert.equal((await store.createVersion(newVersion(model))).version, 4, 'a deleted number is not reused');
    });

    test('concurrent createVersion calls on one model get distinct numbers', async () => {
      const model = await modelWithVersions(0);
      const versions = await Promise.all(Array.from({ length: 10 }, () => store.createVersion(newVersion(model))));
      assert.deepEqual(
        versions.map((version) => version.version).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      assert.equal((await store.listVersions(model)).items.length, 10);
    });

    test('a version registered with its alias is one write: a refused move leaves no version and no gap', async () => {
      const model = await modelWithVersions(0);
      const heard = nextChange(store, { match: (change) => change.name === model && change.kind === 'alias' });
      const metadata = { 'stratum.classes': '["ham","spam"]', 'stratum.model': 'linear' };
      const v1 = await store.createVersion(
        newVersion(model, { metadata, alias: { name: 'production', reason: 'run 1', expectedRevision: 0 } }),
      );
      assert.equal(v1.version, 1);
      assert.deepEqual(v1.metadata, metadata);
      assert.deepEqual((await store.getVersion(model, 1)).metadata, metadata);
      assert.deepEqual(
        await heard,
        { kind: 'alias', name: model },
        'announced as an alias move: deployments follow it',
      );
      assert.equal((await store.getAlias(model, 'production')).version, 1);

      const v2 = await store.createVersion(
        newVersion(model, { alias: { name: 'production', reason: 'new outputs', forced: true, expectedRevision: 1 } }),
      );
      assert.equal(v2.version, 2);
      assert.deepEqual(v2.metadata, {}, 'a model without metadata gets {}');
      // The alias moved meanwhile (stale revision): neither the version nor the move is written.
      await rejectsWith(
        store.createVersion(newVersion(model, { alias: { name: 'production', expectedRevision: 1 } })),
        'PRECONDITION_FAILED',
      );
      assert.deepEqual(
        (await store.listVersions(model)).items.map((version) => version.version),
        [2, 1],
      );
      assert.equal((await store.createVersion(newVersion(model))).version, 3, 'no number was used up');
      const history = await store.aliasHistory({ model, alias: 'production' });
      assert.deepEqual(
        history.items.map((event) => [event.from, event.to, event.reason, event.forced]),
        [
          [1, 2, 'new outputs', true],
          [null, 1, 'run 1', false],
        ],
      );
      const moved = await store.setAlias({ model, alias: 'production', version: 3, by: 'bob', forced: true });
      assert.equal(moved.version, 3);
      const [latest] = (await store.aliasHistory({ model, alias: 'production', limit: 1 })).items;
      assert.equal(latest?.forced, true);
    });

    test('client usage: each name recorded once, read back sorted, gone with its deployment', async () => {
      const model = await modelWithVersions(1);
      const name = unique('dep');
      const deployment = { name, model, spec: {}, state: {}, versionRefs: [1], aliasRefs: [], by: 'alice' };
      await store.createDeployment(deployment);
      assert.deepEqual(await store.clientUsage(name), { inputs: [], outputs: [] });
      await store.recordClientUsage({ deployment: name, inputs: ['text'], outputs: ['probabilities'] });
      // Replicas recording the same names at once all succeed; new names are added.
      await Promise.all([
        store.recordClientUsage({ deployment: name, inputs: ['text'], outputs: ['label', 'probabilities'] }),
        store.recordClientUsage({ deployment: name, inputs: ['Subject', 'text'] }),
        store.recordClientUsage({ deployment: name, outputs: ['label'] }),
      ]);
      assert.deepEqual(await store.clientUsage(name), {
        inputs: ['Subject', 'text'],
        outputs: ['label', 'probabilities'],
      });
      await rejectsWith(
        store.recordClientUsage({ deployment: unique('nodep'), inputs: ['x'] }),
        'DEPLOYMENT_NOT_FOUND',
      );
      await rejectsWith(store.clientUsage(unique('nodep')), 'DEPLOYMENT_NOT_FOUND');

      await store.deleteDeployment({ name, by: 'alice' });
      await store.createDeployment(deployment);
      assert.deepEqual(await store.clientUsage(name), { inputs: [], outputs: [] }, 'a new deployment starts clean');
    });

    test('aliases: create, move with compare-and-set, history, delete', async () => {
      const model = await modelWithVersions(3);
      const created = await store.setAlias({
        model,
        alias: 'production',
        version: 1,
        by: 'alice',
        expectedRevision: 0,
      });
      assert.equal(created.revision, 1);
      assert.equal(created.version, 1);
      const moved = await store.setAlias({
        model,
        alias: 'production',
        version: 2,
        by: 'bob',
        reason: 'better accuracy',
        expectedRevision: 1,
      });
      assert.equal(moved.revision, 2);
      assert.deepEqual(await store.getAlias(model, 'production'), moved);

      await rejectsWith(
        store.setAlias({ model, alias: 'production', version: 3, by: 'carol', expectedRevision: 1 }),
        'PRECONDITION_FAILED',
        /revision 2/,
      );
      await rejectsWith(
        store.setAlias({ model, alias: 'production', version: 3, by: 'carol', expectedRevision: 0 }),
        'PRECONDITION_FAILED',
      );
      await rejectsWith(
        store.setAlias({ model, alias: 'production', version: 42, by: 'carol' }),
        'VERSION_NOT_FOUND',
        /version 42/,
      );
      await rejectsWith(
        store.setAlias({ model, alias: 'staging', version: 1, by: 'carol', expectedRevision: 3 }),
        'PRECONDITION_FAILED',
      );
      await rejectsWith(
        store.setAlias({ model: unique('missing'), alias: 'a', version: 1, by: 'x' }),
        'MODEL_NOT_FOUND',
      );
      assert.deepEqual(await store.getAlias(model, 'production'), moved, 'rejected moves change nothing');
      await rejectsWith(store.getAlias(model, 'staging'), 'ALIAS_NOT_FOUND', /"staging"/);

      await store.setAlias({ model, alias: 'staging', version: 3, by: 'carol' });
      assert.deepEqual(
        (await store.listAliases(model)).map((alias) => [alias.alias, alias.version]),
        [
          ['production', 2],
          ['staging', 3],
        ],
      );

      const history = await store.aliasHistory({ model, alias: 'production' });
      assert.deepEqual(
        history.items.map((event) => [event.from, event.to, event.by, event.reason]),
        [
          [1, 2, 'bob', 'better accuracy'],
          [null, 1, 'alice', ''],
        ],
      );
      assert.ok(history.items.every((event) => event.model === model && event.alias === 'production' && event.at > 0));

      await rejectsWith(
        store.deleteAlias({ model, alias: 'staging', by: 'dave', expectedRevision: 7 }),
        'PRECONDITION_FAILED',
      );
      await store.deleteAlias({ model, alias: 'staging', by: 'dave', reason: 'unused', expectedRevision: 1 });
      await rejectsWith(store.getAlias(model, 'staging'), 'ALIAS_NOT_FOUND');
      await rejectsWith(store.deleteAlias({ model, alias: 'staging', by: 'dave' }), 'ALIAS_NOT_FOUND');

      const everything = await store.aliasHistory({ model, limit: 2 });
      assert.deepEqual(
        everything.items.map((event) => [event.alias, event.from, event.to, event.by]),
        [
          ['staging', 3, null, 'dave'],
          ['staging', null, 3, 'carol'],
        ],
      );
      const rest = await store.aliasHistory({ model, limit: 2, ...nextPage(everything) });
      assert.deepEqual(
        rest.items.map((event) => [event.alias, event.to]),
        [
          ['production', 2],
          ['production', 1],
        ],
      );
      assert.equal(rest.nextCursor, undefined);
      await rejectsWith(store.aliasHistory({ model: unique('missing') }), 'MODEL_NOT_FOUND');
      await rejectsWith(store.listAliases(unique('missing')), 'MODEL_NOT_FOUND');
    });

    test('two concurrent moves from the same revision: exactly one wins', async () => {
      const model = await modelWithVersions(3);
      const alias = await store.setAlias({ model, alias: 'production', version: 1, by: 'alice' });
      const results = await Promise.allSettled([
        store.setAlias({ model, alias: 'production', version: 2, by: 'bob', expectedRevision: alias.revision }),
        store.setAlias({ model, alias: 'production', version: 3, by: 'carol', expectedRevision: alias.revision }),
      ]);
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result) => result.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      const reason: unknown = lost[0]?.reason;
      assert.ok(reason instanceof StratumError && reason.code === 'PRECONDITION_FAILED');
      const final = await store.getAlias(model, 'production');
      assert.equal(final.revision, 2);
      assert.deepEqual(final, won[0]?.value);
      assert.equal((await store.aliasHistory({ model })).items.length, 2, 'only the winner is recorded');
    });

    test('deployments: create, update with compare-and-set and events, list, delete', async () => {
      const model = await modelWithVersions(2);
      await store.setAlias({ model, alias: 'production', version: 2, by: 'alice' });
      const name = unique('dep');
      const created = await store.createDeployment({
        name,
        model,
        spec: { replicas: 2, route: { alias: 'production' } },
        state: { phase: 'pending' },
        versionRefs: [1, 1],
        aliasRefs: ['production'],
        by: 'alice',
        event: { kind: 'created', message: 'deployment created' },
      });
      assert.equal(created.revision, 1);
      assert.deepEqual(created.versionRefs, [1]);
      assert.deepEqual(await store.getDeployment(name), created);

      await rejectsWith(
        store.createDeployment({ name, model, spec: {}, state: {}, versionRefs: [], aliasRefs: [], by: 'bob' }),
        'ALREADY_EXISTS',
        new RegExp(`"${name}"`),
      );
      const missingRef = unique('dep');
      await rejectsWith(
        store.createDeployment({
          name: missingRef,
          model,
          spec: {},
          state: {},
          versionRefs: [9],
          aliasRefs: [],
          by: 'bob',
        }),
        'VERSION_NOT_FOUND',
        /version 9/,
      );
      await rejectsWith(
        store.createDeployment({
          name: missingRef,
          model,
          spec: {},
          state: {},
          versionRefs: [],
          aliasRefs: ['x'],
          by: 'b',
        }),
        'ALIAS_NOT_FOUND',
      );
      await rejectsWith(
        store.createDeployment({
          name: missingRef,
          model: unique('missing'),
          spec: {},
          state: {},
          versionRefs: [],
          aliasRefs: [],
          by: 'b',
        }),
        'MODEL_NOT_FOUND',
      );
      await rejectsWith(store.getDeployment(missingRef), 'DEPLOYMENT_NOT_FOUND', new RegExp(`"${missingRef}"`));
      assert.deepEqual(await store.getDeployment(name), created, 'rejected creates change nothing');

      const updated = await store.updateDeployment({
        name,
        model,
        spec: { replicas: 3 },
        state: { phase: 'ready' },
        versionRefs: [2],
        aliasRefs: [],
        by: 'bob',
        expectedRevision: 1,
        event: { kind: 'scaled', message: 'replicas 2 → 3', detail: { from: 2, to: 3 } },
      });
      assert.equal(updated.revision, 2);
      assert.equal(updated.createdAt, created.createdAt);
      assert.deepEqual(updated.spec, { replicas: 3 });
      assert.deepEqual(await store.getDeployment(name), updated);
      await rejectsWith(
        store.updateDeployment({
          name,
          model,
          spec: { replicas: 9 },
          state: {},
          versionRefs: [],
          aliasRefs: [],
          by: 'carol',
          expectedRevision: 1,
          event: { kind: 'scaled', message: 'lost' },
        }),
        'PRECONDITION_FAILED',
      );
      await rejectsWith(
        store.updateDeployment({
          name: missingRef,
          model,
          spec: {},
          state: {},
          versionRefs: [],
          aliasRefs: [],
          by: 'c',
        }),
        'DEPLOYMENT_NOT_FOUND',
      );
      assert.deepEqual(await store.getDeployment(name), updated, 'a stale update changes nothing');

      const appended = await store.appendDeploymentEvent({
        deployment: name,
        kind: 'rollout-step',
        message: 'step 1 of 3',
        detail: { weight: 10 },
        by: 'controller',
      });
      assert.ok(appended.id > 0 && appended.at > 0);
      await rejectsWith(
        store.appendDeploymentEvent({ deployment: missingRef, kind: 'x', message: 'x', detail: null, by: 'x' }),
        'DEPLOYMENT_NOT_FOUND',
      );
      const events = await store.deploymentEvents({ deployment: name, limit: 2 });
      assert.deepEqual(
        events.items.map((event) => [event.kind, event.by]),
        [
          ['rollout-step', 'controller'],
          ['scaled', 'bob'],
        ],
      );
      assert.deepEqual(events.items[1]?.detail, { from: 2, to: 3 });
      assert.deepEqual(events.items[0], appended);
      const older = await store.deploymentEvents({ deployment: name, limit: 2, ...nextPage(events) });
      assert.deepEqual(
        older.items.map((event) => [event.kind, event.message, event.detail]),
        [['created', 'deployment created', null]],
      );
      assert.equal(older.nextCursor, undefined);

      const second = unique('dep');
      await store.createDeployment({
        name: second,
        model,
        spec: null,
        state: null,
        versionRefs: [],
        aliasRefs: [],
        by: 'a',
      });
      const listed = await store.listDeployments({ model, limit: 1 });
      assert.equal(listed.items.length, 1);
      const listedRest = await store.listDeployments({ model, limit: 1, ...nextPage(listed) });
      assert.deepEqual(
        [...listed.items, ...listedRest.items].map((deployment) => deployment.name),
        [name, second].sort(),
      );
      assert.equal(listedRest.nextCursor, undefined);
      assert.deepEqual((await store.listDeployments({ model: unique('missing') })).items, []);

      await rejectsWith(store.deleteDeployment({ name, by: 'dave', expectedRevision: 1 }), 'PRECONDITION_FAILED');
      assert.equal((await store.getDeployment(name)).revision, 2);
      await store.deleteDeployment({ name, by: 'dave', expectedRevision: 2 });
      await rejectsWith(store.getDeployment(name), 'DEPLOYMENT_NOT_FOUND');
      await rejectsWith(store.deploymentEvents({ deployment: name }), 'DEPLOYMENT_NOT_FOUND');
      await rejectsWith(store.deleteDeployment({ name, by: 'dave' }), 'DEPLOYMENT_NOT_FOUND');
    });

    test('IN_USE: versions, aliases and models in use cannot be deleted, and stay as they were', async () => {
      const model = await modelWithVersions(3);
      await store.setAlias({ model, alias: 'production', version: 3, by: 'alice' });
      await store.setAlias({ model, alias: 'canary', version: 2, by: 'alice' });
      const deployment = unique('dep');
      await store.createDeployment({
        name: deployment,
        model,
        spec: {},
        state: {},
        versionRefs: [3],
        aliasRefs: ['canary'],
        by: 'alice',
      });

      const versionError = await rejectsWith(
        store.deleteVersion(model, 3),
        'IN_USE',
        new RegExp(`^version 3 of "${model}" is in use by alias "production" and deployment "${deployment}"$`),
      );
      assert.deepEqual(versionError.details, { model, version: 3, aliases: ['production'], deployments: [deployment] });
      await rejectsWith(store.deleteVersion(model, 2), 'IN_USE', /alias "canary"/);
      assert.equal((await store.getVersion(model, 3)).version, 3);

      const aliasError = await rejectsWith(
        store.deleteAlias({ model, alias: 'canary', by: 'bob' }),
        'IN_USE',
        new RegExp(`alias "canary" of "${model}" is in use by deployment "${deployment}"`),
      );
      assert.deepEqual(aliasError.details, { model, alias: 'canary', deployments: [deployment] });
      assert.equal((await store.getAlias(model, 'canary')).revision, 1);
      assert.equal((await store.aliasHistory({ model, alias: 'canary' })).items.length, 1, 'no event for a refusal');

      const modelError = await rejectsWith(store.deleteModel(model), 'IN_USE', /versions 1, 2, 3 and deployment/);
      assert.deepEqual(modelError.details, { model, versions: [1, 2, 3], deployments: [deployment] });
      assert.equal((await store.getModel(model)).name, model);

      // Free everything in order; each step is then allowed.
      await store.deleteVersion(model, 1);
      await store.updateDeployment({
        name: deployment,
        model,
        spec: {},
        state: {},
        versionRefs: [],
        aliasRefs: [],
        by: 'alice',
      });
      await store.deleteAlias({ model, alias: 'canary', by: 'bob' });
      await store.deleteVersion(model, 2);
      await store.setAlias({ model, alias: 'production', version: 3, by: 'alice' });
      await rejectsWith(store.deleteVersion(model, 3), 'IN_USE', /alias "production"$/);
      await store.deleteAlias({ model, alias: 'production', by: 'bob' });
      await rejectsWith(store.deleteModel(model), 'IN_USE', /version 3 and deployment/);
      await store.deleteVersion(model, 3);
      await rejectsWith(store.deleteModel(model), 'IN_USE', new RegExp(`deployment "${deployment}"$`));
      await store.deleteDeployment({ name: deployment, by: 'alice' });
      await store.deleteModel(model);
      await rejectsWith(store.getModel(model), 'MODEL_NOT_FOUND');
    });

    test('referencedArtifacts lists every version digest', async () => {
      const model = await modelWithVersions(0);
      const a = await store.createVersion(newVersion(model));
      const b = await store.createVersion(newVersion(model));
      const digests = await store.referencedArtifacts();
      assert.ok(digests.has(a.artifactDigest) && digests.has(b.artifactDigest));
      await store.deleteVersion(model, b.version);
      assert.ok(!(await store.referencedArtifacts()).has(b.artifactDigest));
    });

    test('onChange: the writing store hears its own change at commit, exactly once', async (t) => {
      const seen: StoreChange[] = [];
      const stop = store.onChange((change) => seen.push(change));
      const model = unique('ch');
      await store.createModel({ name: model, by: 'alice' });
      assert.deepEqual(
        seen.filter((change) => change.name === model),
        [{ kind: 'model', name: model }],
        'delivered before the write returns',
      );
      await store.createVersion(newVersion(model));
      await rejectsWith(store.createModel({ name: model, by: 'alice' }), 'ALREADY_EXISTS');
      // Polling (every 50 ms) and, on PostgreSQL, NOTIFY see the same changes again. A later
      // change written by another store reaches this one only through them, after these (both
      // deliver in commit order): once it is heard, every repeat would have been heard too.
      const other = await openMetadataStore({ url });
      t.after(() => other.close());
      const later = unique('ch');
      const heard = nextChange(store, { match: (change) => change.name === later });
      await other.createModel({ name: later, by: 'alice' });
      await heard;
      stop();
      assert.deepEqual(
        seen.filter((change) => change.name === model),
        [
          { kind: 'model', name: model },
          { kind: 'version', name: model },
        ],
      );
    });

    test('onChange: another store on the same database hears a change (PostgreSQL: by NOTIFY)', async (t) => {
      // On PostgreSQL the replica does not poll, so what it hears came through NOTIFY (or, for the
      // first change, the resync when its LISTEN connection opened); SQLite has only polling.
      const replica = await openMetadataStore({ url, pollMs: name === 'postgres' ? NO_POLL_MS : 50 });
      t.after(() => replica.close());
      const model = unique('rep');
      const heard = nextChange(replica, { match: (change) => change.name === model });
      await store.createModel({ name: model, by: 'alice' });
      assert.deepEqual(await heard, { kind: 'model', name: model });
      // A second change, once the replica's LISTEN connection is certainly up.
      const moved = nextChange(replica, { match: (change) => change.kind === 'version' && change.name === model });
      await store.createVersion(newVersion(model));
      assert.deepEqual(await moved, { kind: 'version', name: model });
    });

    test('migrations run once when two stores open a fresh database at the same time', async (t) => {
      const freshUrl = engine.freshUrl();
      const stores = await Promise.all([openMetadataStore({ url: freshUrl }), openMetadataStore({ url: freshUrl })]);
      t.after(() => Promise.all(stores.map((opened) => opened.close())));
      const driver = await engine.rawDriver(freshUrl);
      t.after(() => driver.close());
      const applied = await driver.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      // Every file of src/store/migrations, once each, in order.
      assert.deepEqual(applied, await migrationFiles(name));
      const [first, second] = stores;
      assert.ok(first && second);
      const model = unique('mig');
      await first.createModel({ name: model, by: 'alice' });
      assert.equal((await second.getModel(model)).name, model);
      const reopened = await openMetadataStore({ url: freshUrl });
      await reopened.close();
      assert.equal(
        (await driver.query('SELECT version FROM schema_migrations')).length,
        (await migrationFiles(name)).length,
      );
    });

    test('two processes starting on a fresh database: one migration run, distinct version numbers', async (t) => {
      const freshUrl = engine.freshUrl();
      const model = unique('proc');
      const outputs = await Promise.all(
        [1, 2].map(() => execFileAsync(process.execPath, ['--import', 'tsx', CHILD, freshUrl, model, '5'])),
      );
      const numbers = outputs.flatMap((output) => JSON.parse(output.stdout) as number[]).sort((a, b) => a - b);
      assert.deepEqual(numbers, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const driver = await engine.rawDriver(freshUrl);
      t.after(() => driver.close());
      assert.equal(
        (await driver.query('SELECT version FROM schema_migrations')).length,
        (await migrationFiles(name)).length,
      );
    });

    test('close is idempotent and later calls fail with STORE_UNAVAILABLE', async () => {
      const other = await openMetadataStore({ url });
      other.onChange(() => undefined);
      await Promise.all([other.close(), other.close()]);
      await other.close();
      await rejectsWith(other.getModel('anything'), 'STORE_UNAVAILABLE');
    });
  });
}

conformance('sqlite', sqliteEngine);
conformance('postgres', postgresEngine);

describe('engine specifics', () => {
  test('sqlite: a file that cannot be opened is STORE_UNAVAILABLE', async (t) => {
    const folder = mkdtempSync(join(tmpdir(), 'stratum-store-'));
    t.after(() => rmSync(folder, { recursive: true, force: true }));
    writeFileSync(join(folder, 'file'), 'not a folder');
    await rejectsWith(openMetadataStore({ url: `sqlite:${join(folder, 'file', 'db.sqlite')}` }), 'STORE_UNAVAILABLE');
  });

  test('sqlite: relative paths resolve against cwd, and :memory: works', async (t) => {
    const folder = mkdtempSync(join(tmpdir(), 'stratum-store-'));
    t.after(() => rmSync(folder, { recursive: true, force: true }));
    const store = await openMetadataStore({ url: 'sqlite:nested/stratum.db', cwd: folder });
    await store.createModel({ name: 'iris', by: 'alice' });
    await store.close();
    const again = await openMetadataStore({ url: `sqlite:${join(folder, 'nested', 'stratum.db')}` });
    assert.equal((await again.getModel('iris')).name, 'iris');
    await again.close();
    const memory = await openMetadataStore({ url: 'sqlite::memory:' });
    await memory.createModel({ name: 'iris', by: 'alice' });
    await memory.close();
  });

  test('postgres: an unreachable server is STORE_UNAVAILABLE', async () => {
    await rejectsWith(openMetadataStore({ url: 'postgres://postgres@127.0.0.1:1/test' }), 'STORE_UNAVAILABLE');
  });

  test('postgres: a schema that is not a plain identifier is refused', async () => {
    await rejectsWith(openMetadataStore({ url: `${PG_BASE}?schema=Bad-Name` }), 'CONFIG_INVALID', /schema/);
  });

  test('unknown URL schemes are refused', async () => {
    await rejectsWith(openMetadataStore({ url: 'mysql://localhost/x' }), 'CONFIG_INVALID');
  });

  test('postgres: the LISTEN connection comes back after being dropped', async (t) => {
    const engine = postgresEngine();
    const url = engine.freshUrl();
    t.after(() => engine.cleanup());
    const writer = await openMetadataStore({ url });
    t.after(() => writer.close());
    const replica = await openMetadataStore({ url, pollMs: NO_POLL_MS });
    t.after(() => replica.close());
    const schema = parsePostgresUrl(url).schema;
    const first = `a${randomUUID().slice(0, 8)}`;
    const heard = nextChange(replica, { match: (change) => change.name === first });
    await writer.createModel({ name: first, by: 'alice' });
    await heard;

    const admin = new pg.Client({ connectionString: PG_BASE });
    await admin.connect();
    t.after(() => admin.end());
    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [`stratum-listen:${schema}`],
    );
    assert.equal(killed.rowCount, 1);

    // Written whether or not the replica has noticed the drop yet: it is heard either way, through
    // the resync on reconnect (the replica does not poll) or through NOTIFY once it listens again.
    const second = `b${randomUUID().slice(0, 8)}`;
    const heardAgain = nextChange(replica, { match: (change) => change.name === second });
    await writer.createModel({ name: second, by: 'alice' });
    assert.deepEqual(await heardAgain, { kind: 'model', name: second });
    // The next one comes through NOTIFY again.
    const third = `c${randomUUID().slice(0, 8)}`;
    const heardThird = nextChange(replica, { match: (change) => change.name === third });
    await writer.createModel({ name: third, by: 'alice' });
    await heardThird;
  });
});
