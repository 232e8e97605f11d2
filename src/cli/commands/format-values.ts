/** Short human renderings of the values the management API returns: sizes, times, digests, metrics. */

/** `2.6 MiB`, `812 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A UTC timestamp to the second, `2025-03-01 12:00:05`. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** The first 12 hex digits of a sha256, enough to tell versions apart at a glance. */
export function shortDigest(digest: string): string {
  return `${digest.slice(0, 12)}…`;
}

/**
 * A measured number for people: integers as they are, others to 3 significant digits (`0.913`,
 * `1.24e-5`, `12300`). `--json` keeps full precision.
 */
export function formatNumber(value: number): string {
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e9) return value.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(3)));
}

/** `auc=0.93 loss=0.1`, each value to 3 significant digits. */
export function formatMetrics(metrics: Readonly<Record<string, number>>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${formatNumber(v)}`)
    .join(' ');
}

/** `1.5 s`, `2 min 5 s`, `1 h 3 min`: how long something took. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A tensor shape with its dynamic dimensions shown as `-1`, `[-1,784]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
