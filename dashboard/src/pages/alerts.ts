/**
 * Alerts: this replica's rules with their phase (inactive, pending, firing), the last value against
 * the threshold and since when; their transitions as a timeline (a bar while a rule fired) and as a
 * table with what each firing did (a rollback, a pipeline, and whether it worked).
 */
import { getOptional } from '../api.ts';
import { type TimelineEpisode, timelineChart } from '../charts.ts';
import { h, num, section, table, unavailable, when } from '../dom.ts';
import type { Page } from '../page.ts';
import type { AlertRuleStatus, AlertsReply, AlertTransition } from '../types.ts';

function condition(rule: { direction: 'above' | 'below'; threshold: number }): string {
  return `${rule.direction === 'above' ? '>' : '<'} ${num(rule.threshold)}`;
}

function phaseCell(rule: AlertRuleStatus): HTMLElement {
  return h('span', { class: `phase ${rule.phase}`, 'data-phase': rule.phase }, rule.phase);
}

function actionsCell(event: AlertTransition): HTMLElement | string {
  if (event.actions === undefined || event.actions.length === 0) return '–';
  return h(
    'ul',
    { class: 'actions' },
    ...event.actions.map((a) =>
      h(
        'li',
        { class: `status ${a.outcome === 'ok' ? 'succeeded' : 'failed'}` },
        `${a.action}: ${a.outcome}`,
        a.message === undefined ? '' : ` (${a.message})`,
      ),
    ),
  );
}

/** Each rule's firing periods, from its transitions (oldest first); an unresolved one is open. */
function episodesOf(rows: readonly string[], history: readonly AlertTransition[]): TimelineEpisode[] {
  const open = new Map<string, number>();
  const episodes: TimelineEpisode[] = [];
  for (const event of history) {
    const row = rows.indexOf(event.rule);
    const at = Date.parse(event.at);
    if (event.transition === 'fired') {
      open.set(event.rule, at);
      continue;
    }
    // A resolution whose firing fell out of the bounded history starts at the chart's left edge.
    const from = open.get(event.rule) ?? Date.parse(history[0]?.at ?? event.at);
    open.delete(event.rule);
    episodes.push({ row, from, to: at });
  }
  for (const [rule, from] of open) episodes.push({ row: rows.indexOf(rule), from });
  return episodes;
}

export const alertsPage: Page = {
  name: 'alerts',
  live: true,
  async draw(into) {
    const reply = await getOptional<AlertsReply>('/api/v1/alerts');
    into.append(h('h1', {}, 'Alerts'));
    if (reply === undefined) {
      into.append(unavailable('Alerts (set alerts.rulesFile)'));
      return;
    }
    const count = (phase: AlertRuleStatus['phase']) => reply.rules.filter((r) => r.phase === phase).length;
    into.append(
      h(
        'p',
        { class: count('firing') > 0 ? 'warn' : 'muted' },
        `${count('firing')} firing, ${count('pending')} pending, of ${reply.rules.length} rules`,
      ),
      section(
        'Rules',
        table(
          ['rule', 'phase', 'value', 'condition', 'since'],
          reply.rules.map((r) => [
            r.rule,
            phaseCell(r),
            r.noData ? h('span', { class: 'muted' }, 'no data') : num(r.value),
            condition(r),
            r.since === undefined ? '–' : when(Date.parse(r.since)),
          ]),
          { 'data-table': 'alert-rules' },
        ),
      ),
    );
    const rows = reply.rules.map((r) => r.rule);
    const history = reply.history.filter((e) => rows.includes(e.rule));
    if (history.length === 0) {
      into.append(section('Transitions', h('p', { class: 'muted' }, 'No rule has fired yet.')));
      return;
    }
    into.append(
      section(
        'Transitions',
        timelineChart({
          name: 'alerts-timeline',
          title: 'Fired and resolved, by rule',
          rows,
          episodes: episodesOf(rows, history),
          marks: history.map((e) => ({ x: Date.parse(e.at), row: rows.indexOf(e.rule), kind: e.transition })),
          until: Date.now(),
        }),
        table(
          ['when', 'rule', 'transition', 'value', 'condition', 'actions taken'],
          [...history]
            .reverse()
            .map((e) => [when(Date.parse(e.at)), e.rule, e.transition, num(e.value), condition(e), actionsCell(e)]),
          { 'data-table': 'alert-history' },
        ),
      ),
    );
  },
};
