/** Error catalogue and the StratumError type. */
export { ERROR_CODES, GrpcStatus, grpcStatusOf, httpStatusOf } from './codes.ts';
export type { ErrorCode, GrpcStatusName } from './codes.ts';
export { isStratumError, StratumError, toStratumError } from './stratum-error.ts';
export type { StratumErrorOptions } from './stratum-error.ts';
export { renderErrorsMarkdown } from './errors-doc.ts';
export { formatIssues, specErrorMap } from './format-issues.ts';
