// Authentication costs nothing when off: a server started in a fresh process without auth never loads the auth
// modules (only the flag reader) nor jose; with a token file it loads them but not jose; with a JWKS URL, jose.
// Every module the process resolves is recorded by a module.register resolve hook (dist build, as users run it).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const CORE = pathToFileURL(join(import.meta.dirname, '../dist/index.js')).href;

const PROBE = `
import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
const [out, core, auth] = process.argv.slice(2);
const hooks = \`import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(\${JSON.stringify(out)}, r.url + '\\\\n');
  return r;
}\`;
writeFileSync(out, '');
register('data:text/javascript,' + encodeURIComponent(hooks));
const { ModelServer } = await import(core);
const server = new ModelServer({
  httpPort: 0, grpcPort: 0, host: '127.0.0.1', logLevel: 'silent', defaultMetrics: false,
  auth: auth === 'off' ? undefined : JSON.parse(auth),
});
await server.start([]);
await server.stop();
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'servekit-auth-lazy-'));
  await writeFile(join(dir, 'probe.mjs'), PROBE);
  await writeFile(join(dir, 'tokens'), 'a-token\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The module URLs a server with `auth` resolved from start to stop, in a fresh process. */
async function loaded(name: string, auth: object | 'off'): Promise<string[]> {
  const out = join(dir, `${name}.txt`);
  const arg = auth === 'off' ? 'off' : JSON.stringify(auth);
  await exec(process.execPath, [join(dir, 'probe.mjs'), out, CORE, arg], { timeout: 60_000 });
  return (await readFile(out, 'utf8')).split('\n').filter((u) => u !== '');
}

const authModules = (urls: string[]) => [...new Set(urls.filter((u) => u.includes('/dist/auth/')))].sort();
const jose = (urls: string[]) => urls.some((u) => u.includes('/node_modules/jose/'));

describe('auth is loaded only when on', () => {
  it('off: only the flag reader, no jose', async () => {
    const urls = await loaded('off', 'off');
    expect(urls.some((u) => u.endsWith('/dist/server/model-server.js'))).toBe(true);
    expect(authModules(urls).map((u) => u.split('/dist/')[1])).toEqual(['auth/auth-flags.js']);
    expect(jose(urls)).toBe(false);
  });

  it('token file: the auth modules, no jose; JWKS: jose too', async () => {
    const tokens = await loaded('tokens', { tokenFile: join(dir, 'tokens') });
    expect(authModules(tokens).some((u) => u.endsWith('/auth/token-file.js'))).toBe(true);
    expect(jose(tokens)).toBe(false);
    // A JWKS nobody serves: the start logs a warning and goes on.
    const jwks = await loaded('jwks', { jwksUrl: 'http://127.0.0.1:9/jwks.json', jwtIssuer: 'idp' });
    expect(authModules(jwks).some((u) => u.endsWith('/auth/jwt-verifier.js'))).toBe(true);
    expect(jose(jwks)).toBe(true);
  });
});
