/**
 * Flags that override configuration settings (`--http-port` → `httpPort`): the overrides passed to
 * `loadConfig` are read off the flags' declarations, so a new flag needs no mapping of its own,
 * and the environment variable stays in force when the flag is absent.
 */
import type { ConfigInput } from '../../config/index.ts';
import type { OptionsSpec } from './command-spec.ts';

/** The settings the given flags override, as a (nested) configuration input. */
export function settingOverrides(options: OptionsSpec, values: Readonly<Record<string, unknown>>): ConfigInput {
  const out: Record<string, unknown> = {};
  for (const [flag, option] of Object.entries(options)) {
    const raw = values[flag];
    if (option.setting === undefined || raw === undefined) continue;
    let value: unknown = raw;
    if (option.negates === true) value = raw !== true;
    else if (option.number !== undefined && typeof raw === 'string') value = Number(raw);
    const keys = option.setting.split('.');
    let node = out;
    for (const key of keys.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = value;
  }
  return out as ConfigInput;
}

/** The flag that overrides `setting` (`httpPort` → `--http-port`), when the command has one. */
export function flagOfSetting(options: OptionsSpec, setting: string): string | undefined {
  const entry = Object.entries(options).find(([, option]) => option.setting === setting && option.negates !== true);
  return entry === undefined ? undefined : `--${entry[0]}`;
}
