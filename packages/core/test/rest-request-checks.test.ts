// Reproductions of the REST attack run (issue #18): every JSON value is decoded and checked before a model sees it,
// bodies are bounded (depth, size, inflation, decoded bytes), errors never leak internals, KServe clients interoperate.
import { Writable } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clip, InferenceError, InvalidInput, ModelNotFound, ModelNotReady, redactPaths } from '../src/errors.js';
import { Model, type ModelMetadata } from '../src/model/model.js';
import { type InferRequest, isInferRequest, type Payload, type Result } from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { EchoModel, startServer, ThrowingModel } from './helpers.js';

/**
 * iris_logreg's stand-in: one FP64 input [-1, 4]; answers per-row sums. It reads the data as a typed array, as
 * every prebuilt model does, so a JSON value passed through undecoded shows up as a wrong answer or a crash.
 */
class RowSumModel extends Model {
  override predict(payload: Payload): Result {
    if (!isInferRequest(payload)) throw new InvalidInput('RowSumModel takes tensors.');
    const t = payload.inputs[0]!;
    const rows = t.shape[0] ?? 1;
    const data = t.data as Float64Array;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < 4; c++) out[r]! += data[r * 4 + c]!;
    return {
      model_name: this.name,
      outputs: [
        { name: 'sum', datatype: 'FP64', shape: [rows], data: out },
        { name: 'kind', datatype: 'BYTES', shape: [1], data: [data.constructor.name] },
      ],
    };
  }

  override metadata(): ModelMetadata {
    return {
      name: this.name,
      platform: 'custom',
      inputs: [{ name: 'input-0', datatype: 'FP64', shape: [-1, 4] }],
      outputs: [{ name: 'sum', datatype: 'FP64', shape: [-1] }],
    };
  }
}

/** Two declared inputs, "a" and "b"; answers the names it was given. */
class TwoInputModel extends Model {
  override predict(payload: Payload): Result {
    const names = (payload as InferRequest).inputs.map((t) => t.name);
    return {
      model_name: this.name,
      outputs: [{ name: 'names', datatype: 'BYTES', shape: [names.length], data: names }],
    };
  }

  override metadata(): ModelMetadata {
    return {
      name: this.name,
      platform: 'custom',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [-1] },
        { name: 'b', datatype: 'FP32', shape: [-1] },
      ],
      outputs: [{ name: 'names', datatype: 'BYTES', shape: [-1] }],
    };
  }
}

/** Answers INT64 and UINT64 values beyond 2^53 (V2), or as V1 predictions. */
class BigIntModel extends Model {
  override predict(payload: Payload): Result {
    return {
      model_name: this.name,
      outputs: [
        {
          name: 'i64',
          datatype: 'INT64',
          shape: [3],
          data: BigInt64Array.of(2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n),
        },
        ...(isInferRequest(payload)
          ? [{ name: 'u64', datatype: 'UINT64' as const, shape: [1], data: BigUint64Array.of(2n ** 64n - 1n) }]
          : []),
      ],
    };
  }
}

/** Fails with messages holding absolute paths and JS internals. */
class LeakyModel extends Model {
  override predict(payload: Payload): Result {
    const kind = (payload as InferRequest).inputs?.[0]?.name;
    if (kind === 'servekit')
      throw new InferenceError(`no model file in /etc/xml/catalog or ${process.cwd()}/models/x.onnx`);
    const nothing = null as unknown as { weights: number[] };
    return { predictions: nothing.weights };
  }
}

/** Answers with plain JSON lists as tensor data (what a V1 predictor's `outputs` or a hand-written model gives). */
class PlainListModel extends Model {
  override predict(payload: Payload): Result {
    const bad = isInferRequest(payload) && payload.inputs[0]?.name === 'bad';
    const data = bad ? [1, 2, 3] : [1.5, 2.5];
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: [2], data }] } as unknown as Result;
  }
}

/** Fails to load with a message quoting an absolute path. */
class PathLoadModel extends Model {
  override load(): void {
    throw new Error('no model file in /etc/xml/models');
  }

  override predict(): Result {
    return { predictions: [] };
  }
}

const MAX_BODY = 4 * 1024 * 1024;
const logLines: string[] = [];
let server: ModelServer;
let base: string;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  server = await startServer(
    [
      new RowSumModel('iris_logreg'),
      new TwoInputModel('two'),
      new EchoModel('echo'),
      new BigIntModel('big'),
      new LeakyModel('leaky'),
      new ThrowingModel('thrower'),
      new PlainListModel('plain'),
      new PathLoadModel('pathload'),
    ],
    {
      maxBodySize: MAX_BODY,
      limits: { maxJsonBodySize: 1024 * 1024, maxDecodedBytes: 2 * 1024 * 1024 },
      logger: pino({ level: 'info' }, sink),
    },
  );
  base = `http://127.0.0.1:${server.httpPort}`;
});

afterAll(async () => {
  await server.stop();
});

interface Answer {
  status: number;
  type: string | null;
  text: string;
  error?: string;
  json?: unknown;
}

async function post(path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(`${base}${path}`, { method: 'POST', body, headers });
  return answer(r);
}

async function answer(r: Response): Promise<Answer> {
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const error = (json as { error?: string } | undefined)?.error;
  return { status: r.status, type: r.headers.get('content-type'), text, json, error };
}

const v1 = (model: string, body: unknown) => post(`/v1/models/${model}:predict`, JSON.stringify(body));
const v2 = (model: string, body: unknown) => post(`/v2/models/${model}/infer`, JSON.stringify(body));
const irisInput = (data: unknown, shape: unknown = [1, 4], datatype = 'FP64') => ({
  inputs: [{ name: 'input-0', datatype, shape, data }],
});

describe('V1 columnar "inputs" go through the V2 decoder and checks', () => {
  it('a data object claiming a billion elements → 400 at once, memory bounded', async () => {
    const before = process.memoryUsage().rss;
    const r = await v1('iris_logreg', irisInput({ length: 50_000_000 }));
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "input-0": shape [1,4] needs 4 elements but data has 1.');
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('more data than the shape → 400 naming both counts', async () => {
    const r = await v1('iris_logreg', irisInput([1, 2, 3, 4, 5]));
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "input-0": shape [1,4] needs 4 elements but data has 5.');
  });

  it('data null → 400, not a JS TypeError', async () => {
    const r = await v1('iris_logreg', irisInput(null));
    expect(r.status).toBe(400);
    expect(r.error).toContain('Input "input-0"');
    expect(r.error).not.toContain('is not a function');
  });

  it('strings for FP64 → 400 naming the value (not a 200 computed on NaN)', async () => {
    const r = await v1('iris_logreg', irisInput(['a', 'b', 'c', 'd']));
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "input-0": value "a" is not a valid FP64.');
  });

  it('a bad shape or datatype → 400', async () => {
    expect((await v1('iris_logreg', irisInput([1, 2, 3, 4], [1, -4]))).status).toBe(400);
    expect((await v1('iris_logreg', irisInput([1, 2, 3, 4], [1, 4], 'FP128'))).status).toBe(400);
  });

  it('valid columnar tensors reach the model as typed arrays and answer as V1', async () => {
    const r = await v1('iris_logreg', irisInput([[1, 2, 3, 4]]));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ predictions: [{ sum: 10, kind: 'Float64Array' }] });
  });

  it('instances and non-tensor inputs stay a V1 body', async () => {
    const r = await v1('echo', { instances: [[1, 2]] });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ predictions: [[1, 2]] });
  });
});

describe('JSON depth', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

  it('V1 instances nested 6000 deep → 400 naming the limit (not a stack overflow)', async () => {
    const r = await post('/v1/models/echo:predict', `{"instances": ${nested(6000)}}`);
    expect(r.status).toBe(400);
    expect(r.error).toContain('--max_json_depth');
  });

  it('V2 data nested 10000 deep → 400 naming the limit', async () => {
    const body = `{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":${nested(10_000)}}]}`;
    const r = await post('/v2/models/echo/infer', body);
    expect(r.status).toBe(400);
    expect(r.error).toContain('--max_json_depth');
  });

  it('brackets inside strings do not count', async () => {
    const r = await v2('echo', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['['.repeat(500)] }] });
    expect(r.status).toBe(200);
  });

  it('nesting within the limit decodes', async () => {
    const r = await post(
      '/v2/models/echo/infer',
      `{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":${nested(50)}}]}`,
    );
    expect(r.status).toBe(200);
    expect((r.json as { outputs: Array<{ data: number[] }> }).outputs[0]!.data).toEqual([1]);
  });
});

describe('shapes', () => {
  const cases: Array<[string, unknown]> = [
    ['a 0 dim next to a dim ≥ 2^53', [0, 2 ** 53]],
    ['a negative dim', [-1]],
    ['a fractional dim', [1.5]],
    ['a string dim', ['4']],
    ['an overflowing product', [2 ** 30, 2 ** 30, 2 ** 30]],
    ['not a list', 4],
  ];
  for (const [what, shape] of cases) {
    it(`${what} → 400`, async () => {
      const r = await v2('echo', { inputs: [{ name: 'x', datatype: 'FP32', shape, data: [] }] });
      expect(r.status).toBe(400);
      expect(r.error).toContain('Input "x"');
    });
  }

  it('a 0 dim with valid neighbours is an empty tensor', async () => {
    const r = await v2('echo', { inputs: [{ name: 'x', datatype: 'FP32', shape: [0, 4], data: [] }] });
    expect(r.status).toBe(200);
  });
});

describe('64-bit integers in JSON', () => {
  it('V2 outputs beyond 2^53 are written as exact integers', async () => {
    const r = await v2('big', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(r.status).toBe(200);
    expect(r.text).toContain('"data":[9223372036854775807,-9223372036854775808,9007199254740993]');
    expect(r.text).toContain('"data":[18446744073709551615]');
  });

  it('V1 predictions beyond 2^53 are exact too', async () => {
    const r = await v1('big', { instances: [1] });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"predictions":[9223372036854775807,-9223372036854775808,9007199254740993]}');
  });

  it('V2 INT64/UINT64 JSON numbers beyond 2^53 are read exactly from the text', async () => {
    const body =
      '{"inputs":[{"name":"n","datatype":"INT64","shape":[3],"data":[9007199254740993,-9223372036854775808,9223372036854775807]},' +
      '{"name":"u","datatype":"UINT64","shape":[1],"data":[[18446744073709551615]]}]}';
    const ok = await post('/v2/models/echo/infer', body);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('"data":[9007199254740993,-9223372036854775808,9223372036854775807]');
    expect(ok.text).toContain('"data":[18446744073709551615]');
    const over = await post(
      '/v2/models/echo/infer',
      '{"inputs":[{"name":"n","datatype":"INT64","shape":[1],"data":[9223372036854775808]}]}',
    );
    expect(over.status).toBe(400);
    expect(over.error).toContain('Input "n"');
  });

  it('where the text is not at hand (V1 columnar tensors) such a number → 400, never rounded; a string is exact', async () => {
    const bad = await post(
      '/v1/models/echo:predict',
      '{"inputs":[{"name":"n","datatype":"INT64","shape":[1],"data":[9007199254740993]}]}',
    );
    expect(bad.status).toBe(400);
    expect(bad.error).toContain('beyond 2^53');
    const ok = await v2('echo', {
      inputs: [{ name: 'n', datatype: 'INT64', shape: [2], data: ['9007199254740993', 5] }],
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('"data":[9007199254740993,5]');
  });
});

describe('binary extension header', () => {
  for (const value of ['0x68', '1e2', '10 4', '+5', '-1', '3.0']) {
    it(`Inference-Header-Content-Length "${value}" → 400`, async () => {
      const json = '{"inputs":[]}';
      const r = await post('/v2/models/echo/infer', json + 'x'.repeat(200), {
        'inference-header-content-length': value,
      });
      expect(r.status).toBe(400);
      expect(r.error).toContain('Inference-Header-Content-Length');
    });
  }
});

describe('input names', () => {
  const x = (name: string) => ({ name, datatype: 'FP32', shape: [1], data: [1] });

  it('a duplicate input name → 400 naming it', async () => {
    const r = await v2('two', { inputs: [x('a'), x('a')] });
    expect(r.status).toBe(400);
    expect(r.error).toBe('Input "a" appears more than once in the request.');
  });

  it('a name the multi-input model does not declare → 400 naming it and listing its inputs', async () => {
    const r = await v2('two', { inputs: [x('a'), x('c')] });
    expect(r.status).toBe(400);
    expect(r.error).toBe('Model two has no input "c" (its inputs: a, b).');
  });

  it('the same checks on V1 columnar tensors', async () => {
    const r = await v1('two', { inputs: [x('a'), x('zz')] });
    expect(r.status).toBe(400);
    expect(r.error).toContain('no input "zz"');
  });

  it('declared names pass; a single-input model takes any name', async () => {
    expect((await v2('two', { inputs: [x('b'), x('a')] })).status).toBe(200);
    const one = await v2('iris_logreg', {
      inputs: [{ name: 'whatever', datatype: 'FP64', shape: [1, 4], data: [1, 1, 1, 1] }],
    });
    expect(one.status).toBe(200);
  });
});

describe('error messages', () => {
  it('a model that throws a JS error → 500 naming the model; the JS message only in the log', async () => {
    const r = await v1('leaky', { instances: [1] });
    expect(r.status).toBe(500);
    expect(r.error).toBe('Model leaky failed to process the request (details are in the server log).');
    expect(r.text).not.toContain('Cannot read properties');
    expect(logLines.join('')).toContain('Cannot read properties of null');
  });

  it('absolute paths never reach the client', async () => {
    const r = await v2('leaky', { inputs: [{ name: 'servekit', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(r.status).toBe(500);
    expect(r.error).toBe('no model file in …/catalog or models/x.onnx');
    expect(r.text).not.toContain('/etc/');
    expect(r.text).not.toContain(process.cwd());
  });

  it('echoed tensor names are clipped', async () => {
    const long = 'm'.repeat(100_000);
    const tensor = await v2('echo', { inputs: [{ name: long, datatype: 'FP32', shape: [2], data: [1] }] });
    expect(tensor.status).toBe(400);
    expect(tensor.text.length).toBeLessThan(1000);
    expect(tensor.error).toContain('(100000 chars)');
    const dup = await v2('echo', {
      inputs: [
        { name: long, datatype: 'FP32', shape: [1], data: [1] },
        { name: long, datatype: 'FP32', shape: [1], data: [1] },
      ],
    });
    expect(dup.status).toBe(400);
    expect(dup.text.length).toBeLessThan(1000);
  });

  it('echoed model names are clipped (names too long for a URL never reach a route)', () => {
    expect(new ModelNotFound('m'.repeat(100_000)).message.length).toBeLessThan(400);
    expect(new ModelNotReady('m'.repeat(100_000)).message.length).toBeLessThan(400);
    expect(clip('abc', 2)).toBe('ab…(3 chars)');
  });
});

describe('model outputs', () => {
  it('plain JSON lists as output data are decoded and checked (V2 and V1)', async () => {
    const x = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] };
    const r = await v2('plain', x);
    expect(r.status).toBe(200);
    expect((r.json as { outputs: Array<{ data: number[] }> }).outputs[0]!.data).toEqual([1.5, 2.5]);
    expect((await v1('plain', { instances: [1] })).json).toEqual({ predictions: [1.5, 2.5] });
  });

  it('output data that does not fit its shape → 500 naming the output, not a JS error', async () => {
    const r = await v2('plain', { inputs: [{ name: 'bad', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(r.status).toBe(500);
    expect(r.error).toContain('Output "y" is not a valid FP32 tensor');
  });

  it('load failures quoting absolute paths reach clients without them (503 and the repository index)', async () => {
    const r = await v2('pathload', { inputs: [] });
    expect(r.status).toBe(503);
    expect(r.error).toContain('no model file in …/models');
    expect(r.text).not.toContain('/etc/');
    const index = await post('/v2/repository/index', '');
    expect(index.text).toContain('…/models');
    expect(index.text).not.toContain('/etc/');
  });
});

describe('redactPaths', () => {
  it('relativizes paths under the working directory and cuts others to their last segment', () => {
    expect(redactPaths('no model file in /etc/xml', '/srv/app')).toBe('no model file in …/xml');
    expect(redactPaths('bad file /srv/app/models/a.onnx here', '/srv/app')).toBe('bad file models/a.onnx here');
    expect(redactPaths('C:\\models\\x.onnx missing', '/srv')).toBe('…/x.onnx missing');
  });

  it('leaves URLs, routes after a host and single segments alone', () => {
    const m = 'Predictor http://churn:8080/v1/models/x:predict answered 500; /tmp is full';
    expect(redactPaths(m, '/srv')).toBe(m);
  });
});

describe('KServe client interop', () => {
  it('GET / answers {"status": "alive"} (V1 is_server_live)', async () => {
    const r = await answer(await fetch(`${base}/`));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'alive' });
    expect(r.type).toBe('application/json');
  });

  it('error bodies are exactly application/json (400, 404, 413, 500, unknown route)', async () => {
    const answers = [
      await v2('echo', { inputs: 1 }),
      await v2('nope', { inputs: [] }),
      await post('/v2/models/echo/infer', 'x'.repeat(MAX_BODY + 1)),
      await v1('thrower', { instances: [1] }),
      await answer(await fetch(`${base}/v3/nothing`)),
    ];
    expect(answers.map((a) => a.status)).toEqual([400, 404, 413, 500, 404]);
    for (const a of answers) {
      expect(a.type).toBe('application/json');
      expect(typeof a.error).toBe('string');
    }
  });

  it('success bodies are application/json too', async () => {
    for (const path of ['/v2/health/live', '/v2', '/v1/models', '/v2/models/echo']) {
      const r = await fetch(`${base}${path}`);
      await r.arrayBuffer();
      expect(r.headers.get('content-type')).toBe('application/json');
    }
    expect((await v1('echo', { instances: [1] })).type).toBe('application/json');
    expect((await v2('echo', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] })).type).toBe(
      'application/json',
    );
  });
});

describe('Content-Encoding', () => {
  const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1.5, 2.5] }] });

  it('gzip and deflate bodies are inflated', async () => {
    for (const [coding, bytes] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
    ] as const) {
      const r = await post('/v2/models/echo/infer', bytes, { 'content-encoding': coding });
      expect(r.status).toBe(200);
      expect((r.json as { outputs: Array<{ data: number[] }> }).outputs[0]!.data).toEqual([1.5, 2.5]);
    }
    const one = await post('/v1/models/echo:predict', gzipSync('{"instances":[[1,2]]}'), {
      'content-encoding': 'gzip',
    });
    expect(one.json).toEqual({ predictions: [[1, 2]] });
  });

  it('a gzip bomb → 413 without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.byteLength).toBeLessThan(MAX_BODY);
    const before = process.memoryUsage().rss;
    const r = await post('/v2/models/echo/infer', bomb, { 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(r.error).toContain('--max_body_size');
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });

  it('an unknown encoding → 415; a corrupt gzip body → 400', async () => {
    const br = await post('/v2/models/echo/infer', body, { 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.error).toContain('"br"');
    const corrupt = await post('/v2/models/echo/infer', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
  });
});

describe('body budgets', () => {
  it('a JSON body over --max_json_body_size → 413 naming the flag', async () => {
    const data = Array.from({ length: 300_000 }, () => 1.25);
    const r = await v2('echo', { inputs: [{ name: 'x', datatype: 'FP64', shape: [data.length], data }] });
    expect(r.status).toBe(413);
    expect(r.error).toContain('--max_json_body_size');
  });

  it('a V1 body over --max_json_body_size → 413 before parsing', async () => {
    const rows = `[${new Array(120_000).fill('[5.1,3.5,1.4,0.2]').join(',')}]`;
    const r = await post('/v1/models/echo:predict', `{"instances":${rows}}`);
    expect(r.status).toBe(413);
    expect(r.error).toContain('--max_json_body_size');
  });

  it('the same tensor as binary data passes (the JSON limit covers the JSON part only)', async () => {
    const data = new Float64Array(200_000).fill(1.25);
    const json = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'x', datatype: 'FP64', shape: [data.length], parameters: { binary_data_size: data.byteLength } },
        ],
        outputs: [{ name: 'x', parameters: { binary_data: true } }],
      }),
    );
    const r = await post('/v2/models/echo/infer', Buffer.concat([json, Buffer.from(data.buffer)]), {
      'inference-header-content-length': String(json.byteLength),
    });
    expect(r.status).toBe(200);
  });

  it('decoded tensors over --max_decoded_bytes → 413 before allocating', async () => {
    // 2 MiB budget: two inputs of 150k FP64 decode to 2.4 MB, from 600 kB of JSON ("0," per element).
    const zeros = `[${new Array(150_000).fill(0).join(',')}]`;
    const input = (name: string) => `{"name":"${name}","datatype":"FP64","shape":[150000],"data":${zeros}}`;
    const r = await post('/v2/models/echo/infer', `{"inputs":[${input('a')},${input('b')}]}`);
    expect(r.status).toBe(413);
    expect(r.error).toContain('--max_decoded_bytes');
  });
});
