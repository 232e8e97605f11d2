/**
 * The one catalogue of Stratum's error codes. Every code maps to exactly one HTTP status and one
 * gRPC status; the `satisfies` clause makes a new code without a mapping a compile error, and
 * `docs/errors.md` is checked against this table by a test.
 */

/** gRPC status codes used by Stratum (the numeric values are fixed by the gRPC spec). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusName = keyof typeof GrpcStatus;

/** What each code means, and how it travels over HTTP and gRPC. */
export const ERROR_CODES = {
  BAD_REQUEST: { http: 400, grpc: 'INVALID_ARGUMENT', summary: 'The request is malformed.' },
  INVALID_JSON: { http: 400, grpc: 'INVALID_ARGUMENT', summary: 'The body is not valid JSON.' },
  INVALID_INPUT: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: "An input tensor does not match the model's signature (name, datatype, shape or data).",
  },
  INVALID_OUTPUT: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'A requested output does not exist in the model.',
  },
  INVALID_PARAMETER: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'A request parameter (priority, timeout, binary_data, …) has a wrong type or value.',
  },
  INVALID_MODEL: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    summary: 'A model file or its config.json could not be parsed or loaded.',
  },
  UNAUTHENTICATED: {
    http: 401,
    grpc: 'UNAUTHENTICATED',
    summary: 'The request carries no valid credentials.',
  },
  PERMISSION_DENIED: {
    http: 403,
    grpc: 'PERMISSION_DENIED',
    summary: 'The caller may not perform this operation.',
  },
  NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'No such route or resource.' },
  MODEL_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'No model with that name.' },
  VERSION_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    summary: 'The model exists but not the requested version.',
  },
  ALIAS_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'The model has no alias with that name.' },
  DEPLOYMENT_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'No deployment with that name.' },
  ARTIFACT_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'No artifact with that digest.' },
  ALREADY_EXISTS: { http: 409, grpc: 'ALREADY_EXISTS', summary: 'A resource with that name already exists.' },
  IN_USE: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary: 'The resource is still used by an alias or a deployment (they are named in the message).',
  },
  SIGNATURE_MISMATCH: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary: "The version's inputs or outputs do not fit the deployment (the differences are listed).",
  },
  ROLLOUT_CONFLICT: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary: 'A rollout is already running on the deployment, or none is running to act on.',
  },
  RUN_FINISHED: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary: 'The run has finished (succeeded or failed) and no longer changes.',
  },
  JOB_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'No job with that id.' },
  PIPELINE_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', summary: 'No pipeline (or pipeline run) with that name or id.' },
  PIPELINE_RUNNING: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary: 'A run of the pipeline is already queued or running; one run of a pipeline goes at a time.',
  },
  JOB_FINISHED: {
    http: 409,
    grpc: 'FAILED_PRECONDITION',
    summary:
      'The job has finished (completed, failed or cancelled) and cannot be cancelled; or it has not, and cannot be retried.',
  },
  PRECONDITION_FAILED: {
    http: 412,
    grpc: 'FAILED_PRECONDITION',
    summary: 'The If-Match ETag is stale: the resource changed since it was read.',
  },
  ARTIFACT_CORRUPT: {
    http: 500,
    grpc: 'DATA_LOSS',
    summary:
      'A stored artifact no longer matches its sha256 digest, or its encrypted body or data key was tampered with or truncated.',
  },
  AUDIT_CHAIN_BROKEN: {
    http: 500,
    grpc: 'DATA_LOSS',
    summary:
      'The audit log was changed outside Stratum: a record was edited, deleted, inserted or moved (the message names the first broken record and why).',
  },
  MASTER_KEY_INVALID: {
    http: 500,
    grpc: 'FAILED_PRECONDITION',
    summary:
      'The master key is missing, malformed or not the one the encrypted artifact store was written with (raised at start-up, or when an artifact is wrapped by a key that is not configured).',
  },
  SERVER_UNREACHABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'The CLI cannot reach the Stratum server at --url (is `stratum serve` running?).',
  },
  STORE_UNAVAILABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'The metadata store cannot be reached; retry later.',
  },
  QUEUE_UNAVAILABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary:
      'The job queue (the embedded database or Redis) cannot be reached; submitted jobs are kept and resume when it is back.',
  },
  JOB_TIMEOUT: {
    http: 504,
    grpc: 'DEADLINE_EXCEEDED',
    summary: 'A job ran longer than its timeout and was stopped (it is retried while attempts remain).',
  },
  JOB_CANCELLED: {
    http: 409,
    grpc: 'CANCELLED',
    summary: 'The job was cancelled before it finished; it left no partial output.',
  },
  CALLBACK_FAILED: {
    http: 502,
    grpc: 'UNAVAILABLE',
    summary:
      "An asynchronous inference's callback URL could not be reached or answered 5xx or 429; the delivery is retried with backoff.",
  },
  CALLBACK_REJECTED: {
    http: 424,
    grpc: 'FAILED_PRECONDITION',
    summary: "An asynchronous inference's callback URL answered with a 3xx or 4xx other than 429; not retried.",
  },
  COLLECTIVE_FAILED: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary:
      'A rank of a distributed training run died, stopped answering or failed, or Redis (which carries the exchange) could not be reached; the run failed on every rank and registered nothing.',
  },
  METHOD_NOT_ALLOWED: {
    http: 405,
    grpc: 'UNIMPLEMENTED',
    summary: 'The route exists but not for this HTTP method.',
  },
  BODY_TOO_LARGE: {
    http: 413,
    grpc: 'RESOURCE_EXHAUSTED',
    summary: 'The request body, or one BYTES element, is over the configured limit.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    http: 415,
    grpc: 'INVALID_ARGUMENT',
    summary: 'The body has a content type the endpoint does not accept.',
  },
  RATE_LIMITED: {
    http: 429,
    grpc: 'RESOURCE_EXHAUSTED',
    summary: 'Too many requests from this caller; retry later.',
  },
  QUEUE_FULL: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: "The model's batch queue is full; retry after the Retry-After delay.",
  },
  QUEUE_TIMEOUT: {
    http: 503,
    grpc: 'DEADLINE_EXCEEDED',
    summary: "The request's timeout expired while it waited in the queue.",
  },
  MODEL_NOT_READY: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'The model version is loading, unloading or failed to load.',
  },
  SHUTTING_DOWN: {
    http: 503,
    grpc: 'UNAVAILABLE',
    summary: 'The server is shutting down and accepts no new work.',
  },
  UNSUPPORTED: {
    http: 501,
    grpc: 'UNIMPLEMENTED',
    summary: 'The feature or datatype is not supported here.',
  },
  INTERNAL: { http: 500, grpc: 'INTERNAL', summary: 'An unexpected server error (details are logged).' },
  CONFIG_INVALID: {
    http: 500,
    grpc: 'INTERNAL',
    summary: 'The configuration is invalid (raised at start-up, never at request time).',
  },
  PORT_IN_USE: {
    http: 500,
    grpc: 'INTERNAL',
    summary: 'Another process listens on the HTTP or gRPC port the server was given (raised at start-up).',
  },
} as const satisfies Record<string, { http: number; grpc: GrpcStatusName; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** HTTP status of a code. */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].http;
}

/** Numeric gRPC status of a code. */
export function grpcStatusOf(code: ErrorCode): number {
  return GrpcStatus[ERROR_CODES[code].grpc];
}
