import { createHash } from 'node:crypto';
import type { Logger } from 'pino';

/** Options of a JWT verifier over a remote JWKS. */
export interface JwtVerifierOptions {
  /** URL of the JSON Web Key Set (`https://issuer/.well-known/jwks.json`). */
  jwksUrl: string;
  /** Required `iss` claim. */
  issuer: string;
  /** Accepted `aud` values (one must match); no audience check when undefined. */
  audience?: string | string[];
  /** Least time between two JWKS fetches triggered by a token whose key (`kid`) is unknown. Default 30 s. */
  jwksCooldownMs?: number;
  /** Longest time a fetched JWKS is used before it is fetched again. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** Longest time one JWKS fetch may take. Default 5 s. */
  jwksTimeoutMs?: number;
}

/** Signature algorithms accepted: RS256 and ES256 (never `none`, never HMAC with a public key). */
export const JWT_ALGORITHMS = ['RS256', 'ES256'];

/** Allowed clock difference with the issuer for `exp` and `nbf`, in seconds. */
const CLOCK_TOLERANCE_S = 30;

/** Least time between two warnings about an unreachable JWKS. */
const WARN_EVERY_MS = 10_000;

/** Most verified tokens remembered (the oldest is dropped first). */
const MAX_VERIFIED = 1024;

/** Longest time a verified token is accepted again without verifying its signature (never past its `exp`). */
export const VERIFIED_TTL_MS = 60_000;

/** jose's error codes that say the key set could not be fetched or read (the server's problem, not the token's). */
const JWKS_FAILURES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

/** The URL of `--auth_jwks_url`, checked: http or https. */
function jwksUrlOf(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`--auth_jwks_url: "${raw}" is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`--auth_jwks_url: expected an http(s) URL, got ${url.protocol}`);
  }
  return url;
}

/**
 * A verifier of bearer JWTs signed by a key of a remote JWKS (RS256 or ES256), with the issuer (and audience, when
 * given) checked and `exp` required. The key set is fetched at once (a failure is logged, not fatal), cached, and
 * fetched again when it ages or a token names an unknown key. A verified token is remembered (by its SHA-256) for
 * {@link VERIFIED_TTL_MS} at most and never past its `exp`, so a client reusing it skips the signature check.
 * jose is loaded here, only when JWT auth is configured.
 */
export async function createJwtVerifier(
  options: JwtVerifierOptions,
  logger: Logger,
): Promise<(token: string) => Promise<boolean>> {
  const url = jwksUrlOf(options.jwksUrl);
  if (!options.issuer)
    throw new Error('--auth_jwks_url needs --auth_jwt_issuer (the issuer whose tokens are accepted).');
  const { createRemoteJWKSet, jwtVerify, errors } = await import('jose');
  const jwks = createRemoteJWKSet(url, {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  });
  let warnedAt = Number.NEGATIVE_INFINITY;
  const warnJwks = (err: unknown) => {
    if (Date.now() - warnedAt < WARN_EVERY_MS) return;
    warnedAt = Date.now();
    const code = err instanceof errors.JOSEError ? err.code : (err as Error).name;
    logger.warn({ jwks: url.origin + url.pathname, code }, 'auth: the JWKS cannot be fetched; JWTs are refused');
  };
  await jwks.reload().catch(warnJwks);
  const verifyOptions = {
    algorithms: JWT_ALGORITHMS,
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_S,
  };
  const verified = new Map<string, number>(); // SHA-256 of a token → accepted until (ms since epoch)
  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64');
    const until = verified.get(key);
    if (until !== undefined) {
      if (Date.now() < until) return true;
      verified.delete(key);
    }
    try {
      const { payload } = await jwtVerify(token, jwks, verifyOptions);
      if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
      verified.set(key, Math.min((payload.exp ?? 0) * 1000, Date.now() + VERIFIED_TTL_MS));
      return true;
    } catch (err) {
      if (!(err instanceof errors.JOSEError) || JWKS_FAILURES.has(err.code)) warnJwks(err);
      return false;
    }
  };
}
