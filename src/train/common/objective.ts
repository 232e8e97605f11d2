/** What a trainer fits, the same three for every model kind. */
import type { z } from 'zod';
import { choice } from './param-schema.ts';

/** `'regression'` (identity output), `'binary'` (sigmoid, `[1 − p, p]`) or `'multiclass'` (softmax). */
export const trainingObjective = choice(['regression', 'binary', 'multiclass']);

/** What a model predicts. */
export type TrainingObjective = z.infer<typeof trainingObjective>;
