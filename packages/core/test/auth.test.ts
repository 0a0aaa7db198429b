// Authentication of a real ModelServer over loopback: static bearer tokens from a file (reloaded on change) and JWTs
// verified against a loopback JWKS server, over REST (fetch, RestClient) and gRPC (GrpcClient); probes and /metrics
// open; 401 / UNAUTHENTICATED with RFC 6750 headers; refusals counted; tokens never logged.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError, GrpcClient, RestClient } from '@servekit/client';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authFromFlags } from '../src/auth/auth-flags.js';
import { bearerToken } from '../src/auth/authenticator.js';
import type { AuthOptions } from '../src/auth/server-auth.js';
import { parseTokenFile } from '../src/auth/token-file.js';
import { parseFlags, SERVER_FLAGS } from '../src/server/flags.js';
import type { ModelServer } from '../src/server/model-server.js';
import { serverOptionsFromFlags } from '../src/server/options-from-flags.js';
import { LinearModel, startServer, waitFor } from './helpers.js';

const TOKEN_A = 'tok-A.1234567890abcdef';
const TOKEN_B = 'tok-B~zyxwvutsrq/0987+=';
const UNAUTHENTICATED = 16;
const x = { name: 'x', datatype: 'FP32' as const, shape: [2], data: Float32Array.of(1, 2) };
const inferBody = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [3] }] });

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'servekit-auth-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A logger whose lines are kept, to prove no token is ever written. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}

async function serve(auth: AuthOptions, logger = capturedLogger().logger) {
  const server = await startServer([new LinearModel('lin', 2, 1)], { auth, logger });
  cleanups.push(() => server.stop());
  return { server, base: `http://127.0.0.1:${server.httpPort}` };
}

function grpcClient(server: ModelServer, token?: string): GrpcClient {
  const client = new GrpcClient({
    address: `127.0.0.1:${server.grpcPort}`,
    retries: 0,
    metadata: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  cleanups.push(() => client.close());
  return client;
}

async function infer(base: string, authorization?: string) {
  const res = await fetch(`${base}/v2/models/lin/infer`, {
    method: 'POST',
    body: inferBody,
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
  });
  return {
    status: res.status,
    www: res.headers.get('www-authenticate'),
    body: (await res.json()) as { error?: string },
  };
}

async function grpcError(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

async function tokenFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('bearer credentials parsing', () => {
  it('takes the token of `Bearer <t>` (any case), no credentials for other schemes, malformed as null', () => {
    expect(bearerToken('Bearer abc.DEF-_~+/==')).toBe('abc.DEF-_~+/==');
    expect(bearerToken('bearer  abc')).toBe('abc');
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Basic dXNlcjpwdw==')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken('Bearer ä')).toBeNull();
  });

  it('reads a token file: one a line, comments and blank lines skipped, bad lines reported by number', () => {
    expect(parseTokenFile(`# team A\n${TOKEN_A}\n\n  ${TOKEN_B}  \r\nnot a token\n`)).toEqual({
      tokens: [TOKEN_A, TOKEN_B],
      badLines: [5],
    });
  });
});

describe('auth flags', () => {
  const flags = (argv: string[]) => parseFlags(argv, SERVER_FLAGS, {}).flags;

  it('is off by default and on with a token file or a JWKS URL', () => {
    expect(serverOptionsFromFlags(flags([])).auth).toBeUndefined();
    expect(authFromFlags(flags(['--auth_token_file', '/t']))).toEqual({
      tokenFile: '/t',
      jwksUrl: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
      protectMetrics: false,
    });
    const env = { SERVEKIT_AUTH_JWKS_URL: 'http://idp/jwks', SERVEKIT_AUTH_JWT_ISSUER: 'idp' };
    const jwt = authFromFlags(
      parseFlags(['--auth_jwt_audience', 'a, b', '--auth_protect_metrics'], SERVER_FLAGS, env).flags,
    );
    expect(jwt).toMatchObject({ jwksUrl: 'http://idp/jwks', jwtIssuer: 'idp', jwtAudience: ['a', 'b'] });
    expect(jwt?.protectMetrics).toBe(true);
  });

  it('refuses half a configuration instead of serving open', () => {
    expect(() => authFromFlags(flags(['--auth_protect_metrics']))).toThrow(/auth is off/);
    expect(() => authFromFlags(flags(['--auth_jwt_issuer', 'idp']))).toThrow(/auth is off/);
    expect(() => authFromFlags(flags(['--auth_jwks_url', 'http://idp/jwks']))).toThrow(/needs --auth_jwt_issuer/);
    expect(() => authFromFlags(flags(['--auth_token_file', '/t', '--auth_jwt_audience', 'a']))).toThrow(
      /need --auth_jwks_url/,
    );
  });

  it('a token file that cannot be read, is empty or has a bad line stops the start, naming the line only', async () => {
    const missing = join(dir, 'no-such-file');
    await expect(startServer([], { auth: { tokenFile: missing } })).rejects.toThrow(/cannot be read \(ENOENT\)/);
    const empty = await tokenFile('empty', '# nothing\n\n');
    await expect(startServer([], { auth: { tokenFile: empty } })).rejects.toThrow(/holds no token/);
    const bad = await tokenFile('bad', `${TOKEN_A}\nsecret with spaces\n`);
    const err = await startServer([], { auth: { tokenFile: bad } }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/line 2 is not a valid bearer token/);
    expect(err?.message).not.toContain('secret');
  });
});

describe('static bearer tokens (--auth_token_file)', () => {
  it('REST: 401 without or with a wrong token (RFC 6750 headers, generic message), 200 with a listed one', async () => {
    const { logger, lines } = capturedLogger();
    const { base } = await serve({ tokenFile: await tokenFile('tokens', `${TOKEN_A}\n${TOKEN_B}\n`) }, logger);

    const none = await infer(base);
    expect(none.status).toBe(401);
    expect(none.www).toBe('Bearer realm="servekit"');
    expect(none.body).toEqual({ error: 'Authentication required: send Authorization: Bearer <token>.' });
    // Another scheme is no bearer credentials at all: the same answer.
    expect(await infer(base, 'Basic dXNlcjpwdw==')).toEqual(none);

    const wrongToken = 'tok-A.1234567890abcdeF';
    for (const bad of [`Bearer ${wrongToken}`, `Bearer ${TOKEN_A}x`, 'Bearer', `Bearer ${TOKEN_A.slice(0, 5)}`]) {
      const r = await infer(base, bad);
      expect(r.status).toBe(401);
      expect(r.www).toBe('Bearer realm="servekit", error="invalid_token"');
      expect(r.body).toEqual({ error: 'Invalid bearer token.' });
    }
    for (const good of [TOKEN_A, TOKEN_B]) {
      const r = await infer(base, `Bearer ${good}`);
      expect(r.status).toBe(200);
      expect(r.www).toBeNull();
    }
    // A real client with the header configured.
    const rest = new RestClient({ baseUrl: base, retries: 0, headers: { authorization: `Bearer ${TOKEN_A}` } });
    cleanups.push(() => rest.close());
    expect(Array.from((await rest.infer('lin', { inputs: [x] })).outputs[0]!.data as Float32Array)).toEqual([3, 5]);
    expect(await rest.v1Predict('lin', { instances: [[1]] })).toEqual({ predictions: [3] });
    const anonymous = new RestClient({ baseUrl: base, retries: 0 });
    cleanups.push(() => anonymous.close());
    await expect(anonymous.infer('lin', { inputs: [x] })).rejects.toMatchObject({ status: 401 });

    const log = lines.join('');
    expect(log).toContain('authentication on');
    for (const secret of [TOKEN_A, TOKEN_B, wrongToken]) expect(log).not.toContain(secret);
  });

  it('every route but the probes and /metrics needs credentials; metrics count refusals by reason', async () => {
    const { base } = await serve({ tokenFile: await tokenFile('tokens', TOKEN_A) });
    const get = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
    // The health APIs: server liveness/readiness and model readiness (KServe V1 and Open Inference Protocol).
    for (const open of ['/', '/v2/health/live', '/v2/health/ready', '/v1/models/lin', '/v2/models/lin/ready']) {
      expect((await get(open)).status, open).toBe(200);
      expect((await get(open, { method: 'HEAD' })).status, `HEAD ${open}`).toBe(200);
    }
    expect((await get('/v2/models/lin/versions/7/ready')).status).toBe(503); // an unknown version is not ready
    const guarded = [
      '/v2',
      '/v1/models',
      '/v2/models/lin',
      '/v2/models/lin/versions/7',
      '/v2/models/lin/stats',
      '/v2/models/stats',
      '/v2/models/lin/config',
      '/no/such/route',
    ];
    for (const path of guarded) {
      const r = await get(path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('www-authenticate'), path).toBe('Bearer realm="servekit"');
      expect(r.headers.get('content-type')).toBe('application/json');
    }
    // A probe path asked with another method is not a probe.
    expect((await get('/v2/health/ready', { method: 'POST' })).status).toBe(401);
    const withToken = { headers: { authorization: `Bearer ${TOKEN_A}` } };
    expect((await get('/v2', withToken)).status).toBe(200);
    expect((await get('/no/such/route', withToken)).status).toBe(404);
    const unload = await get('/v2/repository/models/lin/unload', {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    expect(unload.status).toBe(401);
    expect((await get('/v2/models/lin/config', withToken)).status).toBe(200);

    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    // 8 guarded GETs + the POST to a probe path without credentials; one refused unload with a wrong token.
    expect(text).toContain('servekit_auth_failures_total{protocol="http",reason="missing"} 9');
    expect(text).toContain('servekit_auth_failures_total{protocol="http",reason="invalid"} 1');
    expect(text).toContain('servekit_auth_failures_total{protocol="grpc",reason="missing"} 0');
  });

  it('--auth_protect_metrics puts /metrics behind credentials too', async () => {
    const { base } = await serve({ tokenFile: await tokenFile('tokens', TOKEN_A), protectMetrics: true });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN_A}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('servekit_auth_failures_total{protocol="http",reason="missing"} 1');
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
  });

  it('the health port stays open', async () => {
    const server = await startServer([new LinearModel('lin')], {
      auth: { tokenFile: await tokenFile('tokens', TOKEN_A) },
      healthPort: 0,
    });
    cleanups.push(() => server.stop());
    expect((await fetch(`http://127.0.0.1:${server.healthPort}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/v2`)).status).toBe(401);
  });

  it('gRPC: UNAUTHENTICATED (with a www-authenticate trailer) except ServerLive/ServerReady/ModelReady', async () => {
    const { server, base } = await serve({ tokenFile: await tokenFile('tokens', TOKEN_A) });
    const anonymous = grpcClient(server);
    expect(await anonymous.serverLive()).toBe(true);
    expect(await anonymous.serverReady()).toBe(true);
    expect(await anonymous.modelReady('lin')).toBe(true);
    for (const call of [
      () => anonymous.infer('lin', { inputs: [x] }),
      () => anonymous.load('lin'),
      () => anonymous.serverMetadata(),
      () => anonymous.modelMetadata('lin'),
      () => anonymous.unload('lin'),
    ]) {
      const err = await grpcError(call());
      expect(err.grpcCode).toBe(UNAUTHENTICATED);
      expect(err.message).toBe('Authentication required: send Authorization: Bearer <token>.');
      const trailers = (err.cause as { metadata: { get(k: string): unknown[] } }).metadata;
      expect(trailers.get('www-authenticate')).toEqual(['Bearer realm="servekit"']);
    }
    const wrong = await grpcError(grpcClient(server, 'wrong-token').infer('lin', { inputs: [x] }));
    expect(wrong.grpcCode).toBe(UNAUTHENTICATED);
    expect(wrong.message).toBe('Invalid bearer token.');
    const client = grpcClient(server, TOKEN_A);
    expect(Array.from((await client.infer('lin', { inputs: [x] })).outputs[0]!.data as Float32Array)).toEqual([3, 5]);
    expect((await client.modelMetadata('lin')).name).toBe('lin');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('servekit_auth_failures_total{protocol="grpc",reason="missing"} 5');
    expect(text).toContain('servekit_auth_failures_total{protocol="grpc",reason="invalid"} 1');
  });

  it('reloads the file when it is rewritten or replaced, without a restart', async () => {
    const { logger, lines } = capturedLogger();
    const path = await tokenFile('rotating', `${TOKEN_A}\n`);
    const { base } = await serve({ tokenFile: path }, logger);
    const status = async (token: string) => (await infer(base, `Bearer ${token}`)).status;
    expect(await status(TOKEN_A)).toBe(200);
    expect(await status(TOKEN_B)).toBe(401);

    await writeFile(path, `${TOKEN_B}\n`);
    await waitFor(() => status(TOKEN_B), 200);
    expect(await status(TOKEN_A)).toBe(401);

    // An atomic replacement (write elsewhere, rename over it), as editors and Secret updates do.
    const next = join(dir, 'rotating.tmp');
    await writeFile(next, `# rotated\n${TOKEN_A}\n`);
    await rename(next, path);
    await waitFor(() => status(TOKEN_A), 200);
    expect(await status(TOKEN_B)).toBe(401);

    // Removed: the tokens in use stay.
    await rm(path);
    await waitFor(async () => lines.some((l) => l.includes('cannot be read; keeping')), true);
    expect(await status(TOKEN_A)).toBe(200);
    const log = lines.join('');
    expect(log).toContain('auth token file reloaded');
    for (const secret of [TOKEN_A, TOKEN_B]) expect(log).not.toContain(secret);
  });
});

/** A loopback JWKS endpoint whose key set can change; counts fetches. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  private readonly server: Server = createServer((_req, res) => {
    this.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

type Signer = {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
};

async function signer(alg: 'RS256' | 'ES256', kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const ISSUER = 'https://idp.example';
const AUDIENCE = 'servekit-models';

function jwt(s: Signer, claims: { iss?: string; aud?: string; exp?: number | string } = {}): Promise<string> {
  const t = new SignJWT({ scope: 'infer' })
    .setProtectedHeader({ alg: s.alg, kid: s.kid })
    .setSubject('caller')
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt();
  if (claims.exp !== -1) t.setExpirationTime(claims.exp ?? '5m');
  return t.sign(s.privateKey);
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('JWTs verified against a JWKS (--auth_jwks_url)', () => {
  let jwks: JwksServer;
  let url: string;
  let rsa: Signer;
  let ec: Signer;
  beforeAll(async () => {
    rsa = await signer('RS256', 'rsa-1');
    ec = await signer('ES256', 'ec-1');
  });
  afterEach(() => jwks.stop());

  async function serveJwt(logger = capturedLogger().logger) {
    jwks = new JwksServer();
    jwks.keys = [rsa.jwk, ec.jwk];
    url = await jwks.start();
    return serve({ jwksUrl: url, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, jwks: { jwksCooldownMs: 0 } }, logger);
  }

  it('accepts RS256 and ES256 tokens; refuses expired, wrong iss/aud, no exp, alg none, tampered ones', async () => {
    const { logger, lines } = capturedLogger();
    const { server, base } = await serveJwt(logger);
    expect(jwks.fetches).toBe(1); // fetched at start, not on the first request
    for (const s of [rsa, ec]) expect((await infer(base, `Bearer ${await jwt(s)}`)).status, s.alg).toBe(200);

    // Accepted twice (the second time from the verified-token cache), then its tampered variants are still refused.
    const good = await jwt(rsa);
    for (let i = 0; i < 2; i++) expect((await infer(base, `Bearer ${good}`)).status).toBe(200);
    const [h, p, sig] = good.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const refused: Record<string, string> = {
      expired: await jwt(rsa, { exp: Math.floor(Date.now() / 1000) - 3600 }),
      'wrong issuer': await jwt(rsa, { iss: 'https://evil.example' }),
      'wrong audience': await jwt(ec, { aud: 'another-service' }),
      'no exp': await jwt(rsa, { exp: -1 }),
      'alg none': `${b64url({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'alg none, kid kept': `${b64url({ alg: 'none', kid: 'rsa-1' })}.${p}.${sig}`,
      'HS256 with the public key as secret': `${b64url({ alg: 'HS256', kid: 'rsa-1' })}.${p}.${sig}`,
      'tampered payload': `${h}.${b64url({ ...payload, sub: 'admin' })}.${sig}`,
      'tampered signature': `${h}.${p}.${sig.slice(0, -4)}${sig.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`,
      'signed by a key not in the set': await jwt(await signer('RS256', 'rsa-1')),
      'not a JWT': 'abc.def',
    };
    for (const [what, token] of Object.entries(refused)) {
      const r = await infer(base, `Bearer ${token}`);
      expect(r.status, what).toBe(401);
      expect(r.www, what).toBe('Bearer realm="servekit", error="invalid_token"');
      expect(r.body, what).toEqual({ error: 'Invalid bearer token.' });
    }
    // gRPC takes the same credentials.
    expect((await grpcClient(server, await jwt(ec)).modelMetadata('lin')).name).toBe('lin');
    const err = await grpcError(grpcClient(server, refused.expired!).modelMetadata('lin'));
    expect(err.grpcCode).toBe(UNAUTHENTICATED);
    for (const token of [good, ...Object.values(refused)]) expect(lines.join('')).not.toContain(token);
  });

  it('fetches the JWKS again for a key it does not know yet (rotation)', async () => {
    const { base } = await serveJwt();
    const rotated = await signer('ES256', 'ec-2');
    const token = await jwt(rotated);
    expect((await infer(base, `Bearer ${token}`)).status).toBe(401);
    jwks.keys = [ec.jwk, rotated.jwk];
    const before = jwks.fetches;
    expect((await infer(base, `Bearer ${token}`)).status).toBe(200);
    expect(jwks.fetches).toBeGreaterThan(before);
    // A known key needs no fetch.
    const after = jwks.fetches;
    expect((await infer(base, `Bearer ${await jwt(ec)}`)).status).toBe(200);
    expect(jwks.fetches).toBe(after);
  });

  it('static tokens and JWTs work side by side; an unreachable JWKS refuses JWTs and is logged once', async () => {
    const { logger, lines } = capturedLogger();
    jwks = new JwksServer();
    url = await jwks.start();
    await jwks.stop();
    const { base } = await serve(
      { tokenFile: await tokenFile('tokens', TOKEN_A), jwksUrl: url, jwtIssuer: ISSUER, jwks: { jwksCooldownMs: 0 } },
      logger,
    );
    jwks = new JwksServer(); // for afterEach
    await jwks.start();
    expect((await infer(base, `Bearer ${TOKEN_A}`)).status).toBe(200);
    expect((await infer(base, `Bearer ${await jwt(rsa)}`)).status).toBe(401);
    expect(lines.filter((l) => l.includes('JWKS cannot be fetched')).length).toBe(1);
  });
});

describe('auth off (the default)', () => {
  it('adds no hook, no header and no metric', async () => {
    const server = await startServer([new LinearModel('lin')]);
    cleanups.push(() => server.stop());
    const base = `http://127.0.0.1:${server.httpPort}`;
    const r = await infer(base);
    expect(r.status).toBe(200);
    expect(r.www).toBeNull();
    expect(await grpcClient(server).modelReady('lin')).toBe(true);
    expect(await (await fetch(`${base}/metrics`)).text()).not.toContain('servekit_auth_failures_total');
  });
});
