/**
 * Dropping the keys whose value is `undefined`. Under `exactOptionalPropertyTypes` an optional key
 * may be absent but may not hold `undefined`, and parsed input (zod, query strings) often holds it:
 * this is the one place that turns the one into the other.
 */

/**
 * `T` with every key that may hold `undefined` made optional and unable to hold it; the other keys
 * as they are.
 */
export type WithoutUndefined<T> = {
  [K in keyof T as undefined extends T[K] ? never : K]: T[K];
} & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/**
 * A shallow copy of `value` without its keys whose value is `undefined` (own enumerable keys, in
 * their order; `null` is kept).
 *
 * @example
 * withoutUndefined({ name: 'x', parameters: undefined }); // { name: 'x' }
 */
export function withoutUndefined<T extends object>(value: T): WithoutUndefined<T> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) copy[key] = item;
  }
  return copy as WithoutUndefined<T>;
}
