// Bound metric series (one per model name) write prom-client's own store in place: /metrics is byte-identical to the
// same updates made through prom-client's calls, a reset or removed series is re-made and counted again, and the
// dataplane's requests for unknown model names share the one `<unknown>` series.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DataPlane } from '../src/dataplane.js';
import { CounterSeries, GaugeSeries, HistogramSeries } from '../src/metric-series.js';
import { createServerMetrics, LATENCY_BUCKETS, type ServerMetrics } from '../src/metrics.js';
import { ModelRepository } from '../src/model/repository.js';
import { ModelMetricSeriesCache } from '../src/model-metric-series.js';
import { makeContext } from '../src/protocols/context.js';
import { LinearModel } from './helpers.js';

/** Observations on every side of every bucket bound, past the last one, and sums that do not add up exactly. */
const VALUES = [0, 1e-5, ...LATENCY_BUCKETS.flatMap((b) => [b * 0.999, b, b * 1.001]), 11, 1234.5, 0.1 + 0.2];

/** Apply one script of updates to `m`, through bound series (`bound`) or prom-client's own calls. */
function script(m: ServerMetrics, bound: boolean): void {
  const a = { model_name: 'a' };
  const b = { model_name: 'b' };
  const okA = { model_name: 'a', protocol: 'v2', status: '200' };
  const badA = { model_name: 'a', protocol: 'grpc-v2', status: '400' };
  const hist = bound ? new HistogramSeries(m.predict, a, LATENCY_BUCKETS) : undefined;
  const histB = bound ? new HistogramSeries(m.preprocess, b, LATENCY_BUCKETS) : undefined;
  const ok = bound ? new CounterSeries(m.requests, okA) : undefined;
  const bad = bound ? new CounterSeries(m.requests, badA) : undefined;
  const gauge = bound ? new GaugeSeries(m.inFlight, a) : undefined;
  const round = () => {
    for (const v of VALUES) {
      if (hist) hist.observe(v);
      else m.predict.observe(a, v);
      if (histB) histB.observe(v / 7);
      else m.preprocess.observe(b, v / 7);
      if (gauge) gauge.inc();
      else m.inFlight.inc(a);
      if (ok) ok.inc();
      else m.requests.inc(okA);
    }
    for (let i = 0; i < 3; i++) {
      if (gauge) gauge.dec();
      else m.inFlight.dec(a);
      if (bad) bad.inc();
      else m.requests.inc(badA);
    }
  };
  round();
  m.predict.reset(); // series re-made by the next observation
  m.requests.remove(okA);
  round();
  m.registry.resetMetrics();
  round();
  round();
}

describe('bound metric series', () => {
  it('render /metrics byte-identical to the same updates through prom-client', async () => {
    const plain = createServerMetrics({ defaultMetrics: false });
    const bound = createServerMetrics({ defaultMetrics: false });
    script(plain, false);
    script(bound, true);
    const text = await bound.registry.metrics();
    expect(text).toContain('request_predict_seconds_count{model_name="a"} 106');
    expect(text).toContain('servekit_requests_total{model_name="a",protocol="grpc-v2",status="400"} 6');
    expect(text).toBe(await plain.registry.metrics());
    expect(JSON.stringify(await bound.registry.getMetricsAsJSON())).toBe(
      JSON.stringify(await plain.registry.getMetricsAsJSON()),
    );
  });

  it('make no series before the first update', async () => {
    const m = createServerMetrics({ defaultMetrics: false });
    const cache = new ModelMetricSeriesCache(m);
    const series = cache.of('idle');
    expect(cache.of('idle')).toBe(series);
    expect(await m.registry.metrics()).not.toContain('idle');
    series.requestDone('v1', 503);
    const text = await m.registry.metrics();
    expect(text).toContain('servekit_requests_total{model_name="idle",protocol="v1",status="503"} 1');
    expect(text).not.toContain('request_predict_seconds_count{model_name="idle"}');
  });

  it('refuse a value prom-client refuses, with its error', () => {
    const m = createServerMetrics({ defaultMetrics: false });
    const h = new HistogramSeries(m.predict, { model_name: 'a' }, LATENCY_BUCKETS);
    h.observe(1);
    expect(() => h.observe(Number.NaN)).toThrow(/Value is not a valid number/);
    expect(() => h.observe(Number.POSITIVE_INFINITY)).toThrow(/Value is not a valid number/);
  });
});

describe('dataplane metric series', () => {
  it('count every request once, unknown model names in the one <unknown> series', async () => {
    const metrics = createServerMetrics({ defaultMetrics: false });
    const repository = new ModelRepository();
    repository.register(new LinearModel('linear'));
    await repository.loadAll();
    const dataplane = new DataPlane(repository, { metrics, logger: pino({ level: 'silent' }) });
    const x = { name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.of(1) };
    const ctx = () => makeContext({}, 'v2', new AbortController().signal);
    for (let i = 0; i < 5; i++) await dataplane.inferV2('linear', undefined, { inputs: [x] }, ctx());
    for (let i = 0; i < 50; i++) {
      await expect(dataplane.inferV2(`ghost-${i}`, undefined, { inputs: [x] }, ctx())).rejects.toThrow(/ghost/);
    }
    metrics.registry.resetMetrics();
    for (let i = 0; i < 2; i++) await dataplane.inferV2('linear', undefined, { inputs: [x] }, ctx());
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('ghost');
    expect(text).toContain('servekit_requests_total{model_name="linear",protocol="v2",status="200"} 2');
    expect(text).toContain('request_predict_seconds_count{model_name="linear"} 2');
    expect(text).toContain('request_preprocess_seconds_count{model_name="linear"} 2');
    expect(text).toContain('request_postprocess_seconds_count{model_name="linear"} 2');
    expect(text).toContain('servekit_requests_in_flight{model_name="linear"} 0');
    const stats = dataplane.statistics.report(repository, 'linear')[0];
    expect(stats.inference_stats.success.count).toBe(7);
    expect(stats.execution_count).toBe(7);
    expect(Math.abs(stats.last_inference - Date.now())).toBeLessThan(60_000);
    await dataplane.close();
  });
});
