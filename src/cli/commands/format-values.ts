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

/** `auc=0.93 loss=0.1`. */
export function formatMetrics(metrics: Readonly<Record<string, number>>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** A tensor shape with its dynamic dimensions shown as `-1`, `[-1,784]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
