// `servekit serve` of a local ONNX model loads only what that model needs: no storage package (no --storage_uri), no
// HTTP/gRPC client (no transformer), no tree-model converter (only its format sniffer), no proto-loader (the gRPC
// service is registered from a fixed method table). Every module the server resolves until it is ready is recorded
// by a module.register resolve hook passed with NODE_OPTIONS=--import (dist build, as users run it). rf_iris holds a
// ZipMap: it is rewritten on the protobuf wire format, without protobufjs (loaded by no start-up path any more).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX, killAll, serve, stop } from './cli-process.js';

const REGISTER = `
import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
const out = process.env.SERVEKIT_TEST_IMPORTS;
writeFileSync(out, '');
const hooks = \`import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(\${JSON.stringify(out)}, r.url + '\\\\n');
  return r;
}\`;
register('data:text/javascript,' + encodeURIComponent(hooks));
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'servekit-startup-imports-'));
  await writeFile(join(dir, 'register.mjs'), REGISTER);
});
afterAll(async () => {
  killAll();
  await rm(dir, { recursive: true, force: true });
});

describe('servekit serve loads only what a local ONNX model needs', () => {
  it('rf_iris: no storage, no client, no tree converter, no proto-loader or protobufjs until ready', async () => {
    const out = join(dir, 'imports.txt');
    const r = await serve(['--model_dir', join(FIX, 'onnx/sklearn-onnx-docs/rf_iris'), '--model_name', 'rf_iris'], {
      NODE_OPTIONS: `--import ${join(dir, 'register.mjs')}`,
      SERVEKIT_TEST_IMPORTS: out,
    });
    try {
      expect((await fetch(`${r.base}/v2/health/ready`)).status).toBe(200);
      const urls = [...new Set((await readFile(out, 'utf8')).split('\n').filter((u) => u !== ''))];
      const of = (part: string) => urls.filter((u) => u.includes(part)).map((u) => u.slice(u.indexOf(part)));
      expect(of('packages/onnx/dist/').length).toBeGreaterThan(0); // the recording works
      expect(of('packages/storage/')).toEqual([]);
      expect(of('packages/client/')).toEqual(['packages/client/dist/predictor-flag-specs.js']);
      expect(of('packages/xgboost/dist/load.js')).toEqual([]);
      expect(of('packages/xgboost/dist/tree-model.js')).toEqual([]);
      expect(of('node_modules/@grpc/proto-loader/')).toEqual([]);
      expect(of('node_modules/protobufjs/')).toEqual([]);
      expect(of('packages/onnx/dist/proto/onnx-schema.js')).toEqual([]);
      expect(of('packages/onnx/dist/zipmap.js')).toEqual(['packages/onnx/dist/zipmap.js']);
    } finally {
      await stop(r);
    }
  });
});
