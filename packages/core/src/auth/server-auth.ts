import type * as grpc from '@grpc/grpc-js';
import type { onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { authEnabled } from './auth-flags.js';
import { authFailureCounter } from './auth-metrics.js';
import { type Authenticator, bearerAuthenticator } from './authenticator.js';
import { withGrpcAuth } from './grpc-auth.js';
import { httpAuthHook } from './http-auth.js';
import type { JwtVerifierOptions } from './jwt-verifier.js';
import { TokenFile } from './token-file.js';

/** Authentication of a ModelServer (off unless a token file or a JWKS URL is given). */
export interface AuthOptions {
  /** File of static bearer tokens, one a line (`#` comments); re-read on change and on SIGHUP. */
  tokenFile?: string;
  /** JWKS URL: bearer JWTs (RS256/ES256) signed by one of its keys are accepted. */
  jwksUrl?: string;
  /** Required `iss` of JWTs (needed with `jwksUrl`). */
  jwtIssuer?: string;
  /** Accepted `aud` values of JWTs (one must match); no audience check when unset. */
  jwtAudience?: string | string[];
  /** Also require credentials for `GET /metrics`. Default false. */
  protectMetrics?: boolean;
  /** JWKS fetch tuning (cooldown after an unknown key, cache age, timeout). */
  jwks?: Pick<JwtVerifierOptions, 'jwksCooldownMs' | 'jwksCacheMaxAgeMs' | 'jwksTimeoutMs'>;
}

/** A server's running authentication: the HTTP hook, the gRPC handler wrapper, and what to close at stop. */
export interface ServerAuth {
  /** The authenticator both transports use. */
  readonly authenticator: Authenticator;
  /** The fastify `onRequest` hook. */
  readonly httpHook: onRequestHookHandler;
  /** Wraps the gRPC service handlers. */
  readonly guardGrpc: (handlers: grpc.UntypedServiceImplementation) => grpc.UntypedServiceImplementation;
  /** Stop watching the token file and SIGHUP. */
  close(): void;
}

/**
 * Start authentication from `options`: read the token file, load jose and fetch the JWKS (each only when
 * configured), register `servekit_auth_failures_total` in `registry`. Throws on a misconfiguration.
 */
export async function startServerAuth(options: AuthOptions, logger: Logger, registry: Registry): Promise<ServerAuth> {
  if (!authEnabled(options)) throw new Error('Authentication needs --auth_token_file or --auth_jwks_url.');
  const tokens = options.tokenFile ? await TokenFile.open(options.tokenFile, logger) : undefined;
  let jwt: ((token: string) => Promise<boolean>) | undefined;
  try {
    if (options.jwksUrl) {
      const { createJwtVerifier } = await import('./jwt-verifier.js');
      jwt = await createJwtVerifier(
        { jwksUrl: options.jwksUrl, issuer: options.jwtIssuer ?? '', audience: options.jwtAudience, ...options.jwks },
        logger,
      );
    }
  } catch (err) {
    tokens?.close();
    throw err;
  }
  const authenticator = bearerAuthenticator({ tokens, jwt, close: () => tokens?.close() });
  const countFailure = authFailureCounter(registry);
  logger.info(
    { tokens: tokens?.size, jwks: options.jwksUrl !== undefined, metrics_open: !options.protectMetrics },
    'authentication on: bearer credentials required except on health probes',
  );
  return {
    authenticator,
    httpHook: httpAuthHook(authenticator, { protectMetrics: options.protectMetrics, countFailure }),
    guardGrpc: (handlers) => withGrpcAuth(handlers, authenticator, countFailure),
    close: () => authenticator.close(),
  };
}
