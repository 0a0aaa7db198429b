import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotImplemented } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freezeSavedModel, loadSavedModel, type SavedModelHandle } from '../src/saved-model/load.js';
import { attr, writeCheckpoint, writeSavedModel } from '../src/saved-model/writer.js';
import { fixture, numbers } from './helpers.js';

const F = 1; // DT_FLOAT
const tmp = mkdtempSync(join(tmpdir(), 'servekit-tf-freeze-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const opDef = (
  name: string,
  inputs: string[],
  output: string,
  attrs: Array<{ name: string; type: string; default_value?: unknown }> = [],
) => ({
  name,
  input_arg: inputs.map((n) => ({ name: n, type_attr: 'T' })),
  output_arg: [{ name: output, type_attr: 'T' }],
  attr: [{ name: 'T', type: 'type' }, ...attrs],
});

/**
 * y = relu(x @ w) computed through nested functions (PartitionedCall → direct call) whose MatMul has its default
 * attrs stripped; w is a TF1 VariableV2 read from the checkpoint. Plus a signature using an op tfjs lacks (Lgamma)
 * and one that mutates w (AssignAdd).
 */
function buildModel(dir: string): void {
  writeSavedModel(dir, {
    strippedDefaults: true,
    ops: [
      opDef('MatMul', ['a', 'b'], 'product', [
        { name: 'transpose_a', type: 'bool', default_value: { b: false } },
        { name: 'transpose_b', type: 'bool', default_value: { b: false } },
      ]),
      opDef('Relu', ['features'], 'activations'),
      opDef('Identity', ['input'], 'output'),
      opDef('Lgamma', ['x'], 'y'),
      opDef('AssignAdd', ['ref', 'value'], 'output_ref', [
        { name: 'use_locking', type: 'bool', default_value: { b: false } },
      ]),
      {
        name: 'PartitionedCall',
        output_arg: [{ name: 'output', type_list_attr: 'Tout' }],
        attr: [{ name: 'Tout', type: 'list(type)' }],
      },
    ],
    nodes: [
      { name: 'x', op: 'Placeholder', attr: { dtype: attr.type(F), shape: attr.shape([-1, 2]) } },
      { name: 'w', op: 'VariableV2', attr: { dtype: attr.type(F), shape: attr.shape([2, 2]) } },
      { name: 'w/read', op: 'Identity', input: ['w'], attr: { T: attr.type(F) } },
      {
        name: 'call',
        op: 'PartitionedCall',
        input: ['x', 'w/read'],
        attr: { f: attr.func('outer'), Tin: attr.types([F, F]), Tout: attr.types([F]) },
      },
      { name: 'bad', op: 'Lgamma', input: ['x'], attr: { T: attr.type(F) } },
      { name: 'one', op: 'Const', attr: { dtype: attr.type(F), value: attr.floats([2, 2], [1, 1, 1, 1]) } },
      { name: 'upd', op: 'AssignAdd', input: ['w', 'one'], attr: { T: attr.type(F) } },
      { name: 'after_upd', op: 'Identity', input: ['x', '^upd'], attr: { T: attr.type(F) } },
    ],
    functions: [
      {
        signature: {
          name: 'outer',
          input_arg: [
            { name: 'a', type: F },
            { name: 'b', type: F },
          ],
          output_arg: [{ name: 'y', type: F }],
        },
        node_def: [
          { name: 'mm', op: 'inner', input: ['a', 'b'] },
          { name: 'out', op: 'Identity', input: ['mm:z:0'], attr: { T: attr.type(F) } },
        ],
        ret: { y: 'out:output:0' },
      },
      {
        signature: {
          name: 'inner',
          input_arg: [
            { name: 'p', type: F },
            { name: 'q', type: F },
          ],
          output_arg: [{ name: 'z', type: F }],
        },
        node_def: [
          { name: 'm', op: 'MatMul', input: ['p', 'q'], attr: { T: attr.type(F) } },
          { name: 'r', op: 'Relu', input: ['m:product:0'], attr: { T: attr.type(F) } },
        ],
        ret: { z: 'r:activations:0' },
      },
    ],
    signatures: {
      serving_default: { inputs: { x: ['x:0', F, [-1, 2]] }, outputs: { y: ['call:0', F, [-1, 2]] } },
      lgamma: { inputs: { x: ['x:0', F, [-1, 2]] }, outputs: { y: ['bad:0', F, [-1, 2]] } },
      mutate: { inputs: { x: ['x:0', F, [-1, 2]] }, outputs: { y: ['after_upd:0', F, [-1, 2]] } },
    },
  });
  writeCheckpoint(join(dir, 'variables', 'variables'), { w: { shape: [2, 2], values: [1, -1, 2, 0.5] } }, true);
}

describe('freezing a hand-built SavedModel', () => {
  let h: SavedModelHandle;
  beforeAll(async () => {
    const dir = join(tmp, 'nested');
    buildModel(dir);
    h = await loadSavedModel(dir, { backend: 'cpu' });
  });
  afterAll(() => h.dispose());

  it('inlines nested calls, restores stripped default attrs and replaces the variable with a constant', () => {
    const g = h.frozenGraph('serving_default')!;
    expect(g.nodes.map((n) => `${n.name}:${n.op}`)).toEqual([
      'x:Placeholder',
      'w:Const',
      'w/read:Identity',
      'call/mm/m:MatMul',
      'call/mm/r:Relu',
      'call/out:Identity',
    ]);
    const mm = g.nodes.find((n) => n.op === 'MatMul')!;
    expect(mm.inputs).toEqual(['x:0', 'w/read:0']);
    expect(mm.attrs.transpose_a).toEqual({ b: false });
    expect(g.outputs).toEqual([{ key: 'y', tensor: 'call/out:0', dtype: F, shape: [-1, 2] }]);
    expect(g.inputs).toEqual([{ key: 'x', tensor: 'x:0', dtype: F, shape: [-1, 2] }]);
    expect(Array.from(new Float32Array(g.nodes[1]!.value!.bytes!.buffer))).toEqual([1, -1, 2, 0.5]);
  });

  it('computes relu(x @ w)', async () => {
    const [y] = await h.run(undefined, [
      { name: 'x', datatype: 'FP32', shape: [2, 2], data: Float32Array.of(1, 2, -1, 0) },
    ]);
    // [1,2]·w = [1+4, -1+1] = [5, 0]; [-1,0]·w = [-1, 1] → relu → [0, 1]
    expect(y!.shape).toEqual([2, 2]);
    expect(numbers(y!)).toEqual([5, 0, 0, 1]);
  });

  it('refuses a signature whose op tfjs lacks, naming op, node and signature', async () => {
    // Neither engine can run it: the reason names the op for both (ONNX lowering, then tfjs).
    expect(h.signature('lgamma').unservable).toBe(
      'cannot lower to ONNX: no ONNX lowering for op Lgamma; and tfjs has no kernel for op Lgamma (node "bad")',
    );
    await expect(h.run('lgamma', [])).rejects.toThrow(NotImplemented);
    await expect(h.run('lgamma', [])).rejects.toThrow(
      /^Signature "lgamma" cannot be served: .*tfjs has no kernel for op Lgamma \(node "bad"\)\.$/,
    );
  });

  it('refuses a signature that updates a variable through a control dependency', () => {
    expect(h.signature('mutate').unservable).toBe('it updates variables (op AssignAdd, node "upd")');
  });
});

describe('frozen fixture graphs are clean', () => {
  it('TF2 Keras: no calls, variable handles or reads remain; inputs are Placeholders', async () => {
    const h = await loadSavedModel(fixture('tfrust_keras_single_input'), { backend: 'cpu' });
    const g = h.frozenGraph('serving_default')!;
    const ops = new Set(g.nodes.map((n) => n.op));
    for (const op of ['StatefulPartitionedCall', 'PartitionedCall', 'VarHandleOp', 'ReadVariableOp', 'NoOp'])
      expect(ops.has(op)).toBe(false);
    expect(ops.has('MatMul')).toBe(true);
    for (const i of g.inputs) expect(g.nodes.find((n) => `${n.name}:0` === i.tensor)?.op).toBe('Placeholder');
    // Topological order: every input is defined before use.
    const seen = new Set<string>();
    for (const n of g.nodes) {
      for (const t of n.inputs) expect(seen.has(t.slice(0, t.lastIndexOf(':')))).toBe(true);
      seen.add(n.name);
    }
    h.dispose();
  });
});

describe('freezeSavedModel (engine-independent)', () => {
  it('returns frozen graphs for pure signatures and reasons for the others', () => {
    const fm = freezeSavedModel(fixture('tfrust_regression'));
    const byName = new Map(fm.signatures.map((s) => [s.info.name, s]));
    expect([...byName.keys()].sort()).toEqual(['b', 'train', 'w']);
    expect(byName.get('train')!.graph).toBeUndefined();
    expect(byName.get('train')!.info.unservable).toMatch(/updates variables/);
    const w = byName.get('w')!.graph!;
    expect(w.inputs).toEqual([]);
    expect(w.nodes.some((n) => n.op === 'Const' && n.value?.shape.join() === '1')).toBe(true);
    expect(fm.tensorflowVersion).toBe('2.5.0');
  });
});
