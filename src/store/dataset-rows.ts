/**
 * Dataset versions on SQL: the rows, the mapping to the contract's records and the store methods,
 * on the same `write` (one transaction, one change record) as the rest of the store.
 */
import { StratumError } from '../errors/index.ts';
import type { DatasetVersionRecord, MetadataStore } from './metadata-store.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { quote } from './store-errors.ts';
import { type RowMethodsOptions, toJson } from './store-rows.ts';

/** A `dataset_versions` row. */
interface DatasetVersionRow {
  readonly version: string;
  readonly seq: number;
  readonly name: string;
  readonly source: string;
  readonly num_rows: number;
  readonly profile: string;
  readonly created_at: number;
  readonly created_by: string;
}
const COLUMNS = 'version, seq, name, source, num_rows, profile, created_at, created_by';

function toDatasetVersion(row: DatasetVersionRow): DatasetVersionRecord {
  return {
    version: row.version,
    name: row.name,
    source: row.source,
    numRows: Number(row.num_rows),
    profile: JSON.parse(row.profile) as unknown,
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
  };
}

async function findDatasetVersion(db: SqlExecutor, version: string): Promise<DatasetVersionRow | undefined> {
  const [row] = await db.query<DatasetVersionRow>(`SELECT ${COLUMNS} FROM dataset_versions WHERE version = ?`, [
    version,
  ]);
  return row;
}

type DatasetMethods = Pick<MetadataStore, 'recordDatasetVersion' | 'getDatasetVersion' | 'listDatasetVersions'>;

/** The dataset-version methods of the SQL store. */
export function datasetMethods(options: RowMethodsOptions): DatasetMethods {
  const { driver, write } = options;
  return {
    recordDatasetVersion: async (dataset) => {
      if (dataset.version === '') throw new StratumError('BAD_REQUEST', 'a dataset version needs its content hash');
      if (dataset.name === '') throw new StratumError('BAD_REQUEST', 'a dataset version needs a name');
      if (!Number.isSafeInteger(dataset.numRows) || dataset.numRows < 0) {
        throw new StratumError('BAD_REQUEST', `numRows must be an integer >= 0, got ${dataset.numRows}`);
      }
      const existing = await findDatasetVersion(driver, dataset.version);
      if (existing !== undefined) return toDatasetVersion(existing);
      return write({ kind: 'dataset', name: dataset.version }, async (tx, seq) => {
        // Checked again inside the transaction: two runs reading the same data at once.
        const raced = await findDatasetVersion(tx, dataset.version);
        if (raced !== undefined) return toDatasetVersion(raced);
        const record: DatasetVersionRecord = {
          version: dataset.version,
          name: dataset.name,
          source: dataset.source,
          numRows: dataset.numRows,
          profile: dataset.profile,
          createdAt: Date.now(),
          createdBy: dataset.by,
        };
        await tx.execute(`INSERT INTO dataset_versions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
          record.version,
          seq,
          record.name,
          record.source,
          record.numRows,
          toJson(record.profile ?? null),
          record.createdAt,
          record.createdBy,
        ]);
        return record;
      });
    },

    getDatasetVersion: async (version) => {
      const row = await findDatasetVersion(driver, version);
      if (row === undefined) {
        throw new StratumError('NOT_FOUND', `dataset version ${quote(version)} does not exist`, {
          details: { datasetVersion: version },
        });
      }
      return toDatasetVersion(row);
    },

    listDatasetVersions: async (options) =>
      selectPage(driver, {
        columns: COLUMNS,
        from: 'dataset_versions',
        filters: [{ sql: 'name = ?', value: options?.name }],
        orderBy: { column: 'seq', descending: true, key: (row: DatasetVersionRow) => row.seq },
        page: pageRequest(options, 'number'),
        map: toDatasetVersion,
      }),
  };
}
