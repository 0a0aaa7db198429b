// 200 concurrent mixed requests over REST (JSON, binary, V1) and gRPC against a batching server; every
// answer must equal the unbatched server's answer for the same request.
import { GrpcClient, RestClient } from '@servekit/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../src/model/model.js';
import {
  type InferRequest,
  type InferResponse,
  isInferRequest,
  type Payload,
  type Result,
  type V1Request,
} from '../src/protocols/infer-types.js';
import type { ModelServer } from '../src/server/model-server.js';
import { plainOutputs, startServer } from './helpers.js';

/** Row-wise real compute: y[r] = W·x[r] + r-independent bias, so any mis-split shows up. Works for any width. */
class RowModel extends Model {
  batches: number[] = [];

  constructor(
    name: string,
    private readonly delayMs = 0,
  ) {
    super(name);
  }

  override async predict(payload: Payload): Promise<Result> {
    // Take some time off the event loop, like a real engine, so requests queue behind a running batch.
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (!isInferRequest(payload)) {
      const rows = (payload as V1Request).instances as number[][];
      this.batches.push(rows.length);
      return { predictions: rows.map((r) => r.reduce((s, v, i) => s + v * (i + 1), 0.5)) };
    }
    const x = payload.inputs[0]!;
    const [n, w] = [x.shape[0]!, x.shape[1]!];
    this.batches.push(n);
    const data = x.data as Float32Array;
    const y = new Float32Array(n * 2);
    for (let r = 0; r < n; r++) {
      let a = 0;
      let b = 0;
      for (let i = 0; i < w; i++) {
        a += data[r * w + i]! * (i + 1);
        b += data[r * w + i]! * data[r * w + i]!;
      }
      y[r * 2] = a + 0.5;
      y[r * 2 + 1] = b;
    }
    return { model_name: this.name, outputs: [{ name: 'y', datatype: 'FP32', shape: [n, 2], data: y }] };
  }
}

function request(i: number): InferRequest {
  const rows = 1 + (i % 3);
  const width = i % 2 === 0 ? 3 : 5; // two incompatible shapes → separate batches
  const data = Float32Array.from({ length: rows * width }, (_, k) => ((i * 7 + k) % 11) - 5);
  return { id: `req-${i}`, inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, width], data }] };
}

describe('batching over the wire', () => {
  let batched: ModelServer;
  let plainServer: ModelServer;
  const model = new RowModel('rows');
  beforeAll(async () => {
    batched = await startServer([model], {
      batching: { maxBatchSize: 16, maxLatencyMs: 5, maxInflightBatches: 1, maxQueueSize: 10_000 },
    });
    plainServer = await startServer([new RowModel('rows')]);
  });
  afterAll(async () => {
    await batched.stop();
    await plainServer.stop();
  });

  it('answers 200 concurrent mixed REST/gRPC/V1 requests exactly like the unbatched server', async () => {
    const rest = new RestClient({ baseUrl: `http://127.0.0.1:${batched.httpPort}` });
    const grpc = new GrpcClient({ address: `127.0.0.1:${batched.grpcPort}` });
    const reference = new RestClient({ baseUrl: `http://127.0.0.1:${plainServer.httpPort}` });
    try {
      const calls = Array.from({ length: 200 }, async (_, i) => {
        const req = request(i);
        switch (i % 4) {
          case 0:
            return { i, got: await rest.infer('rows', req), want: await reference.infer('rows', req) };
          case 1:
            return {
              i,
              got: await rest.infer('rows', req, { binary: true, binaryOutputs: true }),
              want: await reference.infer('rows', req),
            };
          case 2:
            return { i, got: await grpc.infer('rows', req), want: await reference.infer('rows', req) };
          default: {
            const x = req.inputs[0]!;
            const w = x.shape[1]!;
            const instances = Array.from({ length: x.shape[0]! }, (_, r) =>
              Array.from((x.data as Float32Array).subarray(r * w, (r + 1) * w)),
            );
            return {
              i,
              got: await rest.v1Predict('rows', { instances }),
              want: await reference.v1Predict('rows', { instances }),
            };
          }
        }
      });
      const results = await Promise.all(calls);
      for (const { i, got, want } of results) {
        if (i % 4 === 3) {
          expect(got, `request ${i}`).toEqual(want);
        } else {
          expect((got as InferResponse).id, `request ${i}`).toBe(`req-${i}`);
          expect(plainOutputs(got as InferResponse), `request ${i}`).toEqual(plainOutputs(want as InferResponse));
        }
      }
      // Batching really happened: fewer model calls than requests, and some batch held several requests.
      expect(model.batches.length).toBeLessThan(200);
      expect(Math.max(...model.batches)).toBeGreaterThan(3);
      const metrics = await (await fetch(`http://127.0.0.1:${batched.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/servekit_batch_size_count\{model_name="rows"\} \d+/);
    } finally {
      rest.close();
      grpc.close();
      reference.close();
    }
  });

  it('answers 503 with Retry-After when the batch queue is full, and serves again after', async () => {
    const server = await startServer([new RowModel('rows', 100)], {
      batching: { maxBatchSize: 2, maxLatencyMs: 1, maxInflightBatches: 1, maxQueueSize: 4 },
    });
    try {
      const url = `http://127.0.0.1:${server.httpPort}/v2/models/rows/infer`;
      const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
      const responses = await Promise.all(Array.from({ length: 12 }, () => fetch(url, { method: 'POST', body })));
      const statuses = responses.map((r) => r.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      const rejected = responses.find((r) => r.status === 503)!;
      expect(rejected.headers.get('retry-after')).toBe('1');
      expect(((await rejected.json()) as { error: string }).error).toMatch(/overloaded/);
      const again = await fetch(url, { method: 'POST', body });
      expect(again.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
