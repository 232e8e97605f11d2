/**
 * Role grants as people write them: `viewer`, `predictor:iris` (a role on one model), or the
 * object form `{ role, model }` that keys store and JWT claims may carry.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { ROLES, type RoleGrant } from './principal.ts';

/** A model name in a grant: what model names allow. */
const MODEL = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a model name (letters, digits, _ . -)');

/** A grant in its object form. */
export const RoleGrantSchema = z
  .object({ role: z.enum(ROLES), model: MODEL.optional() })
  .strict()
  .transform((g): RoleGrant => (g.model === undefined ? { role: g.role } : { role: g.role, model: g.model }));

/**
 * Parses `role` or `role:model`.
 * @throws StratumError BAD_REQUEST naming the roles when the role is unknown.
 * @example parseRoleGrant('deployer:iris') // { role: 'deployer', model: 'iris' }
 */
export function parseRoleGrant(text: string): RoleGrant {
  const at = text.indexOf(':');
  const role = at < 0 ? text : text.slice(0, at);
  const parsed = RoleGrantSchema.safeParse(at < 0 ? { role } : { role, model: text.slice(at + 1) });
  if (!parsed.success) {
    throw new StratumError(
      'BAD_REQUEST',
      `grant "${text}": expected <role> or <role>:<model> with a role of ${ROLES.join(', ')}`,
    );
  }
  return parsed.data;
}

/** `role` or `role:model`. */
export function formatRoleGrant(grant: RoleGrant): string {
  return grant.model === undefined ? grant.role : `${grant.role}:${grant.model}`;
}
