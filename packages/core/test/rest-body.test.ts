// Request bodies are checked against their declared size before a byte of them is read: a client that declares
// too large a body gets its 413 while it has sent only the headers. Smaller bodies (plain, binary, gzip) still arrive.
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../src/server/model-server.js';
import { EchoModel, startServer } from './helpers.js';

const MAX_BODY = 4 * 1024 * 1024;
const MAX_JSON = 1024 * 1024;

/** Send only a request head (no body) on a raw socket; resolves with the answer's head and body text. */
function headOnly(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += String(chunk);
      const end = text.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? Number.NaN);
      if (end >= 0 && text.length >= end + 4 + length) {
        socket.destroy();
        resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4) });
      }
    });
    socket.on('error', reject);
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`POST /v2/models/echo/infer HTTP/1.1\r\nhost: x\r\n${lines.join('')}\r\n`);
  });
}

describe('request bodies checked before reading', () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startServer([new EchoModel('echo')], {
      maxBodySize: MAX_BODY,
      limits: { maxJsonBodySize: MAX_JSON, maxDecodedBytes: 2 * MAX_BODY },
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a plain JSON body declared over the JSON limit → 413 naming the flag, with only the head sent', async () => {
    const r = await headOnly(server.httpPort, {
      'content-type': 'application/json',
      'content-length': String(MAX_JSON + 1),
    });
    expect(r.status).toBe(413);
    expect(r.head).toMatch(/content-type: application\/json\r\n/i);
    expect(JSON.parse(r.body).error).toContain('--max_json_body_size');
  });

  it('a binary-extension body declared over the body limit → 413, with only the head sent', async () => {
    const r = await headOnly(server.httpPort, {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': '10',
      'content-length': String(MAX_BODY + 1),
    });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error).toMatch(/larger than the limit/);
  });

  it('bodies within the limits arrive whole: plain JSON, gzip, and JSON + binary', async () => {
    const url = `http://127.0.0.1:${server.httpPort}/v2/models/echo/infer`;
    const json = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1.5, 2.5] }] });
    const plain = await fetch(url, { method: 'POST', body: json, headers: { 'content-type': 'application/json' } });
    const gz = await fetch(url, { method: 'POST', body: gzipSync(json), headers: { 'content-encoding': 'gzip' } });
    for (const r of [plain, gz]) {
      expect(r.status).toBe(200);
      expect(((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([1.5, 2.5]);
    }
    const head = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }] }),
    );
    const bin = await fetch(url, {
      method: 'POST',
      body: Buffer.concat([head, Buffer.from(Float32Array.of(3, 4).buffer)]),
      headers: { 'inference-header-content-length': String(head.byteLength) },
    });
    expect(bin.status).toBe(200);
    expect(((await bin.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([3, 4]);
  });

  it('every Content-Type reaches the same reader: named ones, with parameters, unknown, none', async () => {
    const url = `http://127.0.0.1:${server.httpPort}/v2/models/echo/infer`;
    const json = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1.5, 2.5] }] });
    const types = [
      'application/json',
      'application/json; charset=utf-8',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/vnd.example+json',
      undefined,
    ];
    for (const type of types) {
      // Twice: the second request of a type is served from fastify's parser cache.
      for (let i = 0; i < 2; i++) {
        const body = new Blob([json]); // a Blob carries no Content-Type of its own
        const r = await fetch(url, { method: 'POST', body, headers: type ? { 'content-type': type } : {} });
        expect(r.status, String(type)).toBe(200);
        expect(((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([1.5, 2.5]);
      }
      // ... and gets the JSON limit checked before its body is read.
      const big = await headOnly(server.httpPort, {
        ...(type ? { 'content-type': type } : {}),
        'content-length': String(MAX_JSON + 1),
      });
      expect(big.status, String(type)).toBe(413);
    }
  });
});
