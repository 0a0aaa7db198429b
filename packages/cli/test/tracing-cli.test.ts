// `servekit serve` processes with OpenTelemetry tracing configured the standard way (`--enable_tracing`, `OTEL_*`
// env): a transformer process in front of a predictor process (the sklearn churn model), both exporting to a real
// OTLP/HTTP receiver on loopback. SIGTERM flushes the spans. One client request makes one trace across both.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver } from '../../core/test/otlp-receiver.js';
import { FIX, killAll, ROOT, type Running, serve, stop } from './cli-process.js';

const CHURN = join(FIX, 'sklearn/churn');
const customer = (JSON.parse(readFileSync(join(CHURN, 'expected.json'), 'utf8')) as { inputs: unknown[] }).inputs[0];
const CORE = pathToFileURL(join(ROOT, 'packages/core/dist/index.js')).href;
const TRACE = 'f1e2d3c4b5a697881726354453627181';
const PARENT = '00f067aa0ba902b7';

let dir: string;
let rcv: OtlpReceiver;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'servekit-tracing-cli-'));
  writeFileSync(
    join(dir, 'passthrough.mjs'),
    `import { Transformer } from '${CORE}';\nexport default class extends Transformer {}\n`,
  );
  rcv = await OtlpReceiver.start();
});
afterAll(async () => {
  killAll();
  await rcv.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('servekit serve with tracing from flags and OTEL_* env', () => {
  it('transformer (--enable_tracing) → predictor (OTEL_EXPORTER_OTLP_ENDPOINT alone): one trace, service names from env', async () => {
    const running: Running[] = [];
    try {
      // The predictor traces because an OTLP endpoint is in its environment.
      const predictor = await serve(['--model_dir', CHURN, '--model_name', 'churn'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: rcv.endpoint,
        OTEL_SERVICE_NAME: 'churn-predictor',
      });
      running.push(predictor);
      const transformer = await serve(
        [
          '--model_module',
          join(dir, 'passthrough.mjs'),
          '--model_name',
          'churn',
          '--predictor_host',
          predictor.base.replace('http://', ''),
          '--predictor_protocol',
          'v2',
          '--enable_tracing',
        ],
        {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rcv.url,
          OTEL_SERVICE_NAME: 'churn-transformer',
          OTEL_TRACES_SAMPLER: 'always_on',
        },
      );
      running.push(transformer);
      // A third server has an endpoint in its env but --enable_tracing false: it exports nothing.
      const off = await serve(['--model_dir', CHURN, '--model_name', 'churn', '--enable_tracing', 'false'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: rcv.endpoint,
        OTEL_SERVICE_NAME: 'untraced',
      });
      running.push(off);
      const body = JSON.stringify({
        inputs: [{ name: 'input-0', datatype: 'BYTES', shape: [1], data: [JSON.stringify(customer)] }],
      });
      const headers = { 'content-type': 'application/json', traceparent: `00-${TRACE}-${PARENT}-01` };
      const res = await fetch(`${transformer.base}/v2/models/churn/infer`, { method: 'POST', headers, body });
      expect(res.status).toBe(200);
      const direct = await fetch(`${off.base}/v2/models/churn/infer`, { method: 'POST', headers, body });
      expect(direct.status).toBe(200);
      for (const r of running) expect(await stop(r)).toBe(0);
    } finally {
      for (const r of running) await stop(r);
    }
    const spans = rcv.spans;
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['churn-transformer', 'churn-predictor']));
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([TRACE]));
    const tServer = spans.find((s) => s.service === 'churn-transformer' && s.kind === 2);
    const hop = spans.find((s) => s.kind === 3);
    const pServer = spans.find((s) => s.service === 'churn-predictor' && s.kind === 2);
    expect(tServer?.parentSpanId).toBe(PARENT);
    const tPredict = spans.find((s) => s.name === 'predict' && s.parentSpanId === tServer?.spanId);
    expect(hop?.parentSpanId).toBe(tPredict?.spanId);
    expect(pServer?.parentSpanId).toBe(hop?.spanId);
    expect(pServer?.attributes).toMatchObject({ 'servekit.model.name': 'churn', 'http.response.status_code': 200 });
    for (const name of ['preprocess', 'predict', 'postprocess']) {
      expect(spans.some((s) => s.name === name && s.parentSpanId === pServer?.spanId)).toBe(true);
    }
  });
});
