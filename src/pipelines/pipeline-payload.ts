/** The payload of a `pipeline` job: the spec it runs (a snapshot) and what started it. */
import { z } from 'zod';
import { PipelineSpecSchema } from './pipeline-spec.ts';

export const PipelineTriggerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('manual') }),
  z.strictObject({ kind: z.literal('schedule'), slot: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('alert'), rule: z.string().min(1).max(128), firedAt: z.string().min(1).max(64) }),
]);

export const PipelinePayloadSchema = z.strictObject({
  spec: PipelineSpecSchema,
  trigger: PipelineTriggerSchema,
});

export type PipelinePayload = z.output<typeof PipelinePayloadSchema>;

/** What started a run. */
export type PipelineTrigger = z.output<typeof PipelineTriggerSchema>;
