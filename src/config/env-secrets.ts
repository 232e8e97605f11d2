/**
 * Secrets that settings name by environment variable rather than hold (an alert webhook's HMAC
 * key: `secretEnv`), read once when the setting is used. Kept in the config module, the one place
 * that reads the environment.
 */

/** The values of these variables (undefined where unset). */
export function readEnvSecrets(names: readonly string[]): Readonly<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const name of names) out[name] = process.env[name];
  return Object.freeze(out);
}
