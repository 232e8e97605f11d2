/**
 * The live table of an experiment's trials that `stratum tune` shows on stderr: on a terminal the
 * whole table is redrawn in place (cursor up, clear to the end) at most 4 times a second; elsewhere
 * (a log, a pipe, CI) one line is printed each time a trial starts or ends, so a long run leaves
 * one line per change.
 */
import type { TrialRecord } from '../../store/metadata-store.ts';
import { formatTable } from './table.ts';

/** A trial as the table shows it: the record, and the step it is at while it trains here. */
export interface TrialView {
  readonly trial: TrialRecord;
  readonly step?: number;
}

/** A live trial table; see {@link createTrialTable}. */
export interface TrialTable {
  /** The trials as the store has them now. */
  trials(trials: readonly TrialRecord[]): void;
  /** Trial `number` reached `step` (in-process runs report every step). */
  step(number: number, step: number): void;
  /** Draws the final state (on a terminal) and stops redrawing. Idempotent. */
  done(): void;
}

const REDRAW_MS = 250;

/** `maxDepth=3 learningRate=0.0123`: the point with the `model.params.` prefix dropped. */
export function formatPoint(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([path, value]) => `${path.replace(/^model\.params\./, '')}=${formatValue(value)}`)
    .join(' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toPrecision(4);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The table's text. */
export function trialTableText(views: readonly TrialView[], metric: string): string {
  return formatTable({
    columns: ['trial', 'params', 'resource', metric, 'state'],
    alignRight: ['trial', 'resource', metric],
    rows: views.map(({ trial, step }) => [
      String(trial.number),
      formatPoint(trial.params),
      String(trial.resource ?? step ?? ''),
      trial.value === undefined ? '' : trial.value.toPrecision(5),
      trial.status === 'failed' ? `failed: ${trial.error ?? ''}`.slice(0, 80) : trial.status,
    ]),
  });
}

/** Creates the table on `stream`, ranking by `metric`. */
export function createTrialTable(stream: NodeJS.WritableStream, metric: string): TrialTable {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  const views = new Map<number, TrialView>();
  const printed = new Map<number, string>();
  let drawnLines = 0;
  let lastDraw = 0;
  let finished = false;
  const draw = (force: boolean): void => {
    if (!tty || finished) return;
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    const text = trialTableText([...views.values()], metric);
    stream.write(`${drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[J` : ''}${text}`);
    drawnLines = text.split('\n').length - 1;
  };
  const line = (view: TrialView): void => {
    const { trial } = view;
    if (tty || printed.get(trial.number) === trial.status) return;
    printed.set(trial.number, trial.status);
    const outcome =
      trial.value === undefined ? '' : `  resource ${trial.resource ?? ''}  ${metric} ${trial.value.toPrecision(5)}`;
    const error = trial.status === 'failed' ? `  ${trial.error ?? ''}` : '';
    stream.write(`trial ${trial.number} ${trial.status}  ${formatPoint(trial.params)}${outcome}${error}\n`);
  };
  return {
    trials(trials) {
      for (const trial of trials) {
        const view = { trial, ...(trial.status === 'running' && { step: views.get(trial.number)?.step }) } as TrialView;
        views.set(trial.number, view);
        line(view);
      }
      draw(true);
    },
    step(number, step) {
      const view = views.get(number);
      if (view === undefined) return;
      views.set(number, { ...view, step });
      draw(false);
    },
    done() {
      draw(true);
      finished = true;
    },
  };
}
