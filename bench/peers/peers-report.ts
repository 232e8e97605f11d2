/**
 * The peers phase's figures and its Markdown: each system's throughput and p50/p99 per model and
 * concurrency, and Stratum's ratio to each peer measured in the same run. Pure, so it is tested
 * without servers.
 */
import type { LoadResult } from '../load/load-result.ts';

/** The systems, Stratum first. */
export const PEER_SYSTEMS = Object.freeze(['stratum', 'fastapi', 'ray'] as const);
/** One of them. */
export type PeerSystem = (typeof PEER_SYSTEMS)[number];

/** One system as it ran (or why it did not). */
export interface PeerSystemInfo {
  readonly system: PeerSystem;
  /** What ran, e.g. `FastAPI 0.142 + uvicorn 0.54 (2 workers) + onnxruntime 1.30, 1 intra-op thread each`. */
  readonly label: string;
  /** `true`, or why it could not be installed or started. */
  readonly available: true | string;
}

/** One load window. */
export interface PeerCell {
  readonly system: PeerSystem;
  readonly model: string;
  readonly concurrency: number;
  /** The load generator's result, or why the window failed. */
  readonly result: LoadResult | { readonly error: string };
}

/** What the phase measured. */
export interface PeersBenchResult {
  readonly models: readonly { readonly name: string; readonly description: string }[];
  readonly concurrencies: readonly number[];
  readonly systems: readonly PeerSystemInfo[];
  readonly cells: readonly PeerCell[];
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly notes: readonly string[];
}

const NAMES: Readonly<Record<PeerSystem, string>> = {
  stratum: 'Stratum',
  fastapi: 'FastAPI + onnxruntime',
  ray: 'Ray Serve @serve.batch',
};

/** The goal the issue sets at this concurrency: Stratum at least this many times FastAPI, with p99 under this. */
export const GOAL = Object.freeze({ concurrency: 64, timesFastapi: 10, p99Ms: 50 });

function measured(cell: PeerCell | undefined): LoadResult | undefined {
  return cell !== undefined && !('error' in cell.result) ? cell.result : undefined;
}

/** `a / b` as `3.79×`, or `—` when either side is missing or zero. */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

function ms(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '—' : value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** Stratum's throughput over the peer's, and the peer's p99 over Stratum's, at one cell. */
export function compare(
  result: PeersBenchResult,
  at: { readonly model: string; readonly concurrency: number; readonly peer: PeerSystem },
): { throughput: string; p99: string } {
  const find = (system: PeerSystem): LoadResult | undefined =>
    measured(result.cells.find((c) => c.system === system && c.model === at.model && c.concurrency === at.concurrency));
  const stratum = find('stratum');
  const other = find(at.peer);
  return {
    throughput: ratio(stratum?.throughput, other?.throughput),
    p99: ratio(other?.latency.p99, stratum?.latency.p99),
  };
}

/** The phase's Markdown: one table per model, then the ratios, the goal row and the notes. */
export function renderPeersBench(result: PeersBenchResult): string {
  const lines: string[] = [];
  const peers = PEER_SYSTEMS.filter((s) => s !== 'stratum');
  lines.push(
    `Batch-1 REST JSON requests from the bench's load generator (bench/load/rest-load.ts, closed loop, keep-alive), ` +
      `${result.warmupMs} ms warm-up then ${result.durationMs} ms measured per cell; every system serves the same ONNX files on the same machine in the same run.`,
    '',
    '| system | what ran |',
    '| ------ | -------- |',
  );
  for (const info of result.systems) {
    lines.push(
      `| ${NAMES[info.system]} | ${info.available === true ? info.label : `**not measured**: ${info.available}`} |`,
    );
  }
  for (const model of result.models) {
    lines.push('', `### ${model.name}: ${model.description}`, '');
    lines.push(
      '| c | system | req/s | p50 ms | p99 ms | errors | Stratum ÷ system (req/s) | system p99 ÷ Stratum p99 |',
    );
    lines.push(
      '| --: | ------ | ----: | -----: | -----: | -----: | -----------------------: | -----------------------: |',
    );
    for (const concurrency of result.concurrencies) {
      for (const info of result.systems) {
        const cell = result.cells.find(
          (c) => c.system === info.system && c.model === model.name && c.concurrency === concurrency,
        );
        if (cell === undefined) {
          const why = info.available === true ? 'not run' : 'not measured (see above)';
          lines.push(`| ${concurrency} | ${NAMES[info.system]} | ${why} | | | | | |`);
          continue;
        }
        if ('error' in cell.result) {
          lines.push(
            `| ${concurrency} | ${NAMES[info.system]} | failed: ${cell.result.error.replaceAll('|', '\\|').slice(0, 200)} | | | | | |`,
          );
          continue;
        }
        const r = cell.result;
        const vs =
          info.system === 'stratum'
            ? { throughput: '—', p99: '—' }
            : compare(result, { model: model.name, concurrency, peer: info.system });
        lines.push(
          `| ${concurrency} | ${NAMES[info.system]} | ${r.throughput.toFixed(0)} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${r.errors}${(r.unfinished ?? 0) > 0 ? ` (+${r.unfinished} unanswered)` : ''} | ${vs.throughput} | ${vs.p99} |`,
        );
      }
    }
  }
  lines.push(
    '',
    `Goal (issue 14): Stratum ahead of every peer on every row; at c=${GOAL.concurrency} ≥ ${GOAL.timesFastapi}× FastAPI + onnxruntime with p99 < ${GOAL.p99Ms} ms.`,
    '',
  );
  lines.push(
    '| model | ahead of every peer on every row (more req/s, lower p99) | Stratum ÷ FastAPI at c=64 | Stratum p99 at c=64 |',
  );
  lines.push(
    '| ----- | -------------------------------------------------------- | ------------------------- | ------------------- |',
  );
  for (const model of result.models) {
    let ahead = true;
    let compared = 0;
    for (const concurrency of result.concurrencies) {
      const stratum = measured(
        result.cells.find((c) => c.system === 'stratum' && c.model === model.name && c.concurrency === concurrency),
      );
      for (const peer of peers) {
        const other = measured(
          result.cells.find((c) => c.system === peer && c.model === model.name && c.concurrency === concurrency),
        );
        if (stratum === undefined || other === undefined) continue;
        compared++;
        if (stratum.throughput <= other.throughput || stratum.latency.p99 >= other.latency.p99) ahead = false;
      }
    }
    const atGoal = compare(result, { model: model.name, concurrency: GOAL.concurrency, peer: 'fastapi' });
    const stratumAtGoal = measured(
      result.cells.find((c) => c.system === 'stratum' && c.model === model.name && c.concurrency === GOAL.concurrency),
    );
    lines.push(
      `| ${model.name} | ${compared === 0 ? '—' : ahead ? 'yes' : 'no'} | ${atGoal.throughput} | ${ms(stratumAtGoal?.latency.p99)} |`,
    );
  }
  if (result.notes.length > 0) lines.push('', ...result.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
