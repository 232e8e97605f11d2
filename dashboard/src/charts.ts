/**
 * Chart.js charts with what the end-to-end test reads: each canvas sits in a `.chart` box with
 * `data-chart` (its name) and `data-points` (how many data points it draws), so a test can tell a
 * chart with real data from an empty one without reading pixels. Charts of a page being replaced
 * are destroyed by {@link destroyChartsIn}.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import { h } from './dom.ts';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
);

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

/** A colour per series index. */
export function colour(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

/** Destroys the charts drawn inside an element (a page being replaced). */
export function destroyChartsIn(root: Element): void {
  for (const canvas of root.querySelectorAll('canvas')) Chart.getChart(canvas)?.destroy();
}

/** One line: x/y points. */
export interface LineSeries {
  readonly label: string;
  readonly points: readonly { readonly x: number; readonly y: number | null }[];
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  readonly name: string;
  readonly title: string;
  readonly series: readonly LineSeries[];
  /** `time`: x is epoch ms, drawn as clock time; `step`: x is a training step. */
  readonly x: 'time' | 'step';
  readonly yLabel?: string;
  /** Start the y axis at zero. @default false */
  readonly fromZero?: boolean;
}

/** A line chart (metric curves by step, rates over time). */
export function lineChart(options: LineChartOptions): HTMLElement {
  const points = options.series.reduce((n, s) => n + s.points.filter((p) => p.y !== null).length, 0);
  const canvas = h('canvas') as HTMLCanvasElement;
  const box = chartBox({ name: options.name, title: options.title, points, canvas });
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = options.series.map((s, i) => ({
    label: s.label,
    data: s.points.map((p) => ({ x: p.x, y: p.y })),
    borderColor: colour(i),
    backgroundColor: colour(i),
    borderWidth: 1.5,
    pointRadius: s.points.length > 60 ? 0 : 2,
    spanGaps: true,
    tension: 0,
  }));
  new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      plugins: { legend: { display: options.series.length > 1, position: 'bottom' } },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: options.x === 'time' ? 'time' : 'step' },
          ticks: {
            maxTicksLimit: 8,
            callback: (value) =>
              options.x === 'time' ? new Date(Number(value)).toLocaleTimeString('en-GB') : String(value),
          },
        },
        y: {
          beginAtZero: options.fromZero ?? false,
          title: { display: options.yLabel !== undefined, text: options.yLabel ?? '' },
        },
      },
    },
  });
  return box;
}

/** One set of bars. */
export interface BarSeries {
  readonly label: string;
  readonly values: readonly number[];
}

/** Options of {@link barChart}. */
export interface BarChartOptions {
  readonly name: string;
  readonly title: string;
  readonly labels: readonly string[];
  readonly series: readonly BarSeries[];
  /** Horizontal bars (a traffic split, long category names). @default false */
  readonly horizontal?: boolean;
  readonly stacked?: boolean;
  readonly yLabel?: string;
}

/** A bar chart (histograms, categories, traffic splits). */
export function barChart(options: BarChartOptions): HTMLElement {
  const points = options.series.reduce((n, s) => n + s.values.length, 0);
  const canvas = h('canvas') as HTMLCanvasElement;
  const box = chartBox({ name: options.name, title: options.title, points, canvas });
  new Chart(canvas, {
    type: 'bar',
    data: {
      labels: [...options.labels],
      datasets: options.series.map((s, i) => ({
        label: s.label,
        data: [...s.values],
        backgroundColor: `${colour(i)}b0`,
        borderColor: colour(i),
        borderWidth: 1,
        barPercentage: 1,
        categoryPercentage: options.series.length > 1 ? 0.85 : 0.98,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      indexAxis: options.horizontal === true ? 'y' : 'x',
      plugins: { legend: { display: options.series.length > 1, position: 'bottom' } },
      scales: {
        x: { stacked: options.stacked ?? false, ticks: { maxRotation: 45, autoSkip: true } },
        y: {
          stacked: options.stacked ?? false,
          beginAtZero: true,
          title: { display: options.yLabel !== undefined, text: options.yLabel ?? '' },
        },
      },
    },
  });
  return box;
}

/** One rule's row in a timeline: when it fired and (if it did) when it resolved. */
export interface TimelineEpisode {
  readonly row: number;
  readonly from: number;
  /** Absent: still firing (drawn up to `until`). */
  readonly to?: number;
}

/** Options of {@link timelineChart}. */
export interface TimelineChartOptions {
  readonly name: string;
  readonly title: string;
  /** One row per name, top to bottom. */
  readonly rows: readonly string[];
  readonly episodes: readonly TimelineEpisode[];
  /** Transitions as markers: x epoch ms, the row, and which way. */
  readonly marks: readonly { readonly x: number; readonly row: number; readonly kind: 'fired' | 'resolved' }[];
  /** The right end of an episode still open (now). */
  readonly until: number;
}

/**
 * A timeline: a row per name with a thick bar over each period it was firing and a marker per
 * transition. Rows are y values (0 at the top), labelled with the names.
 */
export function timelineChart(options: TimelineChartOptions): HTMLElement {
  const canvas = h('canvas') as HTMLCanvasElement;
  const box = chartBox({ name: options.name, title: options.title, points: options.marks.length, canvas });
  // One dataset for every bar: each episode is two points, episodes separated by a gap (null).
  const bars = options.episodes.flatMap((e) => [
    { x: e.from, y: e.row },
    { x: e.to ?? options.until, y: e.row },
    { x: e.to ?? options.until, y: null },
  ]);
  const marks = (kind: 'fired' | 'resolved') =>
    options.marks.filter((m) => m.kind === kind).map((m) => ({ x: m.x, y: m.row }));
  const xs = [...options.marks.map((m) => m.x), options.until];
  // Transitions within seconds of each other (a burst, a test) need the milliseconds to tell apart.
  const short = Math.max(...xs) - Math.min(...xs) < 10_000;
  const red = colour(1);
  const green = colour(2);
  new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'firing',
          data: bars,
          borderColor: `${red}60`,
          backgroundColor: `${red}60`,
          borderWidth: 10,
          pointRadius: 0,
          spanGaps: false,
        },
        {
          type: 'scatter',
          label: 'fired',
          data: marks('fired'),
          borderColor: red,
          backgroundColor: red,
          pointStyle: 'triangle',
          pointRadius: 6,
        },
        {
          type: 'scatter',
          label: 'resolved',
          data: marks('resolved'),
          borderColor: green,
          backgroundColor: green,
          pointRadius: 5,
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      plugins: { legend: { display: true, position: 'bottom', labels: { usePointStyle: true } } },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: 'time' },
          ticks: { maxTicksLimit: 8, callback: (value) => clockTime(Number(value), short) },
        },
        y: {
          type: 'linear',
          reverse: true,
          min: -0.5,
          max: options.rows.length - 0.5,
          afterBuildTicks: (axis) => {
            axis.ticks = options.rows.map((_, i) => ({ value: i }));
          },
          ticks: { callback: (value) => options.rows[Number(value)] ?? '' },
        },
      },
    },
  });
  return box;
}

/** Clock time of epoch ms, with milliseconds when `precise`. */
function clockTime(epochMs: number, precise: boolean): string {
  const time = new Date(epochMs).toLocaleTimeString('en-GB');
  return precise ? `${time}.${String(new Date(epochMs).getMilliseconds()).padStart(3, '0')}` : time;
}

function chartBox(options: { name: string; title: string; points: number; canvas: HTMLCanvasElement }): HTMLElement {
  return h(
    'figure',
    { class: 'chart', 'data-chart': options.name, 'data-points': options.points },
    h('figcaption', {}, options.title),
    h('div', { class: 'canvas-box' }, options.canvas),
  );
}
