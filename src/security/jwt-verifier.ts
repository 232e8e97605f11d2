/**
 * JWT bearer tokens (jose): verified against a JWKS (fetched and cached by jose's remote key set)
 * or a shared HMAC secret, with issuer and audience checks; the roles come from a configurable
 * claim. A verified token is cached until its expiry or the TTL, whichever is sooner.
 */
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { StratumError } from '../errors/index.ts';
import { credentialDigest } from './api-key-secret.ts';
import type { Principal, RoleGrant } from './principal.ts';
import { parseRoleGrant, RoleGrantSchema } from './role-grant.ts';
import { createVerificationCache } from './verification-cache.ts';

/** Options of {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  /** Where the signing keys are published (`https://issuer/.well-known/jwks.json`). */
  readonly jwksUrl?: string;
  /** A shared secret for HS256/384/512 tokens (instead of a JWKS). */
  readonly secret?: string;
  /** The `iss` tokens must carry; unchecked when absent. */
  readonly issuer?: string;
  /** An `aud` tokens must carry; unchecked when absent. */
  readonly audience?: string;
  /** The claim holding the roles, a dot path for nested claims (`realm_access.roles`). @default 'stratum_roles' */
  readonly rolesClaim?: string;
  /** How long a verified token is trusted without checking it again (ms). @default 10000 */
  readonly cacheTtlMs?: number;
  /** @default 10000 */
  readonly cacheMaxEntries?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Verifies bearer tokens. */
export interface JwtVerifier {
  /**
   * The principal of a token; synchronous when cached.
   * @throws StratumError UNAUTHENTICATED saying what is wrong, never echoing the token.
   */
  authenticate(token: string): Principal | Promise<Principal>;
}

/** Creates a verifier; exactly one of `jwksUrl` and `secret` must be given. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  if ((options.jwksUrl === undefined) === (options.secret === undefined)) {
    throw new StratumError('CONFIG_INVALID', 'security.jwt: set exactly one of jwksUrl and secret');
  }
  const key: Uint8Array | JWTVerifyGetKey =
    options.secret !== undefined
      ? new TextEncoder().encode(options.secret)
      : createRemoteJWKSet(new URL(options.jwksUrl as string));
  const algorithms = options.secret !== undefined ? ['HS256', 'HS384', 'HS512'] : undefined;
  const claim = options.rolesClaim ?? 'stratum_roles';
  const now = options.now ?? Date.now;
  const cache = createVerificationCache<Principal>({
    ttlMs: options.cacheTtlMs ?? 10_000,
    maxEntries: options.cacheMaxEntries ?? 10_000,
    now,
  });

  async function verify(token: string, digest: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        ...(options.issuer !== undefined && { issuer: options.issuer }),
        ...(options.audience !== undefined && { audience: options.audience }),
        ...(algorithms !== undefined && { algorithms }),
        currentDate: new Date(now()),
      }));
    } catch (error) {
      throw new StratumError('UNAUTHENTICATED', rejection(error, options), { cause: error });
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new StratumError('UNAUTHENTICATED', 'the bearer token has no subject (sub claim)');
    }
    const principal: Principal = Object.freeze({
      id: `jwt:${payload.sub}`,
      kind: 'jwt',
      grants: Object.freeze(grantsOf(payload, claim)),
    });
    cache.set(digest, principal, payload.exp === undefined ? undefined : payload.exp * 1000);
    return principal;
  }

  return {
    authenticate(token) {
      const digest = credentialDigest(token);
      return cache.get(digest) ?? verify(token, digest);
    },
  };
}

/** What was wrong with a token, in words (claims are the token's, never the signature or key). */
function rejection(error: unknown, expected: JwtVerifierOptions): string {
  if (error instanceof errors.JWTExpired) {
    const exp = (error.payload as JWTPayload).exp;
    return `the bearer token expired${exp === undefined ? '' : ` at ${new Date(exp * 1000).toISOString()}`}`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const payload = error.payload as JWTPayload;
    if (error.claim === 'iss') {
      return `the bearer token's issuer ${JSON.stringify(payload.iss ?? null)} is not the expected "${expected.issuer}"`;
    }
    if (error.claim === 'aud') {
      return `the bearer token's audience ${JSON.stringify(payload.aud ?? null)} does not include "${expected.audience}"`;
    }
    return `the bearer token's ${error.claim} claim is invalid: ${error.reason}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the bearer token's signature does not verify";
  if (error instanceof errors.JOSEAlgNotAllowed) return "the bearer token's signing algorithm is not accepted";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the JWKS matches the bearer token's key id";
  if (error instanceof errors.JWKSTimeout || error instanceof TypeError) {
    return `the bearer token could not be checked: the JWKS at ${expected.jwksUrl} did not answer`;
  }
  return 'the bearer token is not a valid JWT';
}

/** The grants in the roles claim: `["viewer", "predictor:iris", {"role": "admin"}]` or a space-separated string. */
function grantsOf(payload: JWTPayload, claim: string): RoleGrant[] {
  let value: unknown = payload;
  for (const part of claim.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(/\s+/).filter((s) => s !== '') : value;
  if (!Array.isArray(items)) {
    throw new StratumError('UNAUTHENTICATED', `the bearer token's ${claim} claim must be a list of roles`);
  }
  return items.map((item: unknown, index) => {
    try {
      if (typeof item === 'string') return parseRoleGrant(item);
      const parsed = RoleGrantSchema.safeParse(item);
      if (parsed.success) return parsed.data;
    } catch {
      // reported below with the claim's path
    }
    throw new StratumError('UNAUTHENTICATED', `the bearer token's ${claim}[${index}] is not a role grant`);
  });
}
