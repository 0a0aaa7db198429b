// `servekit serve --auth_token_file`: the real binary re-reads its token file on SIGHUP (and keeps serving), refuses
// a bad --auth_* configuration at start, and answers 401 / UNAUTHENTICATED to real clients.
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient } from '@servekit/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, ROOT, run, serve, stop } from './cli-process.js';

const MODULE = join(ROOT, 'packages/cli/test/fixtures/sleep-model.mjs');
const BODY = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [7] }] });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'servekit-auth-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => killAll());

/** Status of an inference with `token`; `fresh` opens a new connection for it (the cluster spreads connections). */
async function inferStatus(base: string, token: string, fresh = false): Promise<number> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  if (!fresh) {
    const res = await fetch(`${base}/v2/models/m/infer`, { method: 'POST', body: BODY, headers });
    await res.arrayBuffer();
    return res.status;
  }
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v2/models/m/infer`, { method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

describe('servekit serve --auth_token_file', () => {
  it('re-reads the token file on SIGHUP without a restart', async () => {
    // The flag names a symlink to a file in another folder: rewriting the target raises no event in the watched
    // folder, so only SIGHUP can pick the change up.
    await writeFile(join(dir, 'target'), 'first-token\n');
    const linkDir = await mkdtemp(join(dir, 'mounted-'));
    await symlink(join(dir, 'target'), join(linkDir, 'tokens'));
    const r = await serve(
      ['--model_module', MODULE, '--model_name', 'm', '--auth_token_file', join(linkDir, 'tokens')],
      { SLEEP_MS: '0' },
    );
    expect(await inferStatus(r.base, 'first-token')).toBe(200);
    expect(await inferStatus(r.base, 'second-token')).toBe(401);

    await writeFile(join(dir, 'target'), 'second-token\n');
    r.proc.kill('SIGHUP');
    for (let i = 0; i < 200 && (await inferStatus(r.base, 'second-token')) !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await inferStatus(r.base, 'second-token')).toBe(200);
    expect(await inferStatus(r.base, 'first-token')).toBe(401);
    expect(r.proc.exitCode).toBeNull();

    const grpc = new GrpcClient({ address: r.grpc, retries: 0, metadata: { authorization: 'Bearer second-token' } });
    const anonymous = new GrpcClient({ address: r.grpc, retries: 0 });
    try {
      expect((await grpc.modelMetadata('m')).name).toBe('m');
      expect(await anonymous.serverReady()).toBe(true);
      await expect(anonymous.modelMetadata('m')).rejects.toMatchObject({ grpcCode: 16 });
    } finally {
      grpc.close();
      anonymous.close();
    }
    const log = r.log.join('\n');
    expect(log).toContain('"cause":"SIGHUP"');
    expect(log).not.toContain('first-token');
    expect(log).not.toContain('second-token');
    expect(await stop(r)).toBe(0);
  });

  it('with --workers 2, SIGHUP to the primary reaches every worker', async () => {
    const target = join(dir, 'workers-target');
    await writeFile(target, 'first-token\n');
    const linkDir = await mkdtemp(join(dir, 'workers-'));
    await symlink(target, join(linkDir, 'tokens'));
    const r = await serve(
      ['--model_module', MODULE, '--model_name', 'm', '--workers', '2', '--auth_token_file', join(linkDir, 'tokens')],
      { SLEEP_MS: '0' },
    );
    const count = (what: string) => r.log.join('\n').split(what).length - 1;
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 400 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    };
    await until(() => count('"models":') >= 2); // both workers serving
    expect(count('"models":')).toBe(2);
    await writeFile(target, 'second-token\n');
    r.proc.kill('SIGHUP');
    await until(() => count('"cause":"SIGHUP"') >= 2);
    expect(count('"cause":"SIGHUP"')).toBe(2);
    expect(r.proc.exitCode).toBeNull();
    // New connections, spread over the workers: all take the new token only.
    for (let i = 0; i < 6; i++) {
      expect(await inferStatus(r.base, 'second-token', true)).toBe(200);
      expect(await inferStatus(r.base, 'first-token', true)).toBe(401);
    }
    expect(await stop(r)).toBe(0);
  });

  it('a half-configured or unreadable auth stops the start with a message', async () => {
    const half = await run(['serve', '--model_module', MODULE, '--model_name', 'm', '--auth_protect_metrics']);
    expect(half.code).not.toBe(0);
    expect(half.stderr).toContain('--auth_protect_metrics: auth is off; give --auth_token_file or --auth_jwks_url.');
    const missing = await run([
      'serve',
      '--model_module',
      MODULE,
      '--http_port',
      '0',
      '--grpc_port',
      '0',
      '--host',
      '127.0.0.1',
      '--auth_token_file',
      join(dir, 'absent'),
    ]);
    expect(missing.code).not.toBe(0);
    expect(`${missing.stdout}${missing.stderr}`).toContain('cannot be read (ENOENT)');
  });
});
