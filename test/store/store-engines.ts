/**
 * The two store engines the conformance suites of one part of the MetadataStore contract run on,
 * for real: SQLite in a temporary folder and PostgreSQL in a schema of its own (dropped afterwards);
 * and the check that a call fails with a given Stratum error code.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type ErrorCode, StratumError } from '../../src/errors/index.ts';

const PG_BASE = 'postgres://postgres@127.0.0.1:5432/test';

/** A database for one suite: its URL and how to remove it. */
export interface Engine {
  readonly url: string;
  cleanup(): Promise<void>;
}

/** A SQLite file in a temporary folder named `stratum-<prefix>-…`. */
export function sqliteEngine(prefix: string): Engine {
  const folder = mkdtempSync(join(tmpdir(), `stratum-${prefix}-`));
  return {
    url: `sqlite:${join(folder, 'stratum.db')}`,
    cleanup: () => {
      rmSync(folder, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** A PostgreSQL schema of its own in the `test` database. */
export function postgresEngine(): Engine {
  const schema = `stratum_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  return {
    url: `${PG_BASE}?schema=${schema}`,
    cleanup: async () => {
      const client = new pg.Client({ connectionString: PG_BASE });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Asserts that `promise` rejects with a StratumError of `code` (and a message matching `message`). */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof StratumError, `expected a StratumError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message !== undefined) assert.match(caught.message, message);
}
