/** The outcome of checking a request's credentials (RFC 6750's cases: none sent, or not accepted). */
export type AuthOutcome = 'ok' | 'missing' | 'invalid';

/** Checks the credentials of one request; synchronous when it can be (static tokens), a promise when not (JWTs). */
export interface Authenticator {
  /** The outcome for an `Authorization` header value (undefined when the request has none). */
  check(authorization: string | undefined): AuthOutcome | Promise<AuthOutcome>;
  /** Stop watching files and signals, drop caches. */
  close(): void;
}

/** RFC 6750 §2.1 `b64token`: the characters a bearer token may have. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True when `token` has the syntax of an RFC 6750 bearer token. */
export function isBearerTokenSyntax(token: string): boolean {
  return B64TOKEN.test(token);
}

/**
 * The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive): undefined when there is
 * no header or another scheme (no bearer credentials: "missing"), null when the bearer token is malformed.
 */
export function bearerToken(authorization: string | undefined): string | null | undefined {
  if (authorization === undefined) return undefined;
  const space = authorization.indexOf(' ');
  if (space !== 6 || authorization.slice(0, 6).toLowerCase() !== 'bearer') {
    return authorization.trim().toLowerCase() === 'bearer' ? null : undefined;
  }
  const token = authorization.slice(7).trim();
  return isBearerTokenSyntax(token) ? token : null;
}

/** The sources of accepted credentials a {@link bearerAuthenticator} consults, in order. */
export interface CredentialSources {
  /** Static tokens (a token file): synchronous lookup. */
  tokens?: { has(token: string): boolean };
  /** A JWT verifier (JWKS): true when the token is a valid JWT. */
  jwt?: (token: string) => Promise<boolean>;
  /** Closed with the authenticator. */
  close?: () => void;
}

/** A compact JWS has three base64url parts separated by dots. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** An Authenticator accepting `Authorization: Bearer <t>` where t is a static token or, failing that, a valid JWT. */
export function bearerAuthenticator(sources: CredentialSources): Authenticator {
  const { tokens, jwt } = sources;
  return {
    check(authorization) {
      const token = bearerToken(authorization);
      if (token === undefined) return 'missing';
      if (token === null) return 'invalid';
      if (tokens?.has(token)) return 'ok';
      if (jwt && COMPACT_JWS.test(token)) return jwt(token).then((valid) => (valid ? 'ok' : 'invalid'));
      return 'invalid';
    },
    close() {
      sources.close?.();
    },
  };
}
