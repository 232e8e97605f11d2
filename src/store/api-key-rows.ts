/**
 * API keys on SQL: the `api_keys` rows. Written outside the change feed (no replica reacts to a
 * key: each verifies against the row and caches for a short TTL), each write one statement.
 */
import { StratumError } from '../errors/index.ts';
import type { ApiKeyRecord, ApiKeyStore, StoredApiKey } from './api-key-store.ts';
import type { RowMethodsOptions } from './store-rows.ts';
import { fromJson, toJson } from './store-rows.ts';
import { quote } from './store-errors.ts';

const COLUMNS = 'id, name, secret_hash, grants, limits, created_at, created_by, expires_at, revoked_at, revoked_by';

interface ApiKeyRow {
  id: string;
  name: string;
  secret_hash: string;
  grants: string;
  limits: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
}

function toStored(row: ApiKeyRow): StoredApiKey {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    grants: fromJson(row.grants),
    limits: fromJson(row.limits),
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
    ...(row.expires_at !== null && { expiresAt: Number(row.expires_at) }),
    ...(row.revoked_at !== null && { revokedAt: Number(row.revoked_at) }),
    ...(row.revoked_by !== null && { revokedBy: row.revoked_by }),
  };
}

/** The public fields only. */
export function publicKey(key: StoredApiKey): ApiKeyRecord {
  const record: Record<string, unknown> = { ...key };
  delete record['secretHash'];
  return record as unknown as ApiKeyRecord;
}

/** The API key methods of the SQL store. */
export function apiKeyMethods(options: RowMethodsOptions): ApiKeyStore {
  const { driver } = options;
  const find = async (id: string): Promise<StoredApiKey | undefined> => {
    const rows = await driver.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : toStored(rows[0]);
  };
  return {
    createApiKey: async (key) => {
      const { changes } = await driver.execute(
        `INSERT INTO api_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL) ON CONFLICT (id) DO NOTHING`,
        [
          key.id,
          key.name,
          key.secretHash,
          toJson(key.grants),
          toJson(key.limits),
          key.createdAt,
          key.createdBy,
          key.expiresAt ?? null,
        ],
      );
      if (changes === 0) throw new StratumError('ALREADY_EXISTS', `API key ${quote(key.id)} already exists`);
      const created: Record<string, unknown> = { ...publicKey(key) };
      delete created['revokedAt'];
      delete created['revokedBy'];
      return created as unknown as ApiKeyRecord;
    },

    findApiKey: find,

    listApiKeys: async () => {
      const rows = await driver.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, id`);
      return rows.map((row) => publicKey(toStored(row)));
    },

    revokeApiKey: async ({ id, by }) => {
      await driver.execute('UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL', [
        Date.now(),
        by,
        id,
      ]);
      const key = await find(id);
      if (key === undefined) throw new StratumError('NOT_FOUND', `no API key ${quote(id)}`);
      return publicKey(key);
    },
  };
}
