// V2 repository semantics that KServe's and Triton's clients expect, over REST: a load of a loaded model reloads it
// from its "files" (the new instance swapped in only once loaded, the old one serving meanwhile and disposed after its
// in-flight requests), unloaded models stay listed UNAVAILABLE, concurrent loads/unloads coalesce, Triton's
// `parameters.config` is refused with a 400, and ModelReady of an unknown version is false.

import { afterEach, describe, expect, it } from 'vitest';
import { Model } from '../src/model/model.js';
import type { InferRequest, Payload, Result } from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { startServer } from './helpers.js';

/** Answers [generation]; its load waits for `gate` when given; counts loads/unloads; predict waits for `hold`. */
class GenModel extends Model {
  loads = 0;
  unloads = 0;
  constructor(
    name: string,
    readonly generation: number,
    private readonly gate?: Promise<void>,
    private readonly fail?: string,
  ) {
    super(name);
  }
  hold?: Promise<void>;
  entered?: () => void;

  override async load(): Promise<void> {
    this.loads++;
    await this.gate;
    if (this.fail) throw new Error(this.fail);
  }

  override async unload(): Promise<void> {
    this.unloads++;
  }

  override async predict(payload: Payload): Promise<Result> {
    this.entered?.();
    await this.hold;
    const x = (payload as InferRequest).inputs[0]!;
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: x.shape, data: Float32Array.of(this.generation) }] };
  }
}

/** A factory building GenModels with increasing generations; `next` controls the following build. */
function generations() {
  const built: GenModel[] = [];
  const plan: { gate?: Promise<void>; fail?: string } = {};
  return {
    built,
    plan,
    factory: (name: string) => {
      const m = new GenModel(name, built.length + 1, plan.gate, plan.fail);
      built.push(m);
      return m;
    },
  };
}

/** Counts calls of the repository's load/unload (the HTTP requests that reached it). */
function countCalls(server: ModelServer) {
  const counts = { load: 0, unload: 0 };
  const repo = server.repository;
  const load = repo.load.bind(repo);
  const unload = repo.unload.bind(repo);
  repo.load = (name) => {
    counts.load++;
    return load(name);
  };
  repo.unload = (name) => {
    counts.unload++;
    return unload(name);
  };
  return {
    reach: async (op: 'load' | 'unload', n: number) => {
      while (counts[op] < n) await new Promise((r) => setTimeout(r, 5));
    },
  };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serverWith(gens: ReturnType<typeof generations>): Promise<{ server: ModelServer; base: string }> {
  const server = await startServer([gens.factory('m')], { enableGrpc: false }, (s) => {
    s.repository.factory = gens.factory;
  });
  cleanups.push(() => server.stop());
  return { server, base: `http://127.0.0.1:${server.httpPort}` };
}

const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [0] }] });
async function generation(base: string): Promise<number> {
  const r = await fetch(`${base}/v2/models/m/infer`, { method: 'POST', body });
  expect(r.status).toBe(200);
  return ((await r.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data[0]!;
}
const post = (url: string, json?: unknown) =>
  fetch(url, { method: 'POST', ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
const index = async (base: string) => (await (await post(`${base}/v2/repository/index`)).json()) as unknown[];

describe('V2 repository load of a loaded model', () => {
  it('reloads it: the old one serves until the new one loaded, then is disposed once', async () => {
    const gens = generations();
    const { base } = await serverWith(gens);
    expect(await generation(base)).toBe(1);
    let open!: () => void;
    gens.plan.gate = new Promise((r) => {
      open = r;
    });
    const loading = post(`${base}/v2/repository/models/m/load`);
    while (gens.built.length < 2) await new Promise((r) => setTimeout(r, 5));
    // Loading the new instance: the old one keeps answering, readiness stays true.
    expect(await generation(base)).toBe(1);
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
    expect(await index(base)).toEqual([{ name: 'm', state: 'READY' }]);
    open();
    expect((await loading).status).toBe(200);
    expect(await generation(base)).toBe(2);
    expect(gens.built.map((m) => [m.loads, m.unloads])).toEqual([
      [1, 1],
      [1, 0],
    ]);
  });

  it('disposes the replaced model only after its in-flight request finished', async () => {
    const gens = generations();
    const { base } = await serverWith(gens);
    const old = gens.built[0]!;
    let release!: () => void;
    old.hold = new Promise((r) => {
      release = r;
    });
    const entered = new Promise<void>((r) => {
      old.entered = r;
    });
    const inflight = fetch(`${base}/v2/models/m/infer`, { method: 'POST', body });
    await entered;
    const reload = post(`${base}/v2/repository/models/m/load`);
    while (gens.built.length < 2 || !gens.built[1]!.ready) await new Promise((r) => setTimeout(r, 5));
    expect(await generation(base)).toBe(2); // new requests go to the new model at once
    expect(old.unloads).toBe(0); // the old one still has a request
    release();
    expect((await inflight).status).toBe(200);
    expect((await reload).status).toBe(200);
    expect(old.unloads).toBe(1);
  });

  it('a failed reload keeps the loaded model serving and disposes the failed one', async () => {
    const gens = generations();
    const { base } = await serverWith(gens);
    gens.plan.fail = 'weights.bin is truncated';
    const r = await post(`${base}/v2/repository/models/m/load`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: string }).error).toMatch(/weights\.bin is truncated.*keeps serving/);
    expect(await generation(base)).toBe(1);
    expect(gens.built[1]!.unloads).toBe(1);
    expect(gens.built[0]!.unloads).toBe(0);
  });

  it('parallel loads coalesce into one reload; parallel unloads unload once', async () => {
    const gens = generations();
    const { server, base } = await serverWith(gens);
    const calls = countCalls(server);
    let open!: () => void;
    gens.plan.gate = new Promise((r) => {
      open = r;
    });
    const loads = Promise.all([1, 2, 3, 4].map(() => post(`${base}/v2/repository/models/m/load`)));
    await calls.reach('load', 4); // all four arrived while the first one is still loading
    open();
    expect((await loads).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(gens.built).toHaveLength(2);

    // Hold a request on the model: the unload waits for it, so all four unloads arrive meanwhile.
    const model = gens.built[1]!;
    let release!: () => void;
    model.hold = new Promise((r) => {
      release = r;
    });
    const entered = new Promise<void>((r) => {
      model.entered = r;
    });
    const inflight = fetch(`${base}/v2/models/m/infer`, { method: 'POST', body });
    await entered;
    const unloads = Promise.all([1, 2, 3, 4].map(() => post(`${base}/v2/repository/models/m/unload`)));
    await calls.reach('unload', 4);
    release();
    expect((await inflight).status).toBe(200);
    expect((await unloads).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(gens.built.map((m) => m.unloads)).toEqual([1, 1]);
    // Unloading an unloaded model again is fine and unloads nothing.
    expect((await post(`${base}/v2/repository/models/m/unload`)).status).toBe(200);
    expect(gens.built.map((m) => m.unloads)).toEqual([1, 1]);
  });
});

describe('unloaded models', () => {
  it('stay in the index as UNAVAILABLE with reason "unloaded"; inference and ready answer 503', async () => {
    const gens = generations();
    const { base } = await serverWith(gens);
    expect((await post(`${base}/v2/repository/models/m/unload`)).status).toBe(200);
    expect(await index(base)).toEqual([{ name: 'm', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    const infer = await fetch(`${base}/v2/models/m/infer`, { method: 'POST', body });
    expect(infer.status).toBe(503);
    expect(infer.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${base}/v2/models/m/ready`)).status).toBe(503);
    expect((await post(`${base}/v2/repository/models/m/load`)).status).toBe(200);
    expect(await generation(base)).toBe(2);
  });
});

describe('load parameters', () => {
  it("refuses Triton's parameters.config (invalid JSON, not a string, or a valid override) and file: contents with 400", async () => {
    const gens = generations();
    const { base } = await serverWith(gens);
    const load = async (json: unknown) => {
      const r = await post(`${base}/v2/repository/models/m/load`, json);
      return { status: r.status, error: ((await r.json()) as { error?: string }).error };
    };
    expect(await load({ parameters: { config: '{"max_batch_size": ' } })).toMatchObject({
      status: 400,
      error: expect.stringMatching(/"config" is not valid JSON/),
    });
    expect(await load({ parameters: { config: { max_batch_size: 8 } } })).toMatchObject({
      status: 400,
      error: expect.stringMatching(/"config" must be a JSON string/),
    });
    expect(await load({ parameters: { config: '{"max_batch_size": 8}' } })).toMatchObject({
      status: 400,
      error: expect.stringMatching(/"config" is not supported/),
    });
    expect(await load({ parameters: { 'file:1/model.onnx': 'AAAA' } })).toMatchObject({
      status: 400,
      error: expect.stringMatching(/"file:1\/model\.onnx" is not supported/),
    });
    expect(await load([1])).toMatchObject({ status: 400 });
    expect(gens.built).toHaveLength(1); // nothing was (re)loaded
    expect(await load({ parameters: {} })).toMatchObject({ status: 200 });
    expect(gens.built).toHaveLength(2);
  });
});

describe('ModelReady', () => {
  it('is false (503, ready: false) for an unknown version of a known model; 404 for an unknown model', async () => {
    const gens = generations();
    const { base } = await serverWith(gens);
    const r = await fetch(`${base}/v2/models/m/versions/7/ready`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ name: 'm', ready: false });
    expect((await fetch(`${base}/v2/models/nope/ready`)).status).toBe(404);
  });
});
