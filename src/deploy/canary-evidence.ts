/**
 * The evidence of a canary check, as it is stored in a deployment event's `detail.evidence` and
 * read back by the CLI: the samples of either version, and for each gate its test, statistic,
 * p-value, effect and verdict. The schema is the type, so what the controller writes and what
 * `stratum deploy events` reads cannot drift apart; the one-line descriptions are shared too.
 */
import { z } from 'zod';

const Verdict = z.enum(['pass', 'breach', 'waiting']);

/** What one version contributed to a check. */
export const SampleEvidenceSchema = z.object({
  requests: z.number(),
  errors: z.number(),
  /** Size of the latency sample (successful requests, at most the reservoir). */
  latencies: z.number(),
  medianMs: z.number().optional(),
});

/** One gate's test and verdict. */
export const GateEvidenceSchema = z.discriminatedUnion('gate', [
  z.object({
    gate: z.literal('latency'),
    verdict: Verdict,
    test: z.literal('mann-whitney'),
    u: z.number(),
    z: z.number(),
    pValue: z.number(),
    /** Hodges–Lehmann shift, canary minus stable (ms). */
    shiftMs: z.number(),
    /** The shift over the stable median. */
    shiftRatio: z.number(),
    minShiftMs: z.number(),
    minShiftRatio: z.number(),
  }),
  z.object({
    gate: z.literal('error-rate'),
    verdict: Verdict,
    test: z.enum(['fisher', 'z']),
    z: z.number().optional(),
    pValue: z.number(),
    canaryRate: z.number(),
    stableRate: z.number(),
    minIncrease: z.number(),
  }),
  z.object({
    gate: z.literal('max-error-rate'),
    verdict: Verdict,
    test: z.literal('binomial'),
    pValue: z.number(),
    rate: z.number(),
    limit: z.number(),
  }),
  z.object({
    gate: z.literal('max-p99'),
    verdict: Verdict,
    test: z.literal('binomial'),
    pValue: z.number(),
    /** Successful requests slower than the limit, of `sampled`. */
    slower: z.number(),
    sampled: z.number(),
    limitMs: z.number(),
  }),
  z.object({
    gate: z.literal('disagreement'),
    verdict: Verdict,
    test: z.literal('binomial'),
    /** Undefined while fewer than `needed` requests were compared. */
    pValue: z.number().optional(),
    compared: z.number(),
    disagreements: z.number(),
    needed: z.number(),
    limit: z.number(),
  }),
]);

/** A check of one canary step, or the wait for one. */
export const CanaryEvidenceSchema = z.object({
  canaryId: z.string(),
  /** Index into the policy's steps, and that step's percentage of traffic. */
  step: z.number(),
  percent: z.number(),
  /** Checks made in this step so far (0 while waiting for the first). */
  check: z.number(),
  verdict: Verdict,
  /** Consecutive breaching checks so far, of the `of` that roll back. */
  breaches: z.number(),
  of: z.number(),
  confidence: z.number(),
  /** Requests each version needs per check. */
  minRequests: z.number(),
  canary: SampleEvidenceSchema,
  /** Null at a step that routes the stable version no traffic (the last one). */
  stable: SampleEvidenceSchema.nullable(),
  gates: z.array(GateEvidenceSchema),
});

export type SampleEvidence = z.infer<typeof SampleEvidenceSchema>;
export type GateEvidence = z.infer<typeof GateEvidenceSchema>;
export type CanaryEvidence = z.infer<typeof CanaryEvidenceSchema>;

/** `latency: canary +5.02 ms (+295%) vs stable, U = 9876, p = 3.1e-18 — breach`. */
export function describeGate(gate: GateEvidence): string {
  return `${gateFinding(gate)} — ${gate.verdict}`;
}

/** What a gate found, without its verdict; the words of a rollback's reason. */
export function gateFinding(gate: GateEvidence): string {
  switch (gate.gate) {
    case 'latency':
      return `latency: canary ${signedMs(gate.shiftMs)} (${signedPct(gate.shiftRatio)}) vs stable (Hodges–Lehmann shift; needs > ${gate.minShiftMs} ms and > ${pct(gate.minShiftRatio)}), Mann–Whitney U = ${round(gate.u)}, z = ${gate.z.toFixed(2)}, p = ${pValue(gate.pValue)}`;
    case 'error-rate':
      return `error rate: canary ${pct(gate.canaryRate)} vs stable ${pct(gate.stableRate)} (needs > +${pct(gate.minIncrease)}), ${gate.test === 'fisher' ? "Fisher's exact" : `z = ${(gate.z ?? 0).toFixed(2)}`}, p = ${pValue(gate.pValue)}`;
    case 'max-error-rate':
      return `error rate ${pct(gate.rate)} against the gate of ${pct(gate.limit)}, binomial p = ${pValue(gate.pValue)}`;
    case 'max-p99':
      return `p99 against the gate of ${gate.limitMs.toFixed(2)} ms: ${gate.slower} of ${gate.sampled} requests slower, binomial p = ${pValue(gate.pValue)}`;
    case 'disagreement':
      return gate.pValue === undefined
        ? `disagreement: ${gate.compared} of ${gate.needed} compared requests needed so far`
        : `outputs disagree with the stable version on ${pct(gate.compared === 0 ? 0 : gate.disagreements / gate.compared)} of ${gate.compared} compared requests (gate ${pct(gate.limit)}), binomial p = ${pValue(gate.pValue)}`;
  }
}

/** `canary 104 req (0 err), stable 1986 req (0 err)`. */
export function describeSamples(evidence: Pick<CanaryEvidence, 'canary' | 'stable'>): string {
  const side = (s: SampleEvidence): string =>
    `${s.requests} req (${s.errors} err${s.medianMs === undefined ? '' : `, median ${s.medianMs.toFixed(2)} ms`})`;
  return `canary ${side(evidence.canary)}, ${evidence.stable === null ? 'stable no routed traffic' : `stable ${side(evidence.stable)}`}`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function signedPct(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
}

function signedMs(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)} ms`;
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/** Two significant digits; tiny values in exponent form. */
function pValue(p: number): string {
  if (p === 0) return '0';
  return p < 0.001 ? p.toExponential(1) : p.toPrecision(2);
}
