// /metrics (KServe histogram names, request counters, in-flight gauge, process metrics), --enable_docs_url,
// and the REST plugin embedded in a user's own fastify app.
import { RestClient } from '@servekit/client';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataPlane } from '../src/dataplane.js';
import { createServerMetrics } from '../src/metrics.js';
import { ModelRepository } from '../src/model/repository.js';
import { servekitRestPlugin } from '../src/protocols/rest-plugin.js';
import type { ModelServer } from '../src/server/model-server.js';
import { EchoModel, LinearModel, startServer } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const x = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };

describe('/metrics', () => {
  let server: ModelServer;
  let base: string;
  beforeAll(async () => {
    server = await startServer([new LinearModel('linear')]);
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(() => server.stop());

  it("exposes KServe's per-stage histograms and request counters by model/protocol/status", async () => {
    const rest = new RestClient({ baseUrl: base, retries: 0 });
    cleanups.push(() => rest.close());
    await rest.infer('linear', { inputs: [x] });
    await rest.infer('linear', { inputs: [x] }, { binary: true });
    await rest.v1Predict('linear', { instances: [[1]] });
    await rest.v1Explain('linear', { instances: [[1]] });
    await rest.infer('linear', { inputs: [{ ...x, name: 'nope' }] }).catch(() => undefined); // model rejects: 400
    await rest.infer('ghost', { inputs: [x] }).catch(() => undefined); // 404

    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    for (const h of ['request_preprocess_seconds', 'request_predict_seconds', 'request_postprocess_seconds']) {
      expect(text).toContain(`# TYPE ${h} histogram`);
      expect(text).toMatch(new RegExp(`${h}_bucket\\{le="[0-9.e+-]+",model_name="linear"\\}`));
    }
    expect(text).toContain('# TYPE request_explain_seconds histogram');
    expect(text).toContain('request_explain_seconds_count{model_name="linear"} 1');
    expect(text).toContain('request_predict_seconds_count{model_name="linear"} 4');
    expect(text).toContain('servekit_requests_total{model_name="linear",protocol="v2",status="200"} 2');
    expect(text).toContain('servekit_requests_total{model_name="linear",protocol="v2",status="400"} 1');
    expect(text).toContain('servekit_requests_total{model_name="linear",protocol="v1",status="200"} 2');
    expect(text).toContain('servekit_requests_total{model_name="<unknown>",protocol="v2",status="404"} 1');
    expect(text).toContain('servekit_requests_in_flight{model_name="linear"} 0');
    expect(text).not.toContain('process_cpu_user_seconds_total');
  });

  it('unknown model names do not create a metric series each (no label explosion)', async () => {
    for (const name of ['g1', 'g2', 'g3']) {
      await fetch(`${base}/v2/models/${name}/infer`, {
        method: 'POST',
        body: '{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]}]}',
      });
    }
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).not.toContain('model_name="g1"');
    expect(text).not.toContain('model_name="g3"');
  });

  it('includes the default process metrics unless disabled', async () => {
    const s = await startServer([new EchoModel('echo')], { defaultMetrics: true });
    cleanups.push(() => s.stop());
    const text = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

/** `METHOD /path/{param}` of every route the REST plugin registers (HEAD, added by fastify to each GET, left out). */
async function registeredRoutes(): Promise<string[]> {
  const app = Fastify();
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method !== 'HEAD') routes.push(`${method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    }
  });
  const dataplane = new DataPlane(new ModelRepository(), {
    metrics: createServerMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
  });
  await app.register(servekitRestPlugin, {
    dataplane,
    maxBodySize: 1024,
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
  });
  await app.ready();
  await app.close();
  return routes.sort();
}

/** `METHOD /path/{param}` of every operation of an OpenAPI document; V1's `{name}:verb` paths are one route. */
function documentedRoutes(paths: Record<string, Record<string, unknown>>): string[] {
  const routes = new Set<string>();
  for (const [path, ops] of Object.entries(paths)) {
    for (const method of Object.keys(ops)) {
      routes.add(`${method.toUpperCase()} ${path.replace(/\{name\}:\w+$/, '{target}')}`);
    }
  }
  return [...routes].sort();
}

describe('--enable_docs_url', () => {
  it('serves Swagger UI at /docs and the OpenAPI document at /docs/json', async () => {
    const s = await startServer([new EchoModel('echo')], { enableDocsUrl: true });
    cleanups.push(() => s.stop());
    const base = `http://127.0.0.1:${s.httpPort}`;
    const ui = await fetch(`${base}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    expect((await ui.text()).toLowerCase()).toContain('swagger');
    const doc = (await (await fetch(`${base}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    // Every route the REST plugin registers is documented, and every documented route exists (same methods).
    expect(documentedRoutes(doc.paths)).toEqual(await registeredRoutes());
    // the inference routes still work next to the docs
    const rest = new RestClient({ baseUrl: base, retries: 0 });
    cleanups.push(() => rest.close());
    expect((await rest.infer('echo', { inputs: [x] })).outputs).toHaveLength(1);
  });

  it('is off by default', async () => {
    const s = await startServer([new EchoModel('echo')]);
    cleanups.push(() => s.stop());
    expect((await fetch(`http://127.0.0.1:${s.httpPort}/docs`)).status).toBe(404);
  });
});

describe('REST plugin in a user fastify app', () => {
  it('mounts under a prefix next to the app routes, which keep their own JSON parsing and errors', async () => {
    const repository = new ModelRepository();
    repository.register(new LinearModel('linear'));
    await repository.loadAll();
    const metrics = createServerMetrics({ defaultMetrics: false });
    const dataplane = new DataPlane(repository, { metrics, logger: pino({ level: 'silent' }) });
    const app = Fastify();
    app.post('/app/echo', async (request) => ({ got: request.body }));
    await app.register(servekitRestPlugin, {
      prefix: '/ml',
      dataplane,
      maxBodySize: 1024 * 1024,
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      await app.close();
      await dataplane.close();
    });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    const own = await fetch(`http://127.0.0.1:${port}/app/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(await own.json()).toEqual({ got: { a: 1 } });

    const rest = new RestClient({ baseUrl: `http://127.0.0.1:${port}/ml`, retries: 0 });
    cleanups.push(() => rest.close());
    expect(await rest.serverReady()).toBe(true);
    expect(await rest.v1Predict('linear', { instances: [[2]] })).toEqual({ predictions: [5] });
    const res = await rest.infer('linear', { inputs: [x] }, { binary: true, binaryOutputs: true });
    expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([3]);
    expect(await (await fetch(`http://127.0.0.1:${port}/ml/metrics`)).text()).toContain('request_predict_seconds');
    const notFound = await fetch(`http://127.0.0.1:${port}/nothing-here`);
    expect(notFound.status).toBe(404);
  });
});
