/**
 * The payloads of the `tune` and `trial` job kinds, for the kinds table (`src/jobs/job-kinds.ts`):
 * a tune job carries the parsed tuning spec with its training spec inline (checked in full at
 * submission by {@link checkTunePayload}); a trial job names its experiment and number only — the
 * point and the spec are in the store, where the coordinator recorded them before submitting.
 */
import { z } from 'zod';
import { parseInlineTuneSpec } from './tune-spec.ts';

const BaseDir = z.string().min(1).max(4096).regex(/^\//, 'must be an absolute path');

/** `tune`: an experiment, coordinated by the job (the experiment's id is the job's). */
export const TunePayloadSchema = z.strictObject({
  /** A tuning spec with `train:` inline. */
  spec: z.record(z.string(), z.unknown()),
  /** Relative data paths of the training spec are resolved against this folder. */
  baseDir: BaseDir,
});

/** `trial`: one trial of an experiment. */
export const TrialPayloadSchema = z.strictObject({
  experiment: z.string().min(1).max(256),
  number: z.number().int().min(0),
  baseDir: BaseDir,
});

export type TunePayload = z.output<typeof TunePayloadSchema>;
export type TrialPayload = z.output<typeof TrialPayloadSchema>;

/** The cross-field checks of a tune payload (every path of the spec): BAD_REQUEST `invalid <where>: …`. */
export function checkTunePayload(payload: TunePayload, where: string): void {
  parseInlineTuneSpec(payload.spec, `${where}.spec`);
}
