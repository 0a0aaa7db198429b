// The churn model served the three ways of the issue, over real sockets, all 20 fixture customers checked against
// scikit-learn (expected.json, 1e-6): (1) --model_dir with V1 dicts and V2 JSON tensors, PREDICT_PROBA=true;
// (2) --storage_uri from a local HTTP server and from S3 (s3rver); (3) ChurnTransformer in front of a predictor
// process over V1, V2 REST and gRPC V2, and in-process.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient } from '@servekit/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type TestS3 } from '../../../packages/storage/test/helpers/s3.js';
import { startServer, type TestServer } from '../../../packages/storage/test/helpers/servers.js';
import { EXPECTED, expectClose, expectedDecisions } from './fixture.js';
import { ReadmeRunner, type ReadmeServer, ROOT } from './readme.js';

const CLI = 'node packages/cli/dist/bin.js serve';
const MODEL = join(ROOT, 'examples/churn/model/model.joblib');
const instances = EXPECTED.inputs;

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const predictV1 = (s: ReadmeServer, body: unknown) => post(`${s.base}/v1/models/churn:predict`, body);

const runner = new ReadmeRunner();
let cache: string;
beforeAll(() => {
  cache = mkdtempSync(join(tmpdir(), 'churn-served-'));
});
afterAll(() => {
  runner.killAll();
  rmSync(cache, { recursive: true, force: true });
});

describe('(1) servekit serve --model_dir examples/churn/model', () => {
  let server: ReadmeServer;
  beforeAll(async () => {
    server = await runner.serve(`${CLI} --model_dir examples/churn/model --model_name churn`);
  });
  afterAll(async () => {
    expect(await runner.stop(server)).toBe(0);
  });

  it('answers V1 dict instances with predict, and predict_proba when the request asks', async () => {
    const labels = await predictV1(server, { instances });
    expect(labels).toEqual({ status: 200, body: { predictions: EXPECTED.predict } });
    const proba = await predictV1(server, { instances, parameters: { predict_proba: true } });
    expect(proba.status).toBe(200);
    expectClose(proba.body, { predictions: EXPECTED.predict_proba });
  });

  it('answers V2 (REST and gRPC) with the customers as one BYTES tensor of JSON objects', async () => {
    const input = { name: 'input-0', datatype: 'BYTES', shape: [20], data: instances.map((c) => JSON.stringify(c)) };
    const rest = await post(`${server.base}/v2/models/churn/infer`, {
      inputs: [input],
      parameters: { predict_proba: true },
    });
    expect(rest.status).toBe(200);
    const out = (rest.body.outputs as Array<{ shape: number[]; data: number[] }>)[0]!;
    expect(out.shape).toEqual([20, 2]);
    expectClose(out.data, EXPECTED.predict_proba.flat());
    const client = new GrpcClient({ address: server.grpc });
    try {
      const res = await client.infer('churn', { inputs: [{ ...input, datatype: 'BYTES' }] });
      expect(Array.from(res.outputs[0]!.data as BigInt64Array, Number)).toEqual(EXPECTED.predict);
    } finally {
      client.close();
    }
  });

  it('answers probabilities for every request with PREDICT_PROBA=true', async () => {
    const proba = await runner.serve(`PREDICT_PROBA=true ${CLI} --model_dir examples/churn/model --model_name churn`);
    try {
      const res = await predictV1(proba, { instances });
      expect(res.status).toBe(200);
      expectClose(res.body, { predictions: EXPECTED.predict_proba });
      // a request can still ask for labels
      const labels = await predictV1(proba, { instances, parameters: { predict_proba: false } });
      expect(labels.body).toEqual({ predictions: EXPECTED.predict });
    } finally {
      expect(await runner.stop(proba)).toBe(0);
    }
  });
});

describe('(2) servekit serve --storage_uri', () => {
  let files: TestServer;
  let s3: TestS3;
  beforeAll(async () => {
    const bytes = readFileSync(MODEL);
    files = await startServer((req, res) => {
      if (req.url !== '/model.joblib') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
    });
    s3 = await startS3(join(cache, 's3'), ['bucket']);
    await s3.put('bucket', 'churn/model.joblib', bytes);
  });
  afterAll(async () => {
    await files?.close();
    await s3?.close();
  });

  it('downloads model.joblib from an HTTP server (the course serves the file this way) and serves it', async () => {
    const env = { SERVEKIT_STORAGE_CACHE_DIR: join(cache, 'http') };
    const server = await runner.serve(`${CLI} --storage_uri ${files.url}/model.joblib --model_name churn`, env);
    try {
      expect(files.requests.map((r) => r.url)).toContain('/model.joblib');
      expect((await predictV1(server, { instances })).body).toEqual({ predictions: EXPECTED.predict });
    } finally {
      expect(await runner.stop(server)).toBe(0);
    }
  });

  it('downloads s3://bucket/churn (credentials and endpoint from AWS_*) and serves probabilities', async () => {
    const env = { ...s3.env, SERVEKIT_STORAGE_CACHE_DIR: join(cache, 's3-cache'), PREDICT_PROBA: 'true' };
    const server = await runner.serve(`${CLI} --storage_uri s3://bucket/churn --model_name churn`, env);
    try {
      expect(s3.requests.some((r) => r.url.includes('churn/model.joblib'))).toBe(true);
      const res = await predictV1(server, { instances });
      expectClose(res.body, { predictions: EXPECTED.predict_proba });
    } finally {
      expect(await runner.stop(server)).toBe(0);
    }
  });
});

describe('(3) ChurnTransformer in front of the predictor', () => {
  const TRANSFORMER = `${CLI} --model_module examples/churn/dist/transformer.js --model_name churn`;
  let predictor: ReadmeServer;
  const transformers = new Map<string, ReadmeServer>();
  beforeAll(async () => {
    predictor = await runner.serve(`${CLI} --model_dir examples/churn/model --model_name churn`);
    const http = predictor.base.replace('http://', '');
    for (const [protocol, host] of [
      ['v1', http],
      ['v2', http],
      ['grpc-v2', predictor.grpc],
    ] as const) {
      transformers.set(
        protocol,
        await runner.serve(`${TRANSFORMER} --predictor_host ${host} --predictor_protocol ${protocol}`),
      );
    }
    transformers.set('in-process', await runner.serve(`${TRANSFORMER} --predictor_model_dir examples/churn/model`));
  });
  afterAll(async () => {
    for (const t of transformers.values()) expect(await runner.stop(t)).toBe(0);
    expect(await runner.stop(predictor)).toBe(0);
  });

  it.each(['v1', 'v2', 'grpc-v2', 'in-process'])(
    'answers churn_probability and approved per customer (predictor over %s)',
    async (mode) => {
      const res = await predictV1(transformers.get(mode)!, { instances });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expectClose(res.body, { predictions: expectedDecisions() });
      const approved = (res.body.predictions as Array<{ approved: boolean }>).filter((d) => d.approved).length;
      expect(approved).toBe(EXPECTED.predict.filter((p) => p === 0).length);
    },
  );

  it('normalizes values written like the raw CSV (the course lower-cases and uses _ for spaces)', async () => {
    const { contract: _contract, paymentmethod: _payment, ...rest } = instances[0]!;
    const raw = { ...rest, Contract: 'Month-to-month', PaymentMethod: 'Electronic check', totalcharges: '29.85' };
    const res = await predictV1(transformers.get('grpc-v2')!, { instances: [raw] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectClose(res.body, { predictions: expectedDecisions(1) });
  });

  it.each([
    ['empty instances', { instances: [] }, '"instances" must be a non-empty array'],
    ['not an object', { instances: ['alice'] }, 'customer 0 must be a JSON object'],
    ['missing field', { instances: [{ ...instances[0], tenure: undefined }] }, 'customer 0: field "tenure" is missing'],
    [
      'unknown field',
      { instances: [instances[0], { ...instances[1], tenur: 3 }] },
      'customer 1: unknown field "tenur"',
    ],
    [
      'unknown value',
      { instances: [{ ...instances[0], contract: 'monthly' }] },
      '"contract" must be one of month-to-month',
    ],
    ['not a number', { instances: [{ ...instances[0], monthlycharges: 'lots' }] }, '"monthlycharges" must be a number'],
    ['seniorcitizen 2', { instances: [{ ...instances[0], seniorcitizen: 2 }] }, '"seniorcitizen" must be 0 or 1'],
    ['not a string', { instances: [{ ...instances[0], gender: 1 }] }, '"gender" must be a string'],
  ])('rejects a bad request with a 400 naming the field: %s', async (_label, body, message) => {
    for (const mode of ['v2', 'in-process']) {
      const res = await predictV1(transformers.get(mode)!, body);
      expect(res.status, mode).toBe(400);
      expect(res.body.error, mode).toContain(message);
    }
  });

  it('rejects a V2 request to the transformer with a 400 saying what to send', async () => {
    const res = await post(`${transformers.get('v2')!.base}/v2/models/churn/infer`, {
      inputs: [{ name: 'input-0', datatype: 'BYTES', shape: [1], data: [JSON.stringify(instances[0])] }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('{"instances": [customer, ...]}');
  });
});
