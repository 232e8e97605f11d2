/**
 * Formats a bench run as Markdown: the targets with PASS/FAIL, Stratum's throughput and latency
 * with its ratios to the references, the references themselves, added latency, the settings
 * sweep, memory, registry rollouts and the machine. The same text goes to stdout and
 * bench/results/latest.md.
 */
import type { BenchRun, CellResult, RolloutResult, SwapRecord } from './bench-results.ts';
import { ceilingAt, ceilingBatch } from './phases/ceilings.ts';
import { MEMORY_WARMUP_REQUESTS, REQUESTS_PER_CYCLE, SETTLE_MS } from './phases/rollouts.ts';
import { LATENCY_SLACK_MS } from './phases/sweep.ts';
import { serverGlibcTunables, type StratumSettings } from './stratum/stratum-process.ts';
import type { BenchModel, Protocol } from './workload.ts';

/** The targets the bench reports against. */
export const TARGETS = Object.freeze({
  /** cnn and transformer at concurrency 64: fraction of the compute ceiling. */
  computeFraction: 0.85,
  /** mlp at concurrency 64: fraction of the transport ceiling (JSON and binary). */
  transportFraction: 0.85,
  /** mlp at concurrency 64: multiple of the naive server (JSON and binary). */
  naiveMultiple: 1.5,
  /** Added latency at concurrency 1, binary REST (ms). */
  addedLatencyMs: 0.3,
  /** gRPC p50 at concurrency 1 over REST binary's p50 in the same run (ms). */
  grpcOverBinaryMs: 0.3,
  /** RSS growth over the load/unload cycles (folder and registry deployments). */
  rssGrowth: 0.1,
  /** Failed requests while versions are swapped under load. */
  swapFailedRequests: 0,
  /** p99 during swaps as a multiple of the steady-state p99, at the same load. */
  swapP99Ratio: 1.5,
  /** Concurrency the throughput targets are read at. */
  concurrency: 64,
});

const PROTOCOL_NAMES: Readonly<Record<Protocol, string>> = Object.freeze({
  json: 'REST JSON',
  binary: 'REST binary',
  grpc: 'gRPC',
});

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number): string =>
  !Number.isFinite(n) ? '–' : n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1);
const pct = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(0)}%`;
const times = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? '**PASS**' : '**FAIL**');

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly ('l' | 'r')[],
): string {
  const sep = header.map((_, i) => ((align?.[i] ?? 'r') === 'l' ? '---' : '---:'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Describes server settings as flags and config.json fields. */
export function describeSettings(s: StratumSettings): string {
  const parts = [`--workers ${s.workers}`, `--intra-op-threads ${s.intraOpThreads}`];
  if (s.maxQueueDelayMicroseconds !== undefined) parts.push(`maxQueueDelayMicroseconds ${s.maxQueueDelayMicroseconds}`);
  if (s.preferredBatchSizes !== undefined) parts.push(`preferredBatchSizes [${s.preferredBatchSizes.join(',')}]`);
  if (s.maxBatchSize !== undefined) parts.push(`maxBatchSize ${s.maxBatchSize}`);
  if (s.inlineRunMaxMicroseconds !== undefined) parts.push(`inlineRunMaxMicroseconds ${s.inlineRunMaxMicroseconds}`);
  return parts.join(', ');
}

/** Ratios of one Stratum cell to its references. */
interface Ratios {
  readonly compute?: number;
  /** The compute ceiling at the cell's mean batch. */
  readonly ceiling?: { readonly batch: number; readonly rowsPerSecond: number };
  readonly transport?: number;
  readonly naive?: number;
}

/** Which cell to find. */
type CellKey = Pick<CellResult, 'target' | 'model' | 'protocol' | 'concurrency'>;

function finder(run: BenchRun): {
  cell: (key: CellKey) => CellResult | undefined;
  ratios: (cell: CellResult) => Ratios;
} {
  const cell = (k: CellKey): CellResult | undefined =>
    run.cells.find(
      (c) =>
        c.target === k.target && c.model === k.model && c.protocol === k.protocol && c.concurrency === k.concurrency,
    );
  const ratios = (c: CellResult): Ratios => {
    const batch = ceilingBatch(c);
    const rows = ceilingAt(run.ceilings, c.model, batch);
    const ceiling = rows === undefined ? undefined : { batch, rowsPerSecond: rows };
    const transport = cell({ ...c, target: 'transport' });
    const naive = cell({ ...c, target: 'naive' });
    const t = c.load.throughput;
    return {
      ...(ceiling !== undefined && { ceiling, compute: t / ceiling.rowsPerSecond }),
      ...(transport !== undefined && { transport: t / transport.load.throughput }),
      ...(naive !== undefined && { naive: t / naive.load.throughput }),
    };
  };
  return { cell, ratios };
}

/** Stratum's cells in table order: model as run, then concurrency, then protocol. */
function stratumCells(run: BenchRun): CellResult[] {
  const models = run.cells.map((c) => c.model).filter((m, i, all) => all.indexOf(m) === i);
  const protocols: readonly Protocol[] = ['json', 'binary', 'grpc'];
  return run.cells
    .filter((c) => c.target === 'stratum')
    .sort(
      (a, b) =>
        models.indexOf(a.model) - models.indexOf(b.model) ||
        a.concurrency - b.concurrency ||
        protocols.indexOf(a.protocol) - protocols.indexOf(b.protocol),
    );
}

function targetsSection(run: BenchRun): string {
  const { cell, ratios } = finder(run);
  const c = TARGETS.concurrency;
  const rows: string[][] = [];
  for (const model of ['cnn', 'transformer'] as const) {
    for (const protocol of ['binary', 'grpc', 'json'] as const) {
      const s = cell({ target: 'stratum', model, protocol, concurrency: c });
      if (s === undefined) continue;
      const r = ratios(s);
      rows.push([
        `${model} ${PROTOCOL_NAMES[protocol]} c=${c}: ≥ ${pct(TARGETS.computeFraction)} of compute ceiling`,
        r.ceiling === undefined
          ? '–'
          : `${pct(r.compute)} (${int(s.load.throughput)} / ${int(r.ceiling.rowsPerSecond)} rows/s at batch ${r.ceiling.batch.toFixed(1)})`,
        verdict(r.compute === undefined ? undefined : r.compute >= TARGETS.computeFraction),
      ]);
    }
  }
  for (const protocol of ['json', 'binary'] as const) {
    const s = cell({ target: 'stratum', model: 'mlp', protocol, concurrency: c });
    if (s === undefined) continue;
    const r = ratios(s);
    const transport = cell({ target: 'transport', model: 'mlp', protocol, concurrency: c });
    const naive = cell({ target: 'naive', model: 'mlp', protocol, concurrency: c });
    rows.push([
      `mlp ${PROTOCOL_NAMES[protocol]} c=${c}: ≥ ${pct(TARGETS.transportFraction)} of transport ceiling`,
      transport === undefined
        ? '–'
        : `${pct(r.transport)} (${int(s.load.throughput)} / ${int(transport.load.throughput)} req/s)`,
      verdict(r.transport === undefined ? undefined : r.transport >= TARGETS.transportFraction),
    ]);
    rows.push([
      `mlp ${PROTOCOL_NAMES[protocol]} c=${c}: ≥ ${times(TARGETS.naiveMultiple)} the naive server`,
      naive === undefined ? '–' : `${times(r.naive)} (${int(s.load.throughput)} / ${int(naive.load.throughput)} req/s)`,
      verdict(r.naive === undefined ? undefined : r.naive >= TARGETS.naiveMultiple),
    ]);
  }
  for (const model of run.cells.map((x) => x.model).filter((m, i, all) => all.indexOf(m) === i)) {
    const s = cell({ target: 'stratum', model, protocol: 'binary', concurrency: 1 });
    const raw = run.batch1LatencyMs[model];
    if (s === undefined) continue;
    const added = raw === undefined ? undefined : s.load.latency.p50 - raw;
    rows.push([
      `${model} REST binary c=1: added latency ≤ ${TARGETS.addedLatencyMs} ms`,
      added === undefined ? '–' : `${ms(added)} ms (p50 ${ms(s.load.latency.p50)} − run ${ms(raw as number)})`,
      verdict(added === undefined ? undefined : added <= TARGETS.addedLatencyMs),
    ]);
    const g = cell({ target: 'stratum', model, protocol: 'grpc', concurrency: 1 });
    if (g === undefined) continue;
    const over = g.load.latency.p50 - s.load.latency.p50;
    rows.push([
      `${model} gRPC c=1: p50 within ${TARGETS.grpcOverBinaryMs} ms of REST binary`,
      `${over >= 0 ? '+' : '−'}${ms(Math.abs(over))} ms (p50 ${ms(g.load.latency.p50)} vs ${ms(s.load.latency.p50)})`,
      verdict(over <= TARGETS.grpcOverBinaryMs),
    ]);
  }
  if (run.memory !== undefined) {
    const growth = run.memory.rssAfter / run.memory.rssBefore - 1;
    rows.push([
      `RSS growth over ${run.memory.cycles} unload/load cycles ≤ ${pct(TARGETS.rssGrowth)}`,
      `${(growth * 100).toFixed(1)}% (${mib(run.memory.rssBefore)} → ${mib(run.memory.rssAfter)} MiB)`,
      verdict(growth <= TARGETS.rssGrowth),
    ]);
  }
  if (run.rollouts !== undefined) rows.push(...rolloutTargetRows(run.rollouts));
  return `## Targets\n\n${table(['Target', 'Measured', 'Result'], rows, ['l', 'l', 'l'])}`;
}

function rolloutTargetRows(r: RolloutResult): string[][] {
  const ratio = r.during.latency.p99 / r.steady.latency.p99;
  const what = `${r.swaps.length} swaps under REST binary c=${r.concurrency}`;
  const rows = [
    [
      `Rollouts: failed requests over ${what} = ${TARGETS.swapFailedRequests}`,
      `${int(r.total.failed)} of ${int(r.total.requests)} (${int(r.during.failed)} during swaps)`,
      verdict(r.total.failed <= TARGETS.swapFailedRequests),
    ],
    [
      `Rollouts: p99 during swaps ≤ ${times(TARGETS.swapP99Ratio)} steady-state p99`,
      `${times(ratio)} (${ms(r.during.latency.p99)} / ${ms(r.steady.latency.p99)} ms)`,
      verdict(Number.isFinite(ratio) ? ratio <= TARGETS.swapP99Ratio : undefined),
    ],
  ];
  const m = r.memory;
  if (m !== undefined) {
    const growth = m.rssAfter / m.rssBefore - 1;
    rows.push([
      `Rollouts: RSS growth over ${m.cycles} blue-green load/unload cycles ≤ ${pct(TARGETS.rssGrowth)}`,
      `${(growth * 100).toFixed(1)}% (${mib(m.rssBefore)} → ${mib(m.rssAfter)} MiB)`,
      verdict(growth <= TARGETS.rssGrowth),
    ]);
  }
  return rows;
}

function mainSection(run: BenchRun): string {
  const { ratios } = finder(run);
  if (stratumCells(run).length === 0) return '';
  const rows = stratumCells(run).map((c) => {
    const r = ratios(c);
    const l = c.load;
    return [
      c.model,
      PROTOCOL_NAMES[c.protocol],
      String(c.concurrency),
      int(l.throughput),
      ms(l.latency.p50),
      ms(l.latency.p90),
      ms(l.latency.p99),
      c.batch === undefined ? '–' : c.batch.meanBatch.toFixed(1),
      pct(r.compute),
      pct(r.transport),
      times(r.naive),
      `${c.serverCpu.mainPercent.toFixed(0)} / ${c.serverCpu.othersPercent.toFixed(0)}`,
      l.cpuPercent.toFixed(0),
      `${c.foreignCpuPercent.toFixed(0)}${c.retries > 0 ? ` (${c.retries} retr.)` : ''}`,
      String(l.errors),
    ];
  });
  return (
    `## Stratum: throughput and latency\n\n` +
    table(
      [
        'Model',
        'Protocol',
        'Conc.',
        'req/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'Mean batch',
        'vs compute',
        'vs transport',
        'vs naive',
        'Server CPU % main / other',
        'Loadgen CPU %',
        'Foreign CPU %',
        'Errors',
      ],
      rows,
      ['l', 'l'],
    ) +
    '\n\n*vs compute*: Stratum req/s ÷ raw `session.run` rows/s at the mean batch the batcher formed in that cell, interpolated between the batch sizes measured below (same threads and intra-op threads as the server). ' +
    '*vs transport*: ÷ the same framework answering a canned response of the same size. *vs naive*: ÷ Fastify with one `session.run` per request on the main thread. ' +
    'CPU % is of one core (the machine has ' +
    `${run.machine.cores}); *main* is the server's event-loop thread, *other* its session workers, onnxruntime and GC threads; ` +
    '*foreign*: machine CPU used by neither the server nor the load generator (other processes); a cell with more than 20% is measured again, up to twice.'
  );
}

function referencesSection(run: BenchRun): string {
  const { cell } = finder(run);
  const rows = stratumCells(run)
    .map((s) => {
      const t = cell({ ...s, target: 'transport' });
      const n = cell({ ...s, target: 'naive' });
      if (t === undefined && n === undefined) return undefined;
      return [
        s.model,
        PROTOCOL_NAMES[s.protocol],
        String(s.concurrency),
        t === undefined ? '–' : int(t.load.throughput),
        t === undefined ? '–' : ms(t.load.latency.p50),
        t === undefined ? '–' : ms(t.load.latency.p99),
        t === undefined ? '–' : `${t.serverCpu.mainPercent.toFixed(0)} / ${t.load.cpuPercent.toFixed(0)}`,
        n === undefined ? '–' : int(n.load.throughput),
        n === undefined ? '–' : ms(n.load.latency.p50),
        n === undefined ? '–' : ms(n.load.latency.p99),
      ];
    })
    .filter((r): r is string[] => r !== undefined);
  const ceilingRows = run.ceilings.map((e) => [e.model, String(e.batch), int(e.rowsPerSecond), ms(e.meanRunMs)]);
  let out = '';
  if (rows.length > 0) {
    out +=
      `## References\n\n` +
      table(
        [
          'Model',
          'Protocol',
          'Conc.',
          'Transport req/s',
          'p50 ms',
          'p99 ms',
          'Server / loadgen CPU %',
          'Naive req/s',
          'p50 ms',
          'p99 ms',
        ],
        rows,
        ['l', 'l'],
      ) +
      `\n\nNaive server: ${run.naiveIntraOpThreads} intra-op thread(s) per session.`;
  }
  if (ceilingRows.length > 0) {
    out +=
      `\n\n### Compute ceiling (${run.settings.workers} thread(s) × ${run.settings.intraOpThreads} intra-op thread(s), back-to-back \`session.run\`)\n\n` +
      table(['Model', 'Batch', 'rows/s', 'Mean run ms'], ceilingRows, ['l']) +
      '\n\nEach point: the better of two 0.6 s measurements after a 0.2 s warm-up (other load can only lower a ceiling).';
  }
  return out;
}

function latencySection(run: BenchRun): string {
  const rows: string[][] = [];
  for (const c of stratumCells(run)) {
    if (c.concurrency !== 1 || c.protocol === 'json') continue;
    const raw = run.batch1LatencyMs[c.model];
    const added = raw === undefined ? undefined : c.load.latency.p50 - raw;
    rows.push([
      c.model,
      PROTOCOL_NAMES[c.protocol],
      ms(c.load.latency.p50),
      c.p50Runs === undefined ? '–' : c.p50Runs.map(ms).join(' / '),
      raw === undefined ? '–' : ms(raw),
      added === undefined ? '–' : ms(added),
      c.protocol === 'binary' ? verdict(added === undefined ? undefined : added <= TARGETS.addedLatencyMs) : '(info)',
    ]);
  }
  if (rows.length === 0) return '';
  return (
    `## Added latency at concurrency 1\n\n` +
    table(
      [
        'Model',
        'Protocol',
        'Stratum p50 ms',
        'p50 of each run',
        'Raw batch-1 run ms (mean)',
        'Added ms',
        `≤ ${TARGETS.addedLatencyMs} ms`,
      ],
      rows,
      ['l', 'l'],
    )
  );
}

function sweepSection(run: BenchRun): string {
  if (run.sweep.length === 0) return '';
  const rows = run.sweep.map((row) => {
    const fmt = (model: BenchModel): string => {
      const m = row.at64[model];
      return m === undefined ? '–' : `${int(m.throughput)} (b ${m.meanBatch.toFixed(1)})`;
    };
    const s = row.settings;
    return [
      s.label === run.settings.label ? `**${s.label}** (chosen)` : s.label,
      String(s.workers),
      String(s.intraOpThreads),
      String(s.maxQueueDelayMicroseconds ?? '–'),
      s.preferredBatchSizes?.join(',') ?? '–',
      String(s.inlineRunMaxMicroseconds ?? '–'),
      fmt('mlp'),
      fmt('cnn'),
      Object.values(row.c1p50).map(ms).join(' / ') || '–',
      int(row.score),
      row.eligible ? 'yes' : 'no (c=1 latency)',
    ];
  });
  return (
    `## Server settings sweep (REST binary)\n\n` +
    table(
      [
        'Config',
        'Workers',
        'Intra-op',
        'Queue delay µs',
        'Preferred',
        'Inline µs',
        'mlp c=64 req/s (mean batch)',
        'cnn c=64 req/s (mean batch)',
        `c=1 p50 ms (${run.sweep[0] === undefined ? '' : Object.keys(run.sweep[0].c1p50).join(' / ')})`,
        'Score',
        'Eligible',
      ],
      rows,
      ['l'],
    ) +
    `\n\nFigures: means over ${run.sweepRounds} round(s); in each round every configuration gets a fresh server, in turn. Score: geometric mean of the c=64 throughputs. Eligible: c=1 p50 within ${LATENCY_SLACK_MS} ms of the fastest configuration for every model (so a queue delay or thread layout cannot buy throughput with the 0.3 ms added-latency target). The best eligible score is used for the tables above.`
  );
}

function memorySection(run: BenchRun): string {
  const m = run.memory;
  if (m === undefined) return '';
  const trace = m.trace.map((t) => `${t.cycle}: ${mib(t.rss)}`).join(', ');
  return (
    `## Memory (RSS of the server process)\n\n` +
    table(
      [
        'Model cycled',
        'Cycles',
        'RSS after warm-up MiB',
        'RSS after cycles MiB',
        'Growth',
        'Main V8 heap MiB',
        'Main external MiB',
        'Cycle time',
        'RSS by cycle (MiB)',
      ],
      [
        [
          m.model,
          String(m.cycles),
          mib(m.rssBefore),
          mib(m.rssAfter),
          `${((m.rssAfter / m.rssBefore - 1) * 100).toFixed(1)}%`,
          `${mib(m.heapBefore.heapTotal)} → ${mib(m.heapAfter.heapTotal)}`,
          `${mib(m.heapBefore.external)} → ${mib(m.heapAfter.external)}`,
          `${((m.seconds / m.cycles) * 1000).toFixed(0)} ms`,
          trace,
        ],
      ],
      ['l'],
    ) +
    '\n\nRSS after warm-up: the three fixtures loaded, 200 binary requests per model, 1.5 s idle; the same warm-up runs again after the cycles. ' +
    "Main V8 heap / external: the server main thread only (prom-client process metrics); the rest of RSS is the session workers' heaps and native (onnxruntime) memory. " +
    allocatorNote()
  );
}

/** Which allocator setting the servers ran with (it decides what RSS keeps after unloads). */
function allocatorNote(): string {
  const tunables = serverGlibcTunables();
  return tunables === ''
    ? "Server allocator: glibc's defaults (GLIBC_TUNABLES empty)."
    : `Server allocator: GLIBC_TUNABLES=${tunables}.`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function rolloutsSection(run: BenchRun): string {
  const r = run.rollouts;
  if (r === undefined) return '';
  const windowRow = (name: string, w: RolloutResult['steady']): string[] => [
    name,
    w.seconds.toFixed(1),
    int(w.requests),
    int(w.failed),
    int(w.throughput),
    ms(w.latency.p50),
    ms(w.latency.p90),
    ms(w.latency.p99),
    `${ms(w.sliceP99.median)} / ${ms(w.sliceP99.max)}`,
    ms(w.latency.max),
    `${w.cpu.mainPercent.toFixed(0)} / ${w.cpu.othersPercent.toFixed(0)}`,
    w.foreignCpuPercent.toFixed(0),
  ];
  const byStrategy = (strategy: SwapRecord['strategy']): string[] => {
    const swaps = r.swaps.filter((s) => s.strategy === strategy);
    const times = swaps.map((s) => s.convergeMs);
    const outcomes = [...new Set(swaps.map((s) => s.outcome))]
      .map((o) => `${swaps.filter((s) => s.outcome === o).length} ${o}`)
      .join(', ');
    return [
      strategy,
      String(swaps.length),
      outcomes || '–',
      int(median(times)),
      int(Math.max(...times)),
      int(swaps.reduce((sum, s) => sum + s.failed, 0)),
      `${ms(median(swaps.map((s) => s.p99UntilConverged)))} / ${ms(median(swaps.map((s) => s.p99After)))}`,
      ms(Math.max(...swaps.map((s) => s.p99))),
    ];
  };
  const side = (x: { requests: number; p99Ms: number | undefined }): string =>
    `${x.p99Ms === undefined ? '–' : ms(x.p99Ms)} (${int(x.requests)})`;
  const swapRows = r.swaps.map((s) => [
    String(s.index),
    s.strategy,
    `v${s.from} → v${s.to}`,
    s.outcome +
      (s.endedAtPercent === undefined || s.outcome === 'promoted' ? '' : ` at ${s.endedAtPercent}%`) +
      (s.reason === undefined ? '' : `: ${s.reason}`),
    s.lastWindow === undefined
      ? '–'
      : `${s.lastWindow.percent}%: ${side(s.lastWindow.canary)} / ${side(s.lastWindow.stable)}`,
    int(s.convergeMs),
    int(s.requests),
    int(s.failed),
    `${ms(s.p99)} (${ms(s.p99UntilConverged)} / ${ms(s.p99After)})`,
    ms(s.max),
  ]);
  const failures =
    r.total.failed === 0
      ? 'No request failed.'
      : `Failed requests by status (0: the connection failed): ${r.failures.map((f) => `${f.status === 0 ? 'connection' : `HTTP ${f.status}`} × ${f.count}`).join(', ')}. ` +
        `Messages: ${Object.entries(r.load.errorKinds ?? {})
          .map(([message, count]) => `${count} × \`${message.replace(/`/g, "'").replace(/\s+/g, ' ')}\``)
          .join('; ')}`;
  const m = r.memory;
  const memory =
    m === undefined
      ? ''
      : '\n\n' +
        table(
          [
            'Blue-green cycles',
            'RSS after warm-up MiB',
            'RSS after cycles MiB',
            'Growth',
            'Main V8 heap MiB',
            'Main external MiB',
            'Cycle time',
            'RSS by cycle (MiB)',
            'Main external by cycle (MiB)',
            `${m.late.afterMs / 1000} s later: RSS / main external MiB`,
          ],
          [
            [
              String(m.cycles),
              mib(m.rssBefore),
              mib(m.rssAfter),
              `${((m.rssAfter / m.rssBefore - 1) * 100).toFixed(1)}%`,
              `${mib(m.heapBefore.heapTotal)} → ${mib(m.heapAfter.heapTotal)}`,
              `${mib(m.heapBefore.external)} → ${mib(m.heapAfter.external)}`,
              `${((m.seconds / m.cycles) * 1000).toFixed(0)} ms`,
              m.trace.map((t) => `${t.cycle}: ${mib(t.rss)}`).join(', '),
              m.externalTrace.map((bytes) => mib(bytes)).join(', '),
              `${mib(m.late.rss)} / ${mib(m.late.external)}`,
            ],
          ],
          ['l'],
        ) +
        `\n\nMemory: a fresh server, the deployment switched ${m.cycles} times between two versions by blue-green (each switch loads one version and unloads the other), ${REQUESTS_PER_CYCLE} requests after each switch; RSS after ${MEMORY_WARMUP_REQUESTS} requests and ${(SETTLE_MS / 1000).toFixed(1)} s idle, before and after (the target is read there, as in the folder check), and once more ${m.late.afterMs / 1000} s later. ` +
        "*Main external*: the server main thread's V8 external memory (ArrayBuffers: each load reads the model's bytes there); garbage not yet collected shows in it and in RSS. " +
        allocatorNote();
  return (
    `## Registry rollouts (issue 3)\n\n` +
    table(
      [
        'Window',
        'Seconds',
        'Requests',
        'Failed',
        'req/s (200)',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'p99 of 1 s slices ms (median / max)',
        'max ms',
        'Server CPU % main / other',
        'Foreign CPU %',
      ],
      [windowRow('steady state', r.steady), windowRow('during swaps', r.during)],
      ['l'],
    ) +
    '\n\n' +
    table(
      [
        'Strategy',
        'Swaps',
        'Outcomes',
        'Median swap ms',
        'Max swap ms',
        'Failed',
        'Median p99 ms until converged / 1 s after',
        'Worst swap p99 ms',
      ],
      [byStrategy('blue-green'), byStrategy('canary')],
      ['l', 'r', 'l'],
    ) +
    '\n\n' +
    table(
      [
        '#',
        'Strategy',
        'Versions',
        'Outcome',
        'Last canary step: server p99 ms (requests) canary / stable',
        'Swap ms',
        'Requests',
        'Failed',
        'p99 ms (until converged / 1 s after)',
        'max ms',
      ],
      swapRows,
      ['r', 'l', 'l', 'l', 'l'],
    ) +
    `\n\nOne \`stratum serve\` with the registry on a temporary SQLite store and artifact folder; deployment \`mlp\` over two registered versions of the MLP fixture with identical bytes (so the canary's output comparison agrees). ` +
    `The REST binary load generator keeps ${r.concurrency} requests in flight for the whole run and records each request's start, latency and status. ` +
    `*Steady state*: requests inside the window before the first swap. *During swaps*: requests overlapping any swap window, from the rollout request until the replica reported the result served (\`GET …/status\` converged, canary ended) plus ${(r.swapTailMs / 1000).toFixed(0)} s; the next swap starts after that. ` +
    `Swaps alternate blue-green and a canary with steps [${r.canary.steps.join(', ')}], stepSeconds ${r.canary.stepSeconds}, minRequests ${r.canary.minRequests}, compareRate ${r.canary.compareRate} (default gates). ` +
    `*Swap ms*: rollout request → converged (polled every 50 ms). Latency columns count 200s only (client-side, HTTP included). ` +
    '*p99 of 1 s slices*: the p99 of each second of the windows (by request start), so a swap window is compared with steady-state windows as short as it. ' +
    "*Last canary step*: the replica's canary window at the last status poll before the canary ended (server-side latency: queue + run; the stable side counts routed requests and the compared copies). " +
    failures +
    memory
  );
}

/** Renders the whole report. */
export function renderReport(run: BenchRun): string {
  const m = run.machine;
  const head =
    `# Stratum benchmark\n\n` +
    table(
      ['CPU', 'Cores', 'Node', 'onnxruntime-node', 'OS', 'Stratum commit', 'Other load before the run'],
      [[m.cpu, String(m.cores), m.node, m.ort, m.os, m.revision, `${m.backgroundCpuPercent.toFixed(0)}% CPU`]],
      ['l', 'r', 'l', 'l', 'l', 'l', 'r'],
    ) +
    `\n\nCommand: \`${run.command}\` (${run.elapsedSeconds.toFixed(0)} s). ` +
    (run.cells.length === 0
      ? ''
      : `Each cell: ${run.timing.warmupMs} ms warm-up + ${run.timing.durationMs} ms measured, ` +
        'closed loop, batch-1 requests, load generator in its own process on the same cores. ' +
        'Concurrency-1 cells run after the other concurrencies of their model, so every server is warm' +
        (run.timing.c1Repeats > 1 ? `; each is the median-p50 run of ${run.timing.c1Repeats} shorter runs. ` : '. ')) +
    `Server: \`${describeSettings(run.settings)}\` (${run.settings.label}).`;
  return [
    head,
    targetsSection(run),
    mainSection(run),
    latencySection(run),
    referencesSection(run),
    sweepSection(run),
    memorySection(run),
    rolloutsSection(run),
  ]
    .filter((s) => s !== '')
    .join('\n\n')
    .concat('\n');
}
