/**
 * Starts a real Stratum server in-process on free ports, over a fresh model repository built from
 * the ONNX fixtures, and registers its teardown with the test.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { type ConfigInput, loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { FixtureName } from '../../src/onnx/fixtures.ts';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import type { DriftWindowSource } from '../../src/drift/drift-window-source.ts';
import { startServer, type StratumServer } from '../../src/server/stratum-server.ts';

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** Fixtures to put in the repository. @default ['mlp'] */
  fixtures?: readonly FixtureName[];
  /** `config.json` per model. */
  modelConfigs?: Readonly<Record<string, object>>;
  /** Configuration overrides (ports default to 0, watching to off, logs to silent). */
  overrides?: ConfigInput;
  /** Skip gRPC. @default false */
  withoutGrpc?: boolean;
  /** Writes more models into the repository folder before the server starts. */
  repository?: (dir: string) => Promise<void>;
  /** Where log lines go (set `overrides.logLevel` too: the default is silent). */
  logDestination?: NodeJS.WritableStream;
}

/** A running test server and its repository folder. */
export interface TestServer extends StratumServer {
  readonly dir: string;
}

/** Builds a repository in a temp folder and starts a server on it. */
export async function startTestServer(t: TestContext, options: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeModelRepository(dir, options);
  await options.repository?.(dir);
  const config = loadConfig({
    env: {},
    overrides: {
      httpPort: 0,
      grpcPort: 0,
      watch: false,
      logLevel: 'silent',
      runtime: { workers: 1 },
      registry: false,
      ...options.overrides,
      modelsDir: dir,
    },
  });
  const logger = createLogger({
    level: config.logLevel,
    ...(options.logDestination !== undefined && { destination: options.logDestination }),
  });
  const server = await startServer({ config, logger, withoutGrpc: options.withoutGrpc ?? false });
  t.after(() => server.close());
  return Object.assign(Object.create(null) as object, server, { dir }) as TestServer;
}

/** Writes fixtures and their configs into `dir`. */
export async function writeModelRepository(
  dir: string,
  options: Pick<TestServerOptions, 'fixtures' | 'modelConfigs'>,
): Promise<void> {
  await writeFixtureRepository({ dir, only: options.fixtures ?? ['mlp'] });
  for (const [model, config] of Object.entries(options.modelConfigs ?? {})) {
    await writeFile(join(dir, model, 'config.json'), JSON.stringify(config));
  }
}

/** POSTs JSON to the server in-process (no socket) and returns status, headers and parsed body. */
export async function injectJson(
  server: StratumServer,
  options: { method?: 'GET' | 'POST'; url: string; body?: unknown; headers?: Record<string, string> },
): Promise<{ status: number; headers: Record<string, unknown>; json: unknown; raw: Buffer }> {
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string' || Buffer.isBuffer(options.body)
        ? options.body
        : JSON.stringify(options.body);
  const res = await server.http.inject({
    method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
    url: options.url,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(payload !== undefined && { payload }),
  });
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, json, raw: res.rawPayload };
}

/** Options of {@link startRegistryServer}. */
export interface RegistryServerOptions {
  /** Metadata store engine. @default 'sqlite' (in a temp folder) */
  engine?: 'sqlite' | 'postgres';
  /** Configuration overrides (ports default to 0, logs to silent). */
  overrides?: ConfigInput;
  /** Skip gRPC. @default true */
  withoutGrpc?: boolean;
  /** Where drift windows are read. @default an empty in-memory source */
  driftSource?: DriftWindowSource;
}

/** A running server with the registry on, and where its state lives. */
export interface RegistryServer extends StratumServer {
  readonly dir: string;
  readonly databaseUrl: string;
  readonly artifactsUrl: string;
}

/**
 * Starts a server with the registry on and no model folder: SQLite and artifacts in a temp folder,
 * or a fresh PostgreSQL schema (dropped after the test).
 */
export async function startRegistryServer(
  t: TestContext,
  options: RegistryServerOptions = {},
): Promise<RegistryServer> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-registry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const databaseUrl = options.engine === 'postgres' ? await freshPostgresUrl(t) : `sqlite:${join(dir, 'stratum.db')}`;
  const artifactsUrl = `file:${join(dir, 'artifacts')}`;
  const config = loadConfig({
    env: {},
    overrides: {
      httpPort: 0,
      grpcPort: 0,
      logLevel: 'silent',
      runtime: { workers: 1 },
      registry: true,
      databaseUrl,
      artifactsUrl,
      registryPollMs: 200,
      ...options.overrides,
    },
  });
  const logger = createLogger({ level: config.logLevel });
  const server = await startServer({
    config,
    logger,
    withoutGrpc: options.withoutGrpc ?? true,
    ...(options.driftSource !== undefined && { driftSource: options.driftSource }),
  });
  t.after(() => server.close());
  return Object.assign(Object.create(null) as object, server, { dir, databaseUrl, artifactsUrl }) as RegistryServer;
}

/** A PostgreSQL URL on a schema of its own, dropped when the test ends. */
export async function freshPostgresUrl(t: TestContext): Promise<string> {
  const schema = `stratum_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  t.after(async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  });
  return `${POSTGRES_URL}?schema=${schema}`;
}

/** The test PostgreSQL (trust auth, database test). */
export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
