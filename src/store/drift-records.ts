/**
 * The drift part of the MetadataStore contract: a deployment's drift settings, its stored drift
 * reports, and the reference samples recorded for model versions. The store keeps their JSON as
 * given (the monitor validates settings before they are written and writes the reports), and the
 * few fields it files them under beside it.
 */

/** A deployment's drift settings as stored. */
export interface DriftConfigRecord {
  readonly deployment: string;
  readonly config: unknown;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** A drift report and what it is filed under. */
export interface DriftReportRecord {
  readonly id: string;
  readonly deployment: string;
  readonly model: string;
  readonly version: number;
  /** `count:<rows>` or `time:<duration>`. */
  readonly windowKey: string;
  /** Epoch milliseconds. */
  readonly computedAt: number;
  readonly report: unknown;
}

/** Which reports to read: a deployment's, optionally of one version and window. */
export interface DriftReportQuery {
  readonly deployment: string;
  readonly version?: number;
  readonly windowKey?: string;
  /** @default 20 (at most 500) */
  readonly limit?: number;
}

/** The drift methods of the store. */
export interface DriftRecords {
  /** Replaces a deployment's drift settings; DEPLOYMENT_NOT_FOUND when there is no such deployment. */
  setDriftConfig(record: Omit<DriftConfigRecord, 'updatedAt'>): Promise<DriftConfigRecord>;
  /** Undefined when none were set; DEPLOYMENT_NOT_FOUND when there is no such deployment. */
  getDriftConfig(deployment: string): Promise<DriftConfigRecord | undefined>;
  /** Keeps a report (a fresh id); DEPLOYMENT_NOT_FOUND when there is no such deployment. */
  saveDriftReport(report: Omit<DriftReportRecord, 'id'>): Promise<DriftReportRecord>;
  /** Newest first; DEPLOYMENT_NOT_FOUND when there is no such deployment. */
  listDriftReports(query: DriftReportQuery): Promise<readonly DriftReportRecord[]>;
  /** Records (or replaces) a version's reference sample; VERSION_NOT_FOUND when it does not exist. */
  recordReferenceSample(sample: { model: string; version: number; sample: unknown }): Promise<void>;
  /** Undefined when none was recorded. */
  referenceSample(model: string, version: number): Promise<unknown>;
}
