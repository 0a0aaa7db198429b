// Inference answers go out as JSON text with the content type exactly `application/json` (KServe's Python client
// checks it) and a content length that is the UTF-8 byte length of the body, multi-byte characters included.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../src/server/model-server.js';
import { EchoModel, startServer } from './helpers.js';

/** POST `body` and read the raw answer: status, headers and the exact bytes received. */
function post(
  port: number,
  path: string,
  body: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const TEXT = 'héllo € ✓ 𝄞';

describe('JSON answers of the inference routes', () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startServer([new EchoModel('echo')]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('V2 infer: exactly application/json, content-length the UTF-8 byte length of multi-byte text', async () => {
    const body = JSON.stringify({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: [TEXT] }] });
    const r = await post(server.httpPort, '/v2/models/echo/infer', body);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(Number(r.headers['content-length'])).toBe(r.bytes.byteLength);
    expect(r.bytes.byteLength).toBeGreaterThan(r.bytes.toString('utf8').length); // multi-byte characters were sent
    const answer = JSON.parse(r.bytes.toString('utf8')) as { outputs: { data: string[] }[] };
    expect(answer.outputs[0]!.data).toEqual([TEXT]);
  });

  it('V1 predict: exactly application/json with the right content-length', async () => {
    const r = await post(server.httpPort, '/v1/models/echo:predict', JSON.stringify({ instances: [[1, 2]] }));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(Number(r.headers['content-length'])).toBe(r.bytes.byteLength);
    expect(JSON.parse(r.bytes.toString('utf8'))).toHaveProperty('predictions');
  });

  it('errors and the 404: exactly application/json with the right content-length', async () => {
    for (const path of ['/v2/models/missing/infer', '/nowhere/€']) {
      const r = await post(server.httpPort, encodeURI(path), '{}');
      expect(r.headers['content-type']).toBe('application/json');
      expect(Number(r.headers['content-length'])).toBe(r.bytes.byteLength);
      expect(JSON.parse(r.bytes.toString('utf8'))).toHaveProperty('error');
    }
  });
});
