/**
 * Metrics of authentication and limits, per principal: the label is the principal's id
 * (`key:<key id>`, `jwt:<subject>`), never a secret. Label children are bound once per principal.
 */
import { Counter, type Registry } from 'prom-client';

/** Why a request ended in the security hook, or that it passed. */
export type AuthOutcome = 'allowed' | 'unauthenticated' | 'denied' | 'rate_limited';

/** The metrics. */
export interface SecurityMetrics {
  count(principal: string, outcome: AuthOutcome): void;
}

/** Registers the metrics on a server's registry. */
export function createSecurityMetrics(registry: Registry): SecurityMetrics {
  const requests = new Counter({
    name: 'stratum_auth_requests_total',
    help: 'Requests through the security hook by principal (key id or JWT subject) and outcome',
    labelNames: ['principal', 'outcome'],
    registers: [registry],
  });
  const bound = new Map<string, Counter.Internal>();
  return {
    count(principal, outcome) {
      const key = `${outcome}\u0000${principal}`;
      let child = bound.get(key);
      if (child === undefined) {
        child = requests.labels({ principal, outcome });
        bound.set(key, child);
      }
      child.inc();
    },
  };
}
