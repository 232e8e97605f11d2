/** Configuration: schema with defaults, loaded once and frozen. */
export { CONFIG_ENV_VARS, loadConfig, SETTING_ENV_VARS } from './load-config.ts';
export type { LoadConfigOptions } from './load-config.ts';
export {
  AsyncInferenceConfigSchema,
  BatchingDefaultsSchema,
  ConfigSchema,
  RequestLimitsSchema,
  RuntimeConfigSchema,
} from './schema.ts';
export type {
  AsyncInferenceConfig,
  BatchingDefaults,
  Config,
  ConfigInput,
  RuntimeConfig,
  SecurityConfig,
} from './schema.ts';
export { CallbacksConfigSchema, TlsConfigSchema } from './schema.ts';
export type { CallbacksConfig, TlsConfig } from './schema.ts';
export type { InferenceLogConfig, QualityConfig, TracingConfig } from './schema.ts';
export { readEnvSecrets } from './env-secrets.ts';
