// Errors fastify raises before routing (an over-long path parameter, a URL that does not decode) answer like every
// other error: `{"error": …}` as exactly application/json, without echoing the client's URL.
import type { ModelServer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoModel, startServer } from './helpers.js';

let server: ModelServer;
let base: string;

beforeAll(async () => {
  server = await startServer([new EchoModel('echo')], { enableGrpc: false });
  base = `http://127.0.0.1:${server.httpPort}`;
});
afterAll(() => server.stop());

describe('framework errors', () => {
  it('answers an over-long path parameter with 414 and a short {"error"} body, not the 10k URL', async () => {
    const name = 'a'.repeat(10_000);
    for (const path of [`/v2/models/${name}/ready`, `/v2/models/${name}/infer`, `/v1/models/${name}`]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(414);
      expect(res.headers.get('content-type')).toBe('application/json');
      const text = await res.text();
      expect(text.length).toBeLessThan(300);
      expect(text).not.toContain('aaaaaaaaaa');
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toMatch(/longer than 100 characters/);
    }
  });

  it('answers a URL that does not percent-decode with 400 and an {"error"} body', async () => {
    const res = await fetch(`${base}/v2/models/%E0%A4%A/ready`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: 'The URL has a path segment that is not valid percent-encoded UTF-8.' });
  });

  it('still serves names up to the limit', async () => {
    const res = await fetch(`${base}/v2/models/${'b'.repeat(100)}/ready`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
  });
});
