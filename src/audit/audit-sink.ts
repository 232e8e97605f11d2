/** Where changes and denied requests are recorded (the hash-chained audit log implements it). */
export interface AuditEntryInput {
  /** `Principal.id` of who did it. */
  readonly actor: string;
  /** What was done, `<resource kind>.<verb>`: `alias.set`, `version.register`, `key.revoke`, `request.denied`, … */
  readonly action: string;
  /** What it was done to, as a path: `models/iris/aliases/production`, `jobs/123`, `GET /api/v1/models`. */
  readonly resource: string;
  readonly outcome: 'ok' | 'denied' | 'failed';
  /** Where from: the client address, or `cli`. */
  readonly source?: string;
  /** The state before and after the change (JSON values), where there is one. */
  readonly before?: unknown;
  readonly after?: unknown;
  readonly requestId?: string;
}

export interface AuditSink {
  append(entry: AuditEntryInput): Promise<void>;
}
