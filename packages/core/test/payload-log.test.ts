// Payload logging (KServe's logger): a real ModelServer logs each inference request and response as a CloudEvent
// (HTTP binary mode) to a loopback receiver that parses them with the `cloudevents` SDK; bodies are compared byte
// for byte with what went over the wire. Retries, a receiver that is down or stuck, a full queue, and flush on stop.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Model } from '../src/model/model.js';
import { LocalPredictor, Transformer } from '../src/model/transformer.js';
import { inferenceService } from '../src/protocols/grpc-proto.js';
import { parseFlags, SERVER_FLAGS } from '../src/server/flags.js';
import type { ModelServer, ModelServerOptions } from '../src/server/model-server.js';
import { serverOptionsFromFlags } from '../src/server/options-from-flags.js';
import { LinearModel, startServer } from './helpers.js';
import { LogReceiver, type ReceivedEvent, refusedUrl } from './log-receiver.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(): Promise<{ receiver: LogReceiver; url: string }> {
  const r = new LogReceiver();
  const url = await r.start();
  cleanups.push(() => r.close());
  return { receiver: r, url };
}

async function server(
  options: ModelServerOptions,
  models: Model[] = [new LinearModel('linear')],
): Promise<ModelServer> {
  const s = await startServer(models, options);
  cleanups.push(() => s.stop());
  return s;
}

/** POST `body` to the server; resolves with the status, content type and exact bytes of the answer. */
async function post(s: ModelServer, path: string, body: Uint8Array | string, headers: Record<string, string>) {
  const res = await fetch(`http://127.0.0.1:${s.httpPort}${path}`, { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A raw-bytes gRPC ModelInfer call: the exact request bytes in, the exact response bytes out. */
function grpcInfer(s: ModelServer, request: Buffer, metadata: Record<string, string>): Promise<Buffer> {
  const client = new grpc.Client(`127.0.0.1:${s.grpcPort}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const id = (b: Buffer) => b;
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', id, id, request, md, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res as Buffer);
    });
  });
}

/** The value of payload-log counter `name` (with `labels`) in the server's registry. */
async function counter(s: ModelServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await s.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

/** Poll until `probe` returns true (the test's own timeout bounds it). */
async function until(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, 10));
}

function expectEnvelope(e: ReceivedEvent, kind: 'request' | 'response', contentType: string | null, bytes: Buffer) {
  expect(e.headers['ce-specversion']).toBe('1.0');
  expect(e.event.specversion).toBe('1.0');
  expect(e.event.type).toBe(`org.kubeflow.serving.inference.${kind}`);
  expect(e.headers['content-type']).toBe(contentType ?? undefined);
  expect(e.body.equals(bytes)).toBe(true);
}

const JSON_TYPE = 'application/json';
const x = (data: number[]) => ({ name: 'x', datatype: 'FP32', shape: [data.length], data });

describe('payload logging: events as KServe sends them', () => {
  it('REST V2 JSON, binary extension, V1 and gRPC ModelInfer: request and 200 response share ce-id; bytes and types exact', async () => {
    const { receiver: r, url } = await receiver();
    const s = await server({
      payloadLog: {
        url,
        metadataHeaders: ['x-user-id', 'X-Tenant'],
        inferenceService: 'iris',
        namespace: 'models',
        endpoint: 'default',
      },
    });

    const jsonBody = JSON.stringify({ id: 'body-id', inputs: [x([1, 2])] });
    const json = await post(s, '/v2/models/linear/infer', jsonBody, {
      'content-type': JSON_TYPE,
      'x-request-id': 'r-json',
      'x-user-id': 'u1',
    });
    expect(json.status).toBe(200);

    const head = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 12 } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      }),
    );
    const binBody = Buffer.concat([head, Buffer.from(Float32Array.of(1, 2, 3).buffer)]);
    const bin = await post(s, '/v2/models/linear/infer', binBody, {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(head.byteLength),
      'x-request-id': 'r-bin',
    });
    expect(bin.status).toBe(200);
    expect(bin.type).toBe('application/octet-stream');

    const v1Body = '{"instances": [[1], [2]]}';
    const v1 = await post(s, '/v1/models/linear:predict', v1Body, {
      'content-type': JSON_TYPE,
      'ce-id': 'ce-v1',
      'x-request-id': 'not-this-one',
      'x-tenant': 't9',
    });
    expect(v1.status).toBe(200);

    const service = inferenceService().service.ModelInfer;
    const grpcBody = service.requestSerialize({
      model_name: 'linear',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['2'], contents: { fp32_contents: [4, 5] } }],
    });
    const grpcAnswer = await grpcInfer(s, grpcBody, { 'x-request-id': 'r-grpc', 'x-user-id': 'u2' });

    const anonymous = await post(s, '/v1/models/linear:predict', v1Body, { 'content-type': JSON_TYPE });
    expect(anonymous.status).toBe(200);

    const events = await r.received(10);
    const source = `http://localhost:${s.httpPort}/`;
    for (const e of events) {
      expect(e.event.source).toBe(source);
      expect(e.headers['ce-inferenceservicename']).toBe('iris');
      expect(e.headers['ce-namespace']).toBe('models');
      expect(e.headers['ce-component']).toBe('predictor');
      expect(e.headers['ce-endpoint']).toBe('default');
      expect(e.event.time).toBeDefined();
    }

    expectEnvelope(r.find('r-json', 'request'), 'request', JSON_TYPE, Buffer.from(jsonBody));
    expectEnvelope(r.find('r-json', 'response'), 'response', json.type, json.bytes);
    expect(r.find('r-json', 'request').event.data).toEqual(JSON.parse(jsonBody));
    expect(r.find('r-json', 'request').headers['ce-metadata']).toBe('{"X-User-Id":["u1"]}');
    expect(r.find('r-json', 'response').headers['ce-metadata']).toBe('{"X-User-Id":["u1"]}');

    expectEnvelope(r.find('r-bin', 'request'), 'request', 'application/octet-stream', binBody);
    expectEnvelope(r.find('r-bin', 'response'), 'response', 'application/octet-stream', bin.bytes);
    expect(r.find('r-bin', 'response').headers['ce-metadata']).toBe('{}');

    expectEnvelope(r.find('ce-v1', 'request'), 'request', JSON_TYPE, Buffer.from(v1Body));
    expectEnvelope(r.find('ce-v1', 'response'), 'response', JSON_TYPE, v1.bytes);
    expect(r.find('ce-v1', 'response').event.data).toEqual({ predictions: [3, 5] });
    expect(r.find('ce-v1', 'request').headers['ce-metadata']).toBe('{"X-Tenant":["t9"]}');

    expectEnvelope(r.find('r-grpc', 'request'), 'request', 'application/grpc+proto', grpcBody);
    expectEnvelope(r.find('r-grpc', 'response'), 'response', 'application/grpc+proto', grpcAnswer);
    expect(service.responseDeserialize(r.find('r-grpc', 'response').body)).toMatchObject({ model_name: 'linear' });
    expect(r.find('r-grpc', 'request').headers['ce-metadata']).toBe('{"X-User-Id":["u2"]}');

    // No ce-id / x-request-id: a fresh UUID, the same for the request and its response.
    const known = new Set(['r-json', 'r-bin', 'ce-v1', 'r-grpc']);
    const fresh = events.filter((e) => !known.has(e.event.id));
    expect(fresh).toHaveLength(2);
    expect(fresh[0]!.event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh[0]!.event.id).toBe(fresh[1]!.event.id);
    await until(async () => (await counter(s, 'servekit_payload_log_sent_total', { type: 'request' })) === 5);
    await until(async () => (await counter(s, 'servekit_payload_log_sent_total', { type: 'response' })) === 5);
  });

  it('a failed inference logs its request only (responses are logged when 200, as KServe does)', async () => {
    const { receiver: r, url } = await receiver();
    const s = await server({ payloadLog: { url } });
    const bad = await post(s, '/v2/models/linear/infer', JSON.stringify({ inputs: [{ ...x([1]), name: 'z' }] }), {
      'content-type': JSON_TYPE,
      'x-request-id': 'bad',
    });
    expect(bad.status).toBe(400);
    const ok = await post(s, '/v1/models/linear:predict', '{"instances": [1]}', { 'x-request-id': 'ok' });
    expect(ok.status).toBe(200);
    await r.received(3);
    r.find('bad', 'request');
    expect(() => r.find('bad', 'response')).toThrow();
    r.find('ok', 'response');
  });

  it('--log_mode request / response log only that side', async () => {
    const { receiver: requests, url: requestsUrl } = await receiver();
    const { receiver: responses, url: responsesUrl } = await receiver();
    const a = await server({ payloadLog: { url: requestsUrl, mode: 'request' } });
    const b = await server({ payloadLog: { url: responsesUrl, mode: 'response' } });
    for (const s of [a, b]) {
      for (const id of ['one', 'two']) {
        expect((await post(s, '/v1/models/linear:predict', '{"instances": [1]}', { 'x-request-id': id })).status).toBe(
          200,
        );
      }
    }
    await requests.received(2);
    await responses.received(2);
    await a.stop();
    await b.stop();
    expect(requests.events.map((e) => e.event.type)).toEqual(Array(2).fill('org.kubeflow.serving.inference.request'));
    expect(responses.events.map((e) => e.event.type)).toEqual(Array(2).fill('org.kubeflow.serving.inference.response'));
  });

  it('a transformer logs as ce-component transformer; --log_source and --log_component are used as given', async () => {
    const { receiver: r, url } = await receiver();
    const t = new Transformer('t', { predictor: new LocalPredictor(new LinearModel('t'), 'v1') });
    const s = await server({ payloadLog: { url, mode: 'request' } }, [t]);
    expect((await post(s, '/v1/models/t:predict', '{"instances": [1]}', {})).status).toBe(200);
    const { receiver: r2, url: url2 } = await receiver();
    const s2 = await server({ payloadLog: { url: url2, mode: 'request', source: 'my-pod', component: 'explainer' } });
    expect((await post(s2, '/v1/models/linear:predict', '{"instances": [1]}', {})).status).toBe(200);
    const [e] = await r.received(1);
    expect(e!.headers['ce-component']).toBe('transformer');
    const [e2] = await r2.received(1);
    expect(e2!.headers['ce-component']).toBe('explainer');
    expect(e2!.event.source).toBe('my-pod');
  });
});

describe('payload logging never holds inference up', () => {
  it('retries a 5xx answer with backoff, then delivers', async () => {
    const { receiver: r, url } = await receiver();
    r.statuses.push(503, 500);
    const s = await server({
      payloadLog: { url, mode: 'request', senders: 1, retry: { retries: 3, backoffMs: 5, maxBackoffMs: 20 } },
    });
    expect((await post(s, '/v1/models/linear:predict', '{"instances": [1]}', { 'x-request-id': 'again' })).status).toBe(
      200,
    );
    await r.received(1);
    expect(r.attempts).toBe(3);
    r.find('again', 'request');
    await until(async () => (await counter(s, 'servekit_payload_log_sent_total', { type: 'request' })) === 1);
    expect(await counter(s, 'servekit_payload_log_failed_total')).toBe(0);
  });

  it('a receiver that is down: inference answers, events fail after their retries and are counted', async () => {
    const s = await server({
      payloadLog: { url: await refusedUrl(), retry: { retries: 2, backoffMs: 5, maxBackoffMs: 10 } },
    });
    for (let i = 0; i < 3; i++) {
      expect((await post(s, '/v1/models/linear:predict', '{"instances": [1]}', {})).status).toBe(200);
    }
    await until(async () => (await counter(s, 'servekit_payload_log_failed_total')) === 6);
    const text = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    expect(text).toContain('servekit_payload_log_failed_total 6');
    expect(text).toContain('servekit_payload_log_sent_total{type="request"} 0');
  });

  it('a receiver that never answers: every inference still answers; a full queue drops events and counts them', async () => {
    const { receiver: r, url } = await receiver();
    let release = () => {};
    r.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const s = await server({ payloadLog: { url, mode: 'request', senders: 1, queueSize: 2 } });
    for (let i = 0; i < 6; i++) {
      expect(
        (await post(s, '/v1/models/linear:predict', '{"instances": [1]}', { 'x-request-id': `q${i}` })).status,
      ).toBe(200);
    }
    // One event is being sent (held by the receiver), two wait in the queue, three were dropped.
    const text = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    expect(text).toContain('servekit_payload_log_dropped_total 3');
    expect(r.events).toHaveLength(0);
    release();
    await r.received(3);
    expect(r.events.map((e) => e.event.id)).toEqual(['q0', 'q1', 'q2']);
    await until(async () => (await counter(s, 'servekit_payload_log_sent_total', { type: 'request' })) === 3);
  });

  it('stop() sends the queued events before it resolves', async () => {
    const { receiver: r, url } = await receiver();
    let release = () => {};
    r.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const s = await startServer([new LinearModel('linear')], {
      payloadLog: { url, senders: 1 },
      gracePeriodMs: 30_000,
    });
    for (let i = 0; i < 4; i++) {
      expect((await post(s, '/v1/models/linear:predict', '{"instances": [1]}', {})).status).toBe(200);
    }
    expect(r.events).toHaveLength(0);
    const stopped = s.stop();
    release();
    await stopped;
    expect(r.events).toHaveLength(8);
    expect(await counter(s, 'servekit_payload_log_dropped_total')).toBe(0);
  });

  it('stop() gives up at the end of the grace period: events still queued are dropped and counted', async () => {
    const { receiver: r, url } = await receiver();
    r.hold = new Promise<void>(() => {});
    const s = await startServer([new LinearModel('linear')], {
      payloadLog: { url, mode: 'request', senders: 1 },
      gracePeriodMs: 200,
    });
    for (let i = 0; i < 3; i++) {
      expect((await post(s, '/v1/models/linear:predict', '{"instances": [1]}', {})).status).toBe(200);
    }
    await s.stop();
    expect(r.events).toHaveLength(0);
    expect(await counter(s, 'servekit_payload_log_dropped_total')).toBe(2);
    expect(await counter(s, 'servekit_payload_log_failed_total')).toBe(1);
  });
});

describe('payload logging: configuration', () => {
  it('the --log_* flags build the options; no --log_url, no logging (and no payload-log metrics)', async () => {
    const { flags } = parseFlags(
      [
        '--log_url',
        'http://logger.default/',
        '--log_mode',
        'response',
        '--log_headers',
        'x-user-id, X-Tenant',
        '--log_inference_service',
        'iris',
        '--log_queue_size',
        '10',
      ],
      SERVER_FLAGS,
      {},
    );
    expect(serverOptionsFromFlags(flags).payloadLog).toEqual({
      url: 'http://logger.default/',
      mode: 'response',
      metadataHeaders: ['x-user-id', ' X-Tenant'],
      source: undefined,
      inferenceService: 'iris',
      namespace: undefined,
      component: undefined,
      endpoint: undefined,
      queueSize: 10,
      senders: 5,
    });
    expect(() => parseFlags(['--log_mode', 'everything'])).toThrow(/expected one of all, request, response/);
    expect(serverOptionsFromFlags(parseFlags([]).flags).payloadLog).toBeUndefined();
    const s = await server({});
    const text = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    expect(text).not.toContain('servekit_payload_log');
  });

  it('a bad --log_url or queue size stops the server at startup', async () => {
    await expect(startServer([], { payloadLog: { url: 'not a url' } })).rejects.toThrow(/--log_url/);
    await expect(startServer([], { payloadLog: { url: 'ftp://x/' } })).rejects.toThrow(/http/);
    await expect(startServer([], { payloadLog: { url: 'http://x/', queueSize: 0 } })).rejects.toThrow(
      /--log_queue_size/,
    );
  });
});
