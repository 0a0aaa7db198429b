import type { ServerFlags } from '../server/flags.js';
import type { AuthOptions } from './server-auth.js';

/** True when `options` turn authentication on (a token file or a JWKS URL). */
export function authEnabled(options: AuthOptions | undefined): options is AuthOptions {
  return Boolean(options?.tokenFile || options?.jwksUrl);
}

/**
 * Auth options from the `--auth_*` flags; undefined when auth is off (no token file, no JWKS URL). A JWT or metrics
 * flag given without either is an error, so a half-configured server never runs open by mistake.
 */
export function authFromFlags(flags: ServerFlags): AuthOptions | undefined {
  const tokenFile = flags.auth_token_file || undefined;
  const jwksUrl = flags.auth_jwks_url || undefined;
  const audience = (flags.auth_jwt_audience ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (!tokenFile && !jwksUrl) {
    const stray = [
      flags.auth_jwt_issuer && '--auth_jwt_issuer',
      audience.length > 0 && '--auth_jwt_audience',
      flags.auth_protect_metrics && '--auth_protect_metrics',
    ].filter(Boolean);
    if (stray.length > 0)
      throw new Error(`${stray.join(', ')}: auth is off; give --auth_token_file or --auth_jwks_url.`);
    return undefined;
  }
  if (jwksUrl && !flags.auth_jwt_issuer) throw new Error('--auth_jwks_url needs --auth_jwt_issuer.');
  if (!jwksUrl && (flags.auth_jwt_issuer || audience.length > 0)) {
    throw new Error('--auth_jwt_issuer and --auth_jwt_audience need --auth_jwks_url.');
  }
  return {
    tokenFile,
    jwksUrl,
    jwtIssuer: flags.auth_jwt_issuer || undefined,
    jwtAudience: audience.length === 0 ? undefined : audience.length === 1 ? audience[0] : audience,
    protectMetrics: flags.auth_protect_metrics,
  };
}
