// `servekit serve --log_url …`: the real binary logs inference requests and responses to a CloudEvents receiver on
// loopback, and SIGTERM sends the events still queued (the receiver holds them until after the signal) before exit.
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogReceiver } from '../../core/test/log-receiver.js';
import { ROOT, serve } from './cli-process.js';

const MODULE = join(ROOT, 'packages/cli/test/fixtures/sleep-model.mjs');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('servekit serve --log_url', () => {
  it('logs each request and response; SIGTERM flushes the queued events before exit 0', async () => {
    const receiver = new LogReceiver();
    const url = await receiver.start();
    cleanups.push(() => receiver.close());
    let release = () => {};
    receiver.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = await serve(['--model_module', MODULE, '--model_name', 'sleep', '--log_url', url, '--log_senders', '1'], {
      SLEEP_MS: '0',
      SERVEKIT_LOG_HEADERS: 'x-user-id',
      SERVEKIT_LOG_INFERENCE_SERVICE: 'sleepy',
    });
    cleanups.push(() => r.proc.exitCode === null && r.proc.kill('SIGKILL'));
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${r.base}/v2/models/sleep/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': `req-${i}`, 'x-user-id': 'u' },
        body,
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(receiver.events).toHaveLength(0);
    const exited = once(r.proc, 'exit');
    r.proc.kill('SIGTERM');
    release();
    const [code] = await exited;
    expect(code).toBe(0);
    expect(receiver.events).toHaveLength(6);
    for (let i = 0; i < 3; i++) {
      const request = receiver.find(`req-${i}`, 'request');
      expect(request.body.toString()).toBe(body);
      expect(request.headers['ce-inferenceservicename']).toBe('sleepy');
      expect(request.headers['ce-metadata']).toBe('{"X-User-Id":["u"]}');
      receiver.find(`req-${i}`, 'response');
    }
  });
});
