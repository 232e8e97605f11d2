/**
 * The pipeline part of the MetadataStore contract: pipeline specs by name, and the runs of each
 * with their steps. The store keeps the JSON as given (the pipelines module validates specs before
 * they are written and shapes the steps) and the few fields it files them under beside it.
 */

/** A pipeline as stored. */
export interface PipelineRecord {
  readonly name: string;
  readonly spec: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** Where a run stands: queued until its job starts, then running until it ends one of the other ways. */
export type PipelineRunStatus =
  'queued' | 'running' | 'succeeded' | 'rejected' | 'rolled_back' | 'failed' | 'cancelled';

/** The statuses a run ends in. */
export const FINISHED_RUN_STATUSES: readonly PipelineRunStatus[] = [
  'succeeded',
  'rejected',
  'rolled_back',
  'failed',
  'cancelled',
];

/** A run as stored. */
export interface PipelineRunRecord {
  /** The id of the `pipeline` job running it. */
  readonly id: string;
  readonly pipeline: string;
  readonly status: PipelineRunStatus;
  /** What started it (by hand, the schedule, an alert). */
  readonly trigger: unknown;
  /** The spec it runs (a snapshot). */
  readonly spec: unknown;
  /** Its steps so far, in order. */
  readonly steps: readonly unknown[];
  /** What it ended with. */
  readonly outcome?: unknown;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt?: number;
}

/** A change to a run. */
export interface PipelineRunUpdate {
  readonly id: string;
  readonly status?: PipelineRunStatus;
  readonly steps?: readonly unknown[];
  readonly outcome?: unknown;
  readonly finishedAt?: number;
}

/** The pipeline methods of the store. */
export interface PipelineRecords {
  /** Creates or replaces the pipeline named `name`. */
  putPipeline(record: { name: string; spec: unknown; by: string }): Promise<PipelineRecord & { created: boolean }>;
  /** PIPELINE_NOT_FOUND when there is none. */
  getPipeline(name: string): Promise<PipelineRecord>;
  listPipelines(): Promise<PipelineRecord[]>;
  /** PIPELINE_NOT_FOUND when there is none; its runs stay (they are history). */
  deletePipeline(name: string): Promise<void>;
  /** Records a run; when one with the id exists already, returns that one unchanged. */
  createPipelineRun(run: {
    id: string;
    pipeline: string;
    trigger: unknown;
    spec: unknown;
    by: string;
  }): Promise<PipelineRunRecord>;
  /** PIPELINE_NOT_FOUND when there is none. */
  updatePipelineRun(update: PipelineRunUpdate): Promise<PipelineRunRecord>;
  /** PIPELINE_NOT_FOUND when there is none. */
  getPipelineRun(id: string): Promise<PipelineRunRecord>;
  /** Newest first. */
  listPipelineRuns(query: {
    pipeline?: string;
    statuses?: readonly PipelineRunStatus[];
    limit?: number;
  }): Promise<PipelineRunRecord[]>;
}
