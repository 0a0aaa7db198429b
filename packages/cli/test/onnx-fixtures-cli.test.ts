// Every ONNX fixture served by the real `servekit serve` process from one multi-model dir (a folder per fixture,
// detected on its own), asked over V2 REST JSON, the binary extension and gRPC against its expected outputs;
// the invalid/ models and the DictVectorizer map input are UNAVAILABLE with their reasons while the rest serve.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcClient, RestClient } from '@servekit/client';
import type { InferResponse } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casesOf, expectClose, FIX, hasLocale, models, TOLERANCE_BY_MODEL } from '../../onnx/test/fixture-cases.js';
import { killAll, type Running, serve, stop } from './cli-process.js';

const INVALID = ['invalid/mnist_cntk_opset1', 'invalid/pytorch_test_Linear_opset6'];
const nameOf = (m: string) => m.replace('/', '.');

describe('servekit serve over every ONNX fixture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'servekit-onnx-fixtures-'));
  let server: Running;
  let rest: RestClient;
  let grpc: GrpcClient;

  beforeAll(async () => {
    for (const m of [...models, ...INVALID]) symlinkSync(join(FIX, m), join(dir, nameOf(m)));
    server = await serve(['--model_dir', dir]);
    rest = new RestClient({ baseUrl: server.base, retries: 0 });
    grpc = new GrpcClient({ address: server.grpc, maxMessageSize: 64 << 20 });
  }, 120_000);
  afterAll(async () => {
    rest?.close();
    grpc?.close();
    if (server) expect(await stop(server)).toBe(0);
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every fixture but the ones onnxruntime cannot load, which report the op or input', async () => {
    const index = await rest.repositoryIndex();
    const byName = new Map(index.map((e) => [e.name, e]));
    expect(byName.get('invalid.mnist_cntk_opset1')!.reason).toMatch(/Add\(1\)/);
    expect(byName.get('invalid.pytorch_test_Linear_opset6')!.reason).toMatch(/Gemm\(6\)/);
    expect(byName.get('sklearn-onnx-2018.SklearnDictVectorizer-OneOff-SkipDim1')!.reason).toMatch(
      /input "input" is not a tensor/,
    );
    const down = ['invalid.mnist_cntk_opset1', 'invalid.pytorch_test_Linear_opset6'];
    down.push('sklearn-onnx-2018.SklearnDictVectorizer-OneOff-SkipDim1');
    if (!hasLocale) down.push('node.test_strnormalizer_export_monday_casesensintive_lower');
    expect(
      index
        .filter((e) => e.state !== 'READY')
        .map((e) => e.name)
        .sort(),
    ).toEqual(down.sort());
    expect(index).toHaveLength(models.length + INVALID.length);
  });

  const cases = models.flatMap((m) => {
    const [group, name] = m.split('/') as [string, string];
    return name === 'SklearnDictVectorizer-OneOff-SkipDim1' ? [] : casesOf(group, name);
  });

  it.for(cases.map((c) => [c.label, c] as const))('%s over JSON, binary and gRPC', async ([, c], ctx) => {
    if (!hasLocale && c.model.includes('strnormalizer')) {
      ctx.skip('onnxruntime StringNormalizer needs the en_US.UTF-8 locale (fixtures README item 4)');
    }
    const md = await rest.modelMetadata(c.model);
    const request = { inputs: c.inputs.map((inp, i) => ({ ...inp.tensor, name: inp.name ?? md.inputs[i]!.name })) };
    const answers: Array<[string, InferResponse]> = [
      ['json', await rest.infer(c.model, request)],
      ['binary', await rest.infer(c.model, request, { binary: true, binaryOutputs: true })],
      ['grpc', await grpc.infer(c.model, request)],
    ];
    for (const [how, res] of answers) {
      for (const exp of c.expected) {
        const name = exp.name ?? md.outputs[exp.index!]!.name;
        const got = res.outputs.find((o) => o.name === name);
        expect(got, `${c.label} ${how}: output ${name}`).toBeDefined();
        expectClose(got!, exp.tensor, `${c.label} ${how} ${name}`, TOLERANCE_BY_MODEL[c.model]);
      }
    }
  });
});
