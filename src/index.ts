/**
 * Stratum's root entry: its version, its errors, and the server to embed in a process of your own.
 * The rest is behind subpath exports: `stratum/client`, `stratum/data`, `stratum/features`,
 * `stratum/train`.
 */
export { STRATUM_VERSION } from './version.ts';
export { ERROR_CODES, isStratumError, StratumError } from './errors/index.ts';
export type { ErrorCode } from './errors/index.ts';
export { loadConfig } from './config/index.ts';
export type { Config, ConfigInput, LoadConfigOptions } from './config/index.ts';
export { createLogger } from './logging/logger.ts';
export type { Logger, LoggerOptions, LogLevel } from './logging/logger.ts';
export { startServer } from './server/stratum-server.ts';
export type { StartServerOptions, StratumServer } from './server/stratum-server.ts';
