/**
 * One rule's state over time: inactive → pending (bad, not yet for long enough) → firing →
 * resolved (back past the clear level) → inactive. A pure function of the measurements, so it is
 * tested without clocks.
 */
import type { AlertRule } from './alert-rules.ts';

export type AlertPhase = 'inactive' | 'pending' | 'firing';

export interface AlertState {
  readonly phase: AlertPhase;
  /** When the value first went bad in the current episode. */
  readonly since?: number;
  /** The last measurement; undefined when there was no data. */
  readonly value?: number;
  readonly noData?: boolean;
}

/** What happened at one evaluation, beside the new state. */
export type AlertTransition = 'fired' | 'resolved' | undefined;

export const INITIAL_STATE: AlertState = Object.freeze({ phase: 'inactive' });

/**
 * The next state after measuring `value` at `now` (ms). No data changes nothing but the flag: a
 * firing alert neither resolves nor re-fires because its series disappeared.
 */
export function nextAlertState(
  rule: Pick<AlertRule, 'direction' | 'threshold' | 'clear' | 'forMs'>,
  state: AlertState,
  measurement: { value: number | undefined; now: number },
): { state: AlertState; transition: AlertTransition } {
  const { value, now } = measurement;
  if (value === undefined || Number.isNaN(value)) {
    return { state: withoutValue(state), transition: undefined };
  }
  const bad = rule.direction === 'above' ? value > rule.threshold : value < rule.threshold;
  // Back on the good side of the clear level (which is the threshold itself without hysteresis).
  const good = rule.direction === 'above' ? value <= rule.clear : value >= rule.clear;
  switch (state.phase) {
    case 'inactive':
      if (!bad) return { state: { phase: 'inactive', value }, transition: undefined };
      if (rule.forMs === 0) return { state: { phase: 'firing', since: now, value }, transition: 'fired' };
      return { state: { phase: 'pending', since: now, value }, transition: undefined };
    case 'pending': {
      if (!bad) return { state: { phase: 'inactive', value }, transition: undefined };
      const since = state.since ?? now;
      if (now - since >= rule.forMs) return { state: { phase: 'firing', since, value }, transition: 'fired' };
      return { state: { phase: 'pending', since, value }, transition: undefined };
    }
    case 'firing':
      if (good) return { state: { phase: 'inactive', value }, transition: 'resolved' };
      return { state: { ...state, value, noData: false }, transition: undefined };
  }
}

function withoutValue(state: AlertState): AlertState {
  return {
    phase: state.phase,
    ...(state.since !== undefined && { since: state.since }),
    noData: true,
  };
}
