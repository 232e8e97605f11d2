/**
 * Formats zod issues for people: one `path: message` per issue, paths written as in JavaScript; and
 * the error map that words the mistakes people make in the specs they write: a misspelt key or
 * value is answered with the nearest valid one.
 */
import type { z } from 'zod';
import { nearestName } from '../util/nearest-name.ts';

/** `inputs[0].shape[1]: expected number, received string; (top level): …` */
export function formatIssues(error: Pick<z.ZodError, 'issues'>): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join('');
      return `${path || '(top level)'}: ${issue.message}`;
    })
    .join('; ');
}

/** The keys an object schema declares, read from the schema that raised an issue. */
function declaredKeys(schema: unknown): string[] | undefined {
  const shape = (schema as { _zod?: { def?: { shape?: unknown } } } | undefined)?._zod?.def?.shape;
  return typeof shape === 'object' && shape !== null ? Object.keys(shape) : undefined;
}

const quote = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** `; did you mean "label"?`, or '' when no allowed value is close to `given`. */
function hint(given: unknown, allowed: readonly unknown[]): string {
  if (typeof given !== 'string') return '';
  const nearest = nearestName(
    given,
    allowed.filter((value): value is string => typeof value === 'string'),
  );
  return nearest === undefined ? '' : `; did you mean ${quote(nearest)}?`;
}

/** `unknown key "lable"; did you mean "label"?`, for each unknown key of an object. */
function unknownKeys(issue: { keys: readonly string[]; input?: unknown; inst?: unknown }): string {
  const known = declaredKeys(issue.inst);
  const given = typeof issue.input === 'object' && issue.input !== null ? Object.keys(issue.input) : [];
  // A key the object already has is no likely target of a typo.
  const free = known?.filter((key) => !given.includes(key)) ?? [];
  return issue.keys
    .map((key) => {
      const suggestion = hint(key, free);
      if (suggestion !== '' || known === undefined) return `unknown key ${quote(key)}${suggestion}`;
      return `unknown key ${quote(key)} (known keys: ${known.join(', ')})`;
    })
    .join('; ');
}

/** The discriminator of a union (`transform`, `kind`, `format`) is absent or not one of its values. */
function badDiscriminator(issue: { discriminator: string; options: readonly unknown[]; input?: unknown }): string {
  const { discriminator, options } = issue;
  const expected = `expected one of ${options.map(quote).join(', ')}`;
  const object = typeof issue.input === 'object' && issue.input !== null ? issue.input : {};
  if (!Object.hasOwn(object, discriminator)) {
    const misspelt = nearestName(discriminator, Object.keys(object));
    return misspelt === undefined
      ? `missing; ${expected}`
      : `missing (the object has ${quote(misspelt)}; did you mean ${quote(discriminator)}?); ${expected}`;
  }
  const given = (object as Record<string, unknown>)[discriminator];
  return `${expected}, got ${quote(given)}${hint(given, options)}`;
}

/**
 * A zod error map for specs people write (training, feature and deployment specs, config files):
 * an unknown key names the nearest declared key (`unknown key "lable"; did you mean "label"?`, or
 * lists the keys when none is close), a value outside an enum, a literal or a union's
 * discriminator names the nearest allowed value, and an absent required key says so. Other issues
 * keep zod's words. Pass it to the
 * parse: `schema.safeParse(input, { error: specErrorMap })`.
 *
 * @example
 * ```ts
 * const parsed = TrainSpecSchema.safeParse(input, { error: specErrorMap });
 * if (!parsed.success) throw new StratumError('BAD_REQUEST', `invalid training spec: ${formatIssues(parsed.error)}`);
 * ```
 */
export function specErrorMap(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'unrecognized_keys':
      return unknownKeys(issue);
    case 'invalid_type':
      return issue.input === undefined ? `missing; expected ${issue.expected}` : undefined;
    case 'invalid_value': {
      const { values, input } = issue;
      const expected = `expected ${values.length === 1 ? quote(values[0]) : `one of ${values.map(quote).join(', ')}`}`;
      return input === undefined ? `missing; ${expected}` : `${expected}, got ${quote(input)}${hint(input, values)}`;
    }
    case 'invalid_union': {
      const { discriminator, options } = issue as { discriminator?: string; options?: unknown };
      if (discriminator === undefined || !Array.isArray(options)) return undefined;
      return badDiscriminator({ discriminator, options, input: issue.input });
    }
    default:
      return undefined;
  }
}
