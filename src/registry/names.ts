/**
 * Names of models, deployments and aliases. A deployment's name is a model name in the inference
 * protocol, so both must be safe in a URL path; an alias may not look like a version number, so
 * `versions/{v}` and `aliases/{a}` are never ambiguous.
 */
import { z } from 'zod';

/** A model or deployment name. */
export const ResourceNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    'must be 1–128 characters: letters, digits, "_", "." or "-", starting with a letter or digit',
  );

/** What an alias name looks like. */
export const ALIAS_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** An alias name such as `production`. */
export const AliasNameSchema = z
  .string()
  .regex(ALIAS_NAME_PATTERN, 'must be 1–64 characters: letters, digits, "_" or "-", starting with a letter');

/** A version number as it appears in a URL or a route. */
export const VersionNumberSchema = z.number().int().min(1).max(2_147_483_647);

/** A tag on a model or version (no comma: lists of tags travel comma-separated in a query). */
export const TagSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^,]+$/, 'must not contain a comma');
