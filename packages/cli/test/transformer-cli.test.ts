// `servekit serve --model_module transformer.mjs` processes in front of a `servekit serve` predictor process
// (the sklearn churn model), over loopback: remote V1 / V2 REST / gRPC and in-process predictors give the
// same answers; health check; predictor down; flag errors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GrpcClient, RestClient } from '@servekit/client';
import type { InferRequest, InferResponse } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX, killAll, post, ROOT, type Running, run, serve, stop } from './cli-process.js';

const CHURN = join(FIX, 'sklearn/churn');
const expected = JSON.parse(readFileSync(join(CHURN, 'expected.json'), 'utf8')) as {
  inputs: Record<string, unknown>[];
  predict: number[];
};
const CORE = pathToFileURL(join(ROOT, 'packages/core/dist/index.js')).href;

// A user's transformer module: pass-through preprocess; V1 answers get an approve/decline decision per row.
const MODULE = `import { Transformer } from '${CORE}';
export default class ChurnTransformer extends Transformer {
  postprocess(result) {
    if (!Array.isArray(result.predictions)) return result;
    return { ...result, decisions: result.predictions.map((p) => (p === 1 ? 'decline' : 'approve')) };
  }
}
`;

const V2: InferRequest = {
  inputs: [
    {
      name: 'input-0',
      datatype: 'BYTES',
      shape: [expected.inputs.length],
      data: expected.inputs.map((r) => JSON.stringify(r)),
    },
  ],
};
const decisions = expected.predict.map((p) => (p === 1 ? 'decline' : 'approve'));

let dir: string;
let mod: string;
let predictor: Running;
const running: Running[] = [];

async function transformer(args: string[]): Promise<Running> {
  const r = await serve(['--model_module', mod, '--model_name', 'churn', ...args]);
  running.push(r);
  return r;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function outputs(res: InferResponse) {
  return res.outputs.map((o) => ({
    name: o.name,
    datatype: o.datatype,
    shape: o.shape,
    data: Array.from(o.data as ArrayLike<unknown>),
  }));
}

async function waitStatus(url: string, want: number): Promise<void> {
  let last = 0;
  for (let i = 0; i < 300; i++) {
    last = (await fetch(url)).status;
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url}: expected ${want}, still ${last}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'servekit-transformer-'));
  mod = join(dir, 'transformer.mjs');
  writeFileSync(mod, MODULE);
  predictor = await serve(['--model_dir', CHURN, '--model_name', 'churn']);
  running.push(predictor);
});

afterAll(async () => {
  for (const r of running) await stop(r);
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('servekit serve --model_module (transformer) in front of servekit serve (churn)', () => {
  let direct: { v1: unknown; v2: ReturnType<typeof outputs> };

  beforeAll(async () => {
    const v1 = await post(`${predictor.base}/v1/models/churn:predict`, { instances: expected.inputs });
    expect(v1.body).toEqual({ predictions: expected.predict });
    const rest = new RestClient({ baseUrl: predictor.base });
    direct = { v1: v1.body, v2: outputs(await rest.infer('churn', V2)) };
    rest.close();
  });

  it('remote V1: answers the predictor’s predictions plus the module’s decisions', async () => {
    const t = await transformer(['--predictor_host', predictor.base.replace('http://', '')]);
    const r = await post(`${t.base}/v1/models/churn:predict`, { instances: expected.inputs });
    expect(r).toEqual({ status: 200, body: { predictions: expected.predict, decisions } });
  });

  it('remote V2 REST and gRPC: the same tensors as the predictor itself', async () => {
    const rest = await transformer([
      '--predictor_host',
      predictor.base.replace('http://', ''),
      '--predictor_protocol',
      'v2',
    ]);
    const grpc = await transformer(['--predictor_host', predictor.grpc, '--predictor_protocol', 'grpc-v2']);
    for (const t of [rest, grpc]) {
      const rc = new RestClient({ baseUrl: t.base });
      const gc = new GrpcClient({ address: t.grpc });
      try {
        expect(outputs(await rc.infer('churn', V2))).toEqual(direct.v2);
        expect(outputs(await gc.infer('churn', V2))).toEqual(direct.v2);
      } finally {
        rc.close();
        gc.close();
      }
    }
  });

  it('in-process (--predictor_model_dir): the same answers as remote mode, V1 and V2', async () => {
    const v1 = await transformer(['--predictor_model_dir', CHURN]);
    const r = await post(`${v1.base}/v1/models/churn:predict`, { instances: expected.inputs });
    expect(r).toEqual({ status: 200, body: { predictions: expected.predict, decisions } });
    const v2 = await transformer(['--predictor_model_dir', CHURN, '--predictor_protocol', 'v2']);
    const rc = new RestClient({ baseUrl: v2.base });
    const gc = new GrpcClient({ address: v2.grpc });
    try {
      expect(outputs(await rc.infer('churn', V2))).toEqual(direct.v2);
      expect(outputs(await gc.infer('churn', V2))).toEqual(direct.v2);
    } finally {
      rc.close();
      gc.close();
    }
    // The predictor's 400 (bad input) stays a 400 with its message, in-process as remote.
    const remote = running.find((x) => x !== predictor && x !== v1 && x !== v2)!;
    const bad = { instances: [5] };
    const inProc = await post(`${v1.base}/v1/models/churn:predict`, bad);
    const viaRemote = await post(`${remote.base}/v1/models/churn:predict`, bad);
    expect(inProc.status).toBe(400);
    expect(viaRemote.status).toBe(400);
    const own = String((await post(`${predictor.base}/v1/models/churn:predict`, bad)).body.error);
    expect(String(inProc.body.error)).toContain(own);
    expect(String(viaRemote.body.error)).toContain(own);
  });

  it('--enable_predictor_health_check: not ready until the predictor is, then follows it', async () => {
    const port = await freePort();
    const t = await transformer(['--predictor_host', `127.0.0.1:${port}`, '--enable_predictor_health_check']);
    expect((await fetch(`${t.base}/v1/models/churn`)).status).toBe(503);
    expect((await fetch(`${t.base}/v2/models/churn/ready`)).status).toBe(503);
    const late = await serve(['--model_dir', CHURN, '--model_name', 'churn', '--http_port', String(port)]);
    running.push(late);
    await waitStatus(`${t.base}/v2/models/churn/ready`, 200);
    const r = await post(`${t.base}/v1/models/churn:predict`, { instances: expected.inputs });
    expect(r.body).toEqual({ predictions: expected.predict, decisions });
    await stop(late);
    await waitStatus(`${t.base}/v1/models/churn`, 503);
  });

  it('predictor down: 503 naming it, within --predictor_request_timeout_seconds', async () => {
    const port = await freePort();
    const t = await transformer([
      '--predictor_host',
      `127.0.0.1:${port}`,
      '--predictor_request_timeout_seconds',
      '2',
      '--predictor_request_retries',
      '2',
    ]);
    const res = await fetch(`${t.base}/v1/models/churn:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: expected.inputs }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = (await res.json()) as { error: string };
    expect(body.error).toContain(`http://127.0.0.1:${port}`);
    expect(body.error).toContain('unreachable');
  });
});

describe('flag errors (exit 2, naming the flag)', () => {
  it('--predictor_host without --model_module', async () => {
    const r = await run(['serve', '--model_dir', CHURN, '--predictor_host', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--predictor_host needs --model_module');
  });

  it('a bad --predictor_protocol, and both predictor flags at once', async () => {
    const bad = await run(['serve', '--model_module', mod, '--predictor_host', 'h:1', '--predictor_protocol', 'v3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--predictor_protocol: expected one of v1, v2, grpc-v2, got "v3".');
    const both = await run(['serve', '--model_module', mod, '--predictor_host', 'h:1', '--predictor_model_dir', CHURN]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
  });
});
