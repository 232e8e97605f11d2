/**
 * Drift of a deployment's versions: reads the deployment's settings, the version's reference and
 * the current window, judges every column, stores the report and sets the gauges. What the drift
 * routes call.
 */
import { StratumError } from '../errors/index.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { type DriftConfig, type DriftWindow, durationMs, parseDriftConfig, windowKey } from './drift-config.ts';
import type { CurrentColumn, DriftReference, NamedReference } from './drift-columns.ts';
import type { DriftMetrics } from './drift-metrics.ts';
import { PREDICTION_PREFIX } from './drift-reference.ts';
import type { DriftReport } from './drift-report.ts';
import { createDriftRunner, type DriftRunner } from './drift-runner.ts';
import type { DriftWindowRows, DriftWindowSource } from './drift-window-source.ts';
import { createReferenceLoader, type ReferenceStore } from './reference-loader.ts';
import { windowColumns } from './window-columns.ts';

/** What the service reads and writes in the store. */
export type DriftStore = ReferenceStore &
  Pick<
    MetadataStore,
    'getDeployment' | 'getAlias' | 'getDriftConfig' | 'setDriftConfig' | 'saveDriftReport' | 'listDriftReports'
  >;

/** Options of {@link createDriftService}. */
export interface DriftServiceOptions {
  readonly store: DriftStore;
  readonly source: DriftWindowSource;
  /** Where the gauges are set. @default none */
  readonly metrics?: DriftMetrics;
  /** Runs the comparisons. @default a runner of its own (closed by `close()`) */
  readonly runner?: DriftRunner;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Which report: a deployment's, of a version (default: the one it serves) and a window (default: its settings'). */
export interface DriftTarget {
  readonly deployment: string;
  readonly version?: number;
  readonly window?: DriftWindow;
}

/** The drift service. */
export interface DriftService {
  /** The deployment's settings (the defaults when none were set). */
  getConfig(deployment: string): Promise<DriftConfig>;
  /** Validates (BAD_REQUEST naming the bad field) and stores the deployment's settings. */
  setConfig(options: { deployment: string; config: unknown; by: string }): Promise<DriftConfig>;
  /** Computes a report now, stores it and sets the gauges. */
  compute(target: DriftTarget): Promise<DriftReport>;
  /** The newest stored report; NOT_FOUND when none was computed yet. */
  latest(target: DriftTarget): Promise<DriftReport>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Creates the service. */
export function createDriftService(options: DriftServiceOptions): DriftService {
  const { store, source, metrics } = options;
  const now = options.now ?? Date.now;
  const ownRunner = options.runner === undefined;
  const runner = options.runner ?? createDriftRunner();
  const references = createReferenceLoader(store);

  const getConfig = async (deployment: string): Promise<DriftConfig> => {
    const record = await store.getDriftConfig(deployment);
    return parseDriftConfig(record?.config ?? {});
  };

  /** The version asked for, or the one version the deployment routes to. */
  const resolveVersion = async (deployment: string, version: number | undefined) => {
    const record = await store.getDeployment(deployment);
    if (version !== undefined) return { model: record.model, version };
    const served = new Set(record.versionRefs);
    for (const alias of record.aliasRefs) served.add((await store.getAlias(record.model, alias)).version);
    const versions = [...served].sort((a, b) => a - b);
    if (versions.length !== 1) {
      throw new StratumError(
        'BAD_REQUEST',
        versions.length === 0
          ? `deployment ${JSON.stringify(deployment)} routes to no version: name one with "version"`
          : `deployment ${JSON.stringify(deployment)} routes to versions ${versions.join(', ')}: name one with "version"`,
      );
    }
    return { model: record.model, version: versions[0] as number };
  };

  const readWindow = (args: { deployment: string; version: number; window: DriftWindow }): Promise<DriftWindowRows> => {
    const { window } = args;
    return source.readWindow({
      deployment: args.deployment,
      version: String(args.version),
      ...(window.kind === 'count'
        ? { limit: window.rows }
        : { since: new Date(now() - durationMs(window.duration)), limit: window.maxRows }),
    });
  };

  const currentColumns = async (
    rows: DriftWindowRows,
    reference: readonly NamedReference[],
  ): Promise<Map<string, CurrentColumn>> => {
    const inputs = reference.filter((r) => !r.name.startsWith(PREDICTION_PREFIX));
    const columns = await windowColumns(rows.rows, inputs);
    if (rows.predictions !== undefined) {
      const outputs = reference
        .filter((r) => r.name.startsWith(PREDICTION_PREFIX))
        .map((r) => ({ name: r.name.slice(PREDICTION_PREFIX.length), column: r.column }));
      for (const [name, column] of await windowColumns(rows.predictions, outputs)) {
        columns.set(PREDICTION_PREFIX + name, column);
      }
    }
    return columns;
  };

  const judged = (reference: DriftReference, config: DriftConfig): NamedReference[] =>
    reference.columns.filter((c) => config.predictions || !c.name.startsWith(PREDICTION_PREFIX));

  return {
    getConfig,

    async setConfig({ deployment, config, by }) {
      const parsed = parseDriftConfig(config);
      await store.setDriftConfig({ deployment, config: parsed, updatedBy: by });
      return parsed;
    },

    async compute(target) {
      const config = await getConfig(target.deployment);
      const window = target.window ?? config.window;
      const { model, version } = await resolveVersion(target.deployment, target.version);
      const reference = await references.load(model, version);
      const rows = await readWindow({ deployment: target.deployment, version, window });
      const computedAt = now();
      const base = {
        deployment: target.deployment,
        model,
        version,
        computedAt: new Date(computedAt).toISOString(),
        window: {
          kind: window.kind,
          rows: rows.rows.length,
          ...(window.kind === 'time' && {
            from: new Date(computedAt - durationMs(window.duration)).toISOString(),
            to: new Date(computedAt).toISOString(),
          }),
          ...(window.kind === 'count' && rows.from !== undefined && { from: rows.from.toISOString() }),
          ...(window.kind === 'count' && rows.to !== undefined && { to: rows.to.toISOString() }),
        },
        reference: { rows: reference.rows },
        driftShareThreshold: config.driftShare,
      };
      let report: DriftReport;
      if (rows.rows.length === 0) {
        report = { ...base, status: 'no-data', datasetDrift: false, driftShare: 0, columns: [] };
      } else {
        const columns = judged(reference, config);
        const verdict = await runner.run({ references: columns, current: await currentColumns(rows, columns), config });
        report = { ...base, status: 'ok', ...verdict };
      }
      await store.saveDriftReport({
        deployment: target.deployment,
        model,
        version,
        windowKey: windowKey(window),
        computedAt,
        report,
      });
      metrics?.record(report);
      return report;
    },

    async latest(target) {
      const [found] = await store.listDriftReports({
        deployment: target.deployment,
        ...(target.version !== undefined && { version: target.version }),
        ...(target.window !== undefined && { windowKey: windowKey(target.window) }),
        limit: 1,
      });
      if (found === undefined) {
        throw new StratumError(
          'NOT_FOUND',
          `deployment ${JSON.stringify(target.deployment)} has no drift report${target.version === undefined ? '' : ` for version ${target.version}`}${target.window === undefined ? '' : ` over window ${windowKey(target.window)}`} yet: POST to /api/v1/deployments/${target.deployment}/drift to compute one`,
        );
      }
      return found.report as DriftReport;
    },

    close: () => (ownRunner ? runner.close() : Promise.resolve()),
  };
}
