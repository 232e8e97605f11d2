/**
 * Alert rules: checking the declared rules, the state machine (for-duration, hysteresis, no
 * data), the measures on a real prom-client registry, signed webhook delivery with retries, and
 * actions taken on firing.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createAlertManager } from '../../src/alerts/alert-manager.ts';
import { parseAlertRules, parseAlertRulesText } from '../../src/alerts/alert-rules.ts';
import { INITIAL_STATE, nextAlertState, type AlertState } from '../../src/alerts/alert-state.ts';
import { createMetricWindow } from '../../src/alerts/metric-window.ts';
import { createWebhookNotifier, signWebhook } from '../../src/alerts/webhook-notifier.ts';

const logger = pino({ level: 'silent' });

describe('alert rules', () => {
  it('reads YAML rules with durations, a direction and a clear level', () => {
    const [rule] = parseAlertRulesText(
      `rules:
  - name: error-rate
    measure: { kind: ratio, metric: stratum_inference_requests_total, where: { outcome: failure }, of: stratum_inference_requests_total, window: 1m }
    above: 0.05
    clear: 0.02
    for: 30s
    actions:
      - webhook: { url: "https://hooks.example.com/x", secretEnv: HOOK_KEY }
      - rollback: { deployment: iris }
`,
      'alerts.yaml',
    );
    assert.equal(rule?.direction, 'above');
    assert.equal(rule?.threshold, 0.05);
    assert.equal(rule?.clear, 0.02);
    assert.equal(rule?.forMs, 30_000);
    assert.deepEqual(rule?.measure, {
      kind: 'ratio',
      metric: 'stratum_inference_requests_total',
      where: { outcome: 'failure' },
      of: 'stratum_inference_requests_total',
      ofWhere: {},
      window: 60_000,
    });
  });

  it('refuses malformed rules naming the path of every bad field', () => {
    const bad = (value: unknown) => {
      try {
        parseAlertRules(value, 'alerts.yaml');
      } catch (error) {
        return (error as Error & { code: string }).code + ' ' + (error as Error).message;
      }
      return 'accepted';
    };
    assert.match(
      bad({ rules: [{ name: 'x', measure: { kind: 'rate', metric: 'm', window: '5 minutes' }, above: 1 }] }),
      /^CONFIG_INVALID alerts.yaml: rules\[0\]\.measure\.window: must be a duration/,
    );
    assert.match(
      bad({ rules: [{ name: 'x', measure: { kind: 'value', metric: 'm' } }] }),
      /rules\[0\]\.above: give exactly one of "above" and "below"/,
    );
    assert.match(
      bad({ rules: [{ name: 'x', measure: { kind: 'value', metric: 'm' }, above: 1, clear: 2 }] }),
      /rules\[0\]\.clear: must be ≤ above \(1\)/,
    );
    assert.match(
      bad({ rules: [{ name: 'x', measure: { kind: 'value', metric: 'm' }, above: 1, thresold: 2 }] }),
      /rules\[0\]: Unrecognized key: "thresold"/,
    );
    assert.match(
      bad({ rules: [{ name: 'x', measure: { kind: 'quantile', metric: 'm', quantile: 99, window: '1m' }, above: 1 }] }),
      /rules\[0\]\.measure\.quantile: must be in \(0, 1\)/,
    );
    assert.match(
      bad({
        rules: [
          { name: 'x', measure: { kind: 'value', metric: 'm' }, above: 1, actions: [{ webhook: { url: 'ftp://x' } }] },
        ],
      }),
      /rules\[0\]\.actions\[0\]/,
    );
    assert.match(
      bad({
        rules: [
          { name: 'a', measure: { kind: 'value', metric: 'm' }, above: 1 },
          { name: 'a', measure: { kind: 'value', metric: 'm' }, above: 1 },
        ],
      }),
      /rules\[1\]\.name: is used twice/,
    );
    assert.throws(() => parseAlertRulesText('rules: [', 'alerts.yaml'), {
      code: 'CONFIG_INVALID',
      message: /alerts.yaml: not valid YAML/,
    });
  });
});

describe('alert state', () => {
  type Rule = Parameters<typeof nextAlertState>[0];
  const rule: Rule = { direction: 'above', threshold: 10, clear: 5, forMs: 30 };
  const run = (values: (number | undefined)[], r: Rule = rule) => {
    let state: AlertState = INITIAL_STATE;
    return values.map((value, t) => {
      const next = nextAlertState(r, state, { value, now: t * 10 });
      state = next.state;
      return `${state.phase}${next.transition ? `:${next.transition}` : ''}`;
    });
  };

  it('fires only after the value stays bad for the declared duration', () => {
    assert.deepEqual(run([11, 12, 9, 11, 11, 11, 11]), [
      'pending',
      'pending',
      'inactive',
      'pending',
      'pending',
      'pending',
      'firing:fired',
    ]);
  });

  it('does not flap around the threshold: resolves only past the clear level', () => {
    assert.deepEqual(run([11, 11, 11, 11, 9, 11, 8, 6, 5, 11]), [
      'pending',
      'pending',
      'pending',
      'firing:fired',
      'firing',
      'firing',
      'firing',
      'firing',
      'inactive:resolved',
      'pending',
    ]);
  });

  it('neither resolves nor fires on missing data, and says there was none', () => {
    const states = run([11, 11, 11, 11, undefined, undefined, 11]);
    assert.deepEqual(states, ['pending', 'pending', 'pending', 'firing:fired', 'firing', 'firing', 'firing']);
    const { state } = nextAlertState(rule, { phase: 'firing', since: 0, value: 11 }, { value: undefined, now: 1 });
    assert.equal(state.noData, true);
    assert.equal(state.value, undefined);
  });

  it('works the other way for "below" rules (live accuracy)', () => {
    const below = { direction: 'below' as const, threshold: 0.9, clear: 0.95, forMs: 0 };
    assert.deepEqual(run([0.97, 0.89, 0.93, 0.96], below), ['inactive', 'firing:fired', 'firing', 'inactive:resolved']);
  });
});

describe('metric window', () => {
  it('measures a value, a rate, a ratio and a histogram quantile as PromQL would', async () => {
    const registry = new Registry();
    const requests = new Counter({
      name: 'req_total',
      help: 'h',
      labelNames: ['outcome', 'model'],
      registers: [registry],
    });
    const depth = new Gauge({ name: 'depth', help: 'h', labelNames: ['queue'], registers: [registry] });
    const latency = new Histogram({ name: 'lat_seconds', help: 'h', buckets: [0.1, 0.2, 0.4], registers: [registry] });
    const window = createMetricWindow({ registry, keepMs: 60_000 });
    requests.labels('success', 'a').inc(10);
    latency.observe(0.05);
    await window.sample(0);
    requests.labels('success', 'a').inc(90);
    requests.labels('failure', 'a').inc(5);
    requests.labels('failure', 'b').inc(5);
    depth.labels('q1').set(3);
    depth.labels('q2').set(4);
    // 100 new observations: 50 in (0, 0.1], 30 in (0.1, 0.2], 20 in (0.2, 0.4].
    for (let i = 0; i < 50; i++) latency.observe(0.05);
    for (let i = 0; i < 30; i++) latency.observe(0.15);
    for (let i = 0; i < 20; i++) latency.observe(0.3);
    await window.sample(10_000);
    assert.equal(window.measure({ kind: 'value', metric: 'depth', where: {} }, 10_000), 7);
    assert.equal(window.measure({ kind: 'value', metric: 'depth', where: { queue: 'q2' } }, 10_000), 4);
    assert.equal(window.measure({ kind: 'value', metric: 'nothing', where: {} }, 10_000), undefined);
    assert.equal(window.measure({ kind: 'rate', metric: 'req_total', where: {}, window: 10_000 }, 10_000), 10);
    const ratio = window.measure(
      {
        kind: 'ratio',
        metric: 'req_total',
        where: { outcome: 'failure' },
        of: 'req_total',
        ofWhere: {},
        window: 10_000,
      },
      10_000,
    );
    assert.equal(ratio, 10 / 100);
    // Rank 90 of 100 falls in (0.2, 0.4] holding ranks 80..100: 0.2 + 0.2 * 10/20.
    const p90 = window.measure(
      { kind: 'quantile', metric: 'lat_seconds', where: {}, quantile: 0.9, window: 10_000 },
      10_000,
    );
    assert.ok(Math.abs((p90 ?? 0) - 0.3) < 1e-12, String(p90));
    // Rank 25 in (0, 0.1] holding 50: 0.1 * 25/50.
    const p25 = window.measure(
      { kind: 'quantile', metric: 'lat_seconds', where: {}, quantile: 0.25, window: 10_000 },
      10_000,
    );
    assert.ok(Math.abs((p25 ?? 0) - 0.05) < 1e-12, String(p25));
    // A window reaching before the first snapshot has no start: no data rather than a guess.
    assert.equal(window.measure({ kind: 'rate', metric: 'req_total', where: {}, window: 20_000 }, 10_000), undefined);
  });
});

/** A webhook receiver that refuses the first `failFirst` deliveries. */
async function receiver(failFirst: number) {
  const received: { body: string; signature: string | undefined }[] = [];
  let calls = 0;
  const waiters: (() => void)[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls++;
      if (calls <= failFirst) {
        res.statusCode = 503;
        res.end();
        return;
      }
      received.push({
        body: Buffer.concat(chunks).toString(),
        signature: req.headers['x-stratum-signature'] as string,
      });
      res.end('ok');
      waiters.splice(0).forEach((w) => w());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    get calls() {
      return calls;
    },
    async waitFor(n: number) {
      while (received.length < n) await new Promise<void>((r) => waiters.push(r));
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('webhook notifier', () => {
  it('signs the payload and retries a refused delivery until it lands', async () => {
    const hook = await receiver(2);
    const outcomes: string[] = [];
    const notifier = createWebhookNotifier({ logger, backoffMs: 1, onOutcome: (o) => outcomes.push(o) });
    try {
      notifier.notify({ url: hook.url, secret: 'k3y', payload: { rule: 'r', transition: 'fired' } });
      await hook.waitFor(1);
      const [{ body, signature }] = hook.received as [{ body: string; signature: string }];
      assert.deepEqual(JSON.parse(body), { rule: 'r', transition: 'fired' });
      const [, t, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
      assert.equal(mac, createHmac('sha256', 'k3y').update(`${t}.${body}`).digest('hex'));
      assert.equal(signature, signWebhook('k3y', Number(t), body));
      assert.equal(hook.calls, 3);
      assert.deepEqual(outcomes.slice(0, 2), ['retried', 'retried']);
    } finally {
      await notifier.close();
      await hook.close();
    }
  });

  it('never blocks the caller and keeps a bounded queue when the webhook is down', async () => {
    const outcomes: string[] = [];
    // Port 9 on loopback: nothing listens; every attempt fails at once.
    const notifier = createWebhookNotifier({
      logger,
      capacity: 3,
      attempts: 2,
      backoffMs: 60_000,
      onOutcome: (o) => outcomes.push(o),
    });
    for (let i = 0; i < 10; i++) notifier.notify({ url: 'http://127.0.0.1:9/x', payload: { i } });
    // notify() returned ten times without waiting: one is in flight at most, three queued.
    assert.ok(notifier.pending <= 4, String(notifier.pending));
    assert.ok(outcomes.filter((o) => o === 'dropped').length >= 6);
    await notifier.close();
    assert.equal(notifier.pending, 0);
  });
});

describe('alert manager', () => {
  it('fires on a real metric, notifies a webhook, rolls back, and resolves', async () => {
    const registry = new Registry();
    const errors = new Gauge({ name: 'error_share', help: 'h', registers: [registry] });
    const hook = await receiver(0);
    const rolledBack: string[] = [];
    let clock = 0;
    const manager = createAlertManager({
      rules: parseAlertRules({
        rules: [
          {
            name: 'errors',
            measure: { kind: 'value', metric: 'error_share' },
            above: 0.1,
            clear: 0.05,
            for: '20s',
            actions: [{ webhook: { url: hook.url, secretEnv: 'HOOK' } }, { rollback: { deployment: 'iris' } }],
          },
        ],
      }),
      registry,
      logger,
      effects: { rollback: async (d) => void rolledBack.push(d) },
      env: { HOOK: 'secret' },
      intervalMs: 3_600_000,
      now: () => clock,
    });
    try {
      errors.set(0.2);
      assert.deepEqual(await manager.evaluate(), []);
      assert.equal(manager.status()[0]?.phase, 'pending');
      clock = 20_000;
      const [fired] = await manager.evaluate();
      assert.equal(fired?.transition, 'fired');
      assert.deepEqual(fired?.actions, [{ action: 'rollback iris', outcome: 'ok' }]);
      assert.deepEqual(rolledBack, ['iris']);
      assert.match(await registry.metrics(), /stratum_alert_firing\{rule="errors"\} 1/);
      errors.set(0.08); // under the threshold, above the clear level: still firing
      clock = 30_000;
      assert.deepEqual(await manager.evaluate(), []);
      errors.set(0.01);
      clock = 40_000;
      const [resolved] = await manager.evaluate();
      assert.equal(resolved?.transition, 'resolved');
      assert.equal(rolledBack.length, 1);
      await hook.waitFor(2);
      assert.deepEqual(
        hook.received.map((r) => (JSON.parse(r.body) as { transition: string }).transition),
        ['fired', 'resolved'],
      );
      assert.ok(hook.received.every((r) => r.signature?.startsWith('t=')));
      assert.deepEqual(
        manager.history().map((e) => e.transition),
        ['fired', 'resolved'],
      );
    } finally {
      await manager.close();
      await hook.close();
    }
  });

  it('records a failed action instead of throwing', async () => {
    const registry = new Registry();
    new Gauge({ name: 'g', help: 'h', registers: [registry] }).set(5);
    const manager = createAlertManager({
      rules: parseAlertRules({
        rules: [
          {
            name: 'g',
            measure: { kind: 'value', metric: 'g' },
            above: 1,
            actions: [{ pipeline: { name: 'retrain' } }],
          },
        ],
      }),
      registry,
      logger,
      env: {},
      intervalMs: 3_600_000,
    });
    try {
      const [event] = await manager.evaluate();
      assert.deepEqual(event?.actions, [
        { action: 'pipeline retrain', outcome: 'failed', message: 'not available in this process' },
      ]);
    } finally {
      await manager.close();
    }
  });
});
