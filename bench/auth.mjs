// What authentication costs per request: the same tiny echo model served by `servekit serve` with auth off, with a
// static token file (1 and 100 tokens), and with JWTs (RS256, ES256) verified against a loopback JWKS; REST V2 JSON
// c=1 and c=16 and gRPC ModelInfer c=16, rounds interleaving every case so machine load hits them alike (medians).
// Usage: node bench/auth.mjs [--duration 2] [--warmup 0.5] [--rounds 7] [--sockets false: in-process parts only]  →  table on stdout, bench/out/auth.json
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { writeResults } from './lib/results.mjs';
import { ROOT, runLoadgen, serveArgv, startServer, stopServer } from './lib/servers.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '0.5' },
    rounds: { type: 'string', default: '7' },
    sockets: { type: 'string', default: 'true' },
  },
});
const rounds = Number(opts.rounds);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;

const work = mkdtempSync(join(tmpdir(), 'servekit-bench-auth-'));
const MODULE = join(work, 'echo.mjs');
writeFileSync(
  MODULE,
  `import { Model } from '${pathToFileURL(join(ROOT, 'packages/core/dist/index.js')).href}';
export default class Echo extends Model {
  predict(payload) {
    return { model_name: this.name, outputs: payload.inputs };
  }
}
`,
);

// Static tokens: the accepted one is the last of the file, so every digest is compared either way.
const TOKEN = 'bench-token.0123456789abcdefghijklmnopqrstuvwxyz';
const tokenFile = (n) => {
  const path = join(work, `tokens-${n}`);
  const others = Array.from({ length: n - 1 }, (_, i) => `other-token-${String(i).padStart(4, '0')}-abcdefghijklmnop`);
  writeFileSync(path, `${[...others, TOKEN].join('\n')}\n`);
  return path;
};

// A loopback JWKS with one RSA and one EC key; one token signed by each, valid for the whole run.
const ISSUER = 'https://idp.bench';
const AUDIENCE = 'servekit-bench';
const keys = {};
for (const alg of ['RS256', 'ES256']) keys[alg] = await generateKeyPair(alg, { extractable: true });
const jwks = {
  keys: await Promise.all(
    Object.entries(keys).map(async ([alg, k]) => ({ ...(await exportJWK(k.publicKey)), kid: alg, alg, use: 'sig' })),
  ),
};
const jwksServer = createServer((_req, res) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
);
await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
const JWKS_URL = `http://127.0.0.1:${jwksServer.address().port}/jwks.json`;
const jwt = (alg) =>
  new SignJWT({ scope: 'infer' })
    .setProtectedHeader({ alg, kid: alg })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(keys[alg].privateKey);
const jwtFlags = ['--auth_jwks_url', JWKS_URL, '--auth_jwt_issuer', ISSUER, '--auth_jwt_audience', AUDIENCE];

const v2 = {
  kind: 'http',
  path: '/v2/models/echo/infer',
  body: Buffer.from(
    JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] }),
  ).toString('base64'),
};
const grpcReq = {
  kind: 'grpc',
  grpcPreserialized: true,
  grpcRequest: {
    model_name: 'echo',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }],
    raw_input_contents: [Buffer.from(Float32Array.of(1, 2, 3, 4).buffer).toString('base64')],
  },
};

const configs = [
  { label: 'auth off', flags: [] },
  { label: 'static token (file of 1)', flags: ['--auth_token_file', tokenFile(1)], token: TOKEN },
  { label: 'static token (file of 100)', flags: ['--auth_token_file', tokenFile(100)], token: TOKEN },
  { label: 'JWT RS256 (JWKS)', flags: jwtFlags, token: await jwt('RS256') },
  { label: 'JWT ES256 (JWKS)', flags: jwtFlags, token: await jwt('ES256') },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * One loadgen run, with the server's CPU per request (µs; the warm-up's share of the CPU taken out pro rata). Any
 * failed request (a 401 included) stops the bench: a broken setup must not pass as a number.
 */
async function once(label, spec, pid) {
  const cpu0 = cpuSeconds(pid);
  const r = await runLoadgen({ durationMs, warmupMs, ...spec });
  const cpu = (cpuSeconds(pid) - cpu0) * (durationMs / (durationMs + warmupMs));
  if (r.errors > 0 || r.requests === 0) throw new Error(`${label}: ${r.errors} errors of ${r.requests + r.errors}`);
  return { ...r, serverCpuUsPerReq: (cpu / r.requests) * 1e6 };
}

/**
 * The authenticator alone, in this process (the dist build): µs per check of an accepted credential, rounds
 * interleaving the kinds. This is the per-request cost without the noise of a loaded machine's network path.
 */
async function checkCosts() {
  const { bearerAuthenticator } = await import('../packages/core/dist/auth/authenticator.js');
  const { TokenFile } = await import('../packages/core/dist/auth/token-file.js');
  const { createJwtVerifier } = await import('../packages/core/dist/auth/jwt-verifier.js');
  const logger = pino({ level: 'silent' });
  const one = await TokenFile.open(tokenFile(1), logger);
  const hundred = await TokenFile.open(tokenFile(100), logger);
  const jwtAuth = async () =>
    bearerAuthenticator({
      jwt: await createJwtVerifier({ jwksUrl: JWKS_URL, issuer: ISSUER, audience: AUDIENCE }, logger),
    });
  // Distinct tokens, each checked once by a fresh verifier: the full signature check ("first use").
  const FRESH = 200;
  const fresh = {};
  for (const alg of ['RS256', 'ES256']) fresh[alg] = await Promise.all(Array.from({ length: FRESH }, () => jwt(alg)));
  const N = 2000;
  const kinds = [
    ['static token (file of 1)', async () => bearerAuthenticator({ tokens: one }), () => TOKEN, N],
    ['static token (file of 100)', async () => bearerAuthenticator({ tokens: hundred }), () => TOKEN, N],
    ['JWT RS256, reused (cached)', jwtAuth, () => reused.RS256, N],
    ['JWT ES256, reused (cached)', jwtAuth, () => reused.ES256, N],
    ['JWT RS256, first use', jwtAuth, (i) => fresh.RS256[i], FRESH],
    ['JWT ES256, first use', jwtAuth, (i) => fresh.ES256[i], FRESH],
  ];
  const reused = { RS256: await jwt('RS256'), ES256: await jwt('ES256') };
  const times = new Map(kinds.map(([label]) => [label, []]));
  for (let round = 0; round < 9; round++) {
    for (const [label, make, token, n] of kinds) {
      const auth = await make();
      const headers = Array.from({ length: n }, (_, i) => `Bearer ${token(i)}`);
      const t0 = performance.now();
      for (const header of headers) {
        const outcome = await auth.check(header);
        if (outcome !== 'ok') throw new Error(`${label}: ${outcome}`);
      }
      times.get(label).push(((performance.now() - t0) / n) * 1000);
    }
  }
  one.close();
  hundred.close();
  return kinds.map(([label]) => ({ label, usPerCheck: median(times.get(label)), all: times.get(label) }));
}

/**
 * The whole REST request path in this process, through fastify's inject (no sockets): one ModelServer per
 * configuration, blocks of requests alternating between them (order reversed every other round), CPU µs per request
 * of this process and the per-round ratio to "auth off". Fine-grained alternation cancels the drift of a loaded
 * machine that seconds-long socket runs cannot.
 */
async function injectCosts() {
  const { Model, ModelServer } = await import('../packages/core/dist/index.js');
  class Echo extends Model {
    predict(payload) {
      return { model_name: this.name, outputs: payload.inputs };
    }
  }
  const jwtAuth = { jwksUrl: JWKS_URL, jwtIssuer: ISSUER, jwtAudience: AUDIENCE };
  const variants = [
    ['auth off', undefined, undefined],
    ['static token (file of 1)', { tokenFile: tokenFile(1) }, TOKEN],
    ['static token (file of 100)', { tokenFile: tokenFile(100) }, TOKEN],
    ['JWT RS256 (JWKS)', jwtAuth, await jwt('RS256')],
    ['JWT ES256 (JWKS)', jwtAuth, await jwt('ES256')],
  ];
  const servers = [];
  for (const [, auth] of variants) {
    const server = new ModelServer({
      httpPort: 0,
      host: '127.0.0.1',
      enableGrpc: false,
      defaultMetrics: false,
      logger: pino({ level: 'silent' }),
      auth,
    });
    await server.start([new Echo('echo')]);
    servers.push(server);
  }
  const payload = Buffer.from(v2.body, 'base64');
  const BLOCK = 300;
  const ROUNDS = 15;
  const cpu = variants.map(() => []);
  const block = async (i) => {
    const headers = { 'content-type': 'application/json' };
    if (variants[i][2]) headers.authorization = `Bearer ${variants[i][2]}`;
    const app = servers[i].http;
    const c0 = process.cpuUsage();
    for (let n = 0; n < BLOCK; n++) {
      const res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload, headers });
      if (res.statusCode !== 200) throw new Error(`${variants[i][0]}: ${res.statusCode} ${res.body}`);
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / BLOCK;
  };
  for (let i = 0; i < variants.length; i++) await block(i); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const idx = variants.map((_, i) => i);
    for (const i of round % 2 === 0 ? idx : idx.reverse()) cpu[i].push(await block(i));
  }
  for (const server of servers) await server.stop();
  return variants.map(([label], i) => {
    const ratios = cpu[i].map((us, r) => us / cpu[0][r]);
    return {
      label,
      cpuUsPerReq: median(cpu[i]),
      cpuVsOff: median(ratios),
      cpuVsOffRange: [Math.min(...ratios), Math.max(...ratios)],
      all: cpu[i],
    };
  });
}

const servers = [];
const rows = [];
try {
  const cases = [];
  for (const config of opts.sockets === 'false' ? [] : configs) {
    const server = await startServer(serveArgv(['--model_module', MODULE, '--model_name', 'echo', ...config.flags]));
    servers.push(server);
    config.startupMs = server.startupMs;
    const authorization = config.token ? `Bearer ${config.token}` : undefined;
    for (const [protocol, body, target, credentials] of [
      ['REST V2 JSON', v2, `http://127.0.0.1:${server.port}`, authorization ? { headers: { authorization } } : {}],
      [
        'gRPC ModelInfer',
        grpcReq,
        `127.0.0.1:${server.grpcPort}`,
        authorization ? { grpcMetadata: { authorization } } : {},
      ],
    ]) {
      for (const concurrency of protocol === 'REST V2 JSON' ? [1, 16] : [16]) {
        cases.push({
          label: config.label,
          protocol,
          concurrency,
          spec: { ...body, ...credentials, target, concurrency },
          pid: server.proc.pid,
        });
      }
    }
  }
  const runs = new Map(cases.map((c) => [c, []]));
  // The configurations of one protocol and concurrency run back to back, in reverse order every other round, so the
  // ratios to "auth off" compare runs seconds apart.
  const order = [...cases].sort(
    (a, b) =>
      a.protocol.localeCompare(b.protocol) || a.concurrency - b.concurrency || cases.indexOf(a) - cases.indexOf(b),
  );
  for (let round = 0; round < rounds; round++) {
    for (const c of round % 2 === 0 ? order : [...order].reverse()) {
      runs.get(c).push(await once(`${c.label} ${c.protocol} c=${c.concurrency}`, c.spec, c.pid));
    }
    process.stdout.write(`round ${round + 1}/${rounds} done\n`);
  }
  for (const c of cases) {
    const rs = runs.get(c);
    const off = cases.find(
      (o) => o.label === 'auth off' && o.protocol === c.protocol && o.concurrency === c.concurrency,
    );
    // Per round, the ratio to auth off measured in the same round: load drift cancels out.
    const ratios = rs.map((r, i) => r.rps / runs.get(off)[i].rps);
    const row = {
      label: c.label,
      protocol: c.protocol,
      concurrency: c.concurrency,
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      serverCpuUsPerReq: median(rs.map((r) => r.serverCpuUsPerReq)),
      rpsVsOff: median(ratios),
      rpsVsOffRange: [Math.min(...ratios), Math.max(...ratios)],
      runs: rs,
    };
    rows.push(row);
    process.stdout.write(
      `${`${c.protocol} c=${c.concurrency}`.padEnd(20)} ${c.label.padEnd(28)} ${String(Math.round(row.rps)).padStart(6)} req/s  p50 ${row.p50.toFixed(3)} ms  p99 ${row.p99.toFixed(3)} ms  cpu ${Math.round(row.serverCpuUsPerReq)} µs/req  ×off ${row.rpsVsOff.toFixed(3)} (${row.rpsVsOffRange.map((v) => v.toFixed(3)).join('–')})\n`,
    );
  }
} finally {
  for (const s of servers.reverse()) await stopServer(s);
}

for (const c of configs.filter((c) => c.startupMs !== undefined))
  process.stdout.write(`startup ${c.label}: ${Math.round(c.startupMs)} ms\n`);
const checks = await checkCosts();
for (const c of checks) process.stdout.write(`check ${c.label.padEnd(28)} ${c.usPerCheck.toFixed(2)} µs\n`);
const injected = await injectCosts();
for (const r of injected) {
  process.stdout.write(
    `inject ${r.label.padEnd(28)} ${r.cpuUsPerReq.toFixed(1)} µs CPU/req  ×off ${r.cpuVsOff.toFixed(3)} (${r.cpuVsOffRange.map((v) => v.toFixed(3)).join('–')})\n`,
  );
}
await new Promise((resolve) => jwksServer.close(resolve));
const { machine } = writeResults('auth', {
  durationMs,
  warmupMs,
  rounds,
  startupMs: Object.fromEntries(configs.map((c) => [c.label, c.startupMs])),
  checks,
  injected,
  rows,
});
rmSync(work, { recursive: true, force: true });
process.stdout.write(`\nmachine: ${JSON.stringify(machine)}\nwritten: bench/out/auth.json\n`);
