/** Turns request rows / columns into the converted graph's input tensors (typed arrays, no nested arrays). */
import { InvalidInput } from '@servekit/core';
import type { GraphInputs } from './convert/model.js';
import { MISSING_STRING } from './convert/preprocessing.js';
import { TextVectorizer } from './convert/text.js';
import { DictVectorizer } from './dict-vectorizer.js';
import { FeatureHasherEncoder } from './feature-hasher-encoder.js';

/** One graph input, ready for an onnxruntime Tensor (`float64` data or `string` data). */
export interface GraphFeed {
  name: string;
  type: 'DOUBLE' | 'STRING';
  dims: number[];
  data: Float64Array | string[];
}

function toNumber(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (v === null) return Number.NaN; // JSON has no NaN: null means missing
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw new InvalidInput(`${where}: expected a number or null, got ${JSON.stringify(v)}`);
}

function toCategory(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (v === null) return MISSING_STRING;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new InvalidInput(`${where}: expected a string or null, got ${JSON.stringify(v)}`);
}

/** Encodes requests for one converted graph. */
export class RequestEncoder {
  private readonly vectorizer?: DictVectorizer;
  private readonly text?: TextVectorizer;
  private readonly hasher?: FeatureHasherEncoder;

  constructor(readonly inputs: GraphInputs) {
    if (inputs.kind === 'dicts')
      this.vectorizer = new DictVectorizer(inputs.featureNames, inputs.vocabulary, inputs.separator, inputs.float32);
    if (inputs.kind === 'text') this.text = new TextVectorizer(inputs.spec);
    if (inputs.kind === 'hashed') this.hasher = new FeatureHasherEncoder(inputs.spec);
  }

  /** DictVectorizer front ends: dict rows → float64 [rows, features]. */
  vectorize(rows: readonly unknown[]): Float64Array {
    if (!this.vectorizer)
      throw new InvalidInput('this model does not take dict rows (it has no DictVectorizer front end)');
    return this.vectorizer.vectorize(rows);
  }

  /**
   * V1 `instances`: rows of numbers (matrix models), dicts (DictVectorizer models), or column dicts
   * `{col: value}` / `{col: [values...]}` (ColumnTransformer models).
   */
  encodeInstances(instances: readonly unknown[]): GraphFeed[] {
    const inp = this.inputs;
    if (inp.kind === 'text') {
      const t = this.text!;
      return [{ name: inp.name, type: 'DOUBLE', dims: [instances.length, t.width], data: t.vectorize(instances) }];
    }
    if (inp.kind === 'hashed') {
      const data = this.hasher!.vectorize(instances);
      return [{ name: inp.name, type: 'DOUBLE', dims: [instances.length, inp.spec.nFeatures], data }];
    }
    if (inp.kind === 'dicts') {
      const data = this.vectorize(instances);
      return [{ name: inp.name, type: 'DOUBLE', dims: [instances.length, inp.featureNames.length], data }];
    }
    if (inp.kind === 'columns') {
      const cols: Record<string, unknown[]> = {};
      for (const c of inp.columns) cols[c.name] = [];
      instances.forEach((inst, r) => {
        if (typeof inst !== 'object' || inst === null || Array.isArray(inst)) {
          throw new InvalidInput(`instance ${r} must be an object mapping column names to values`);
        }
        const rec = inst as Record<string, unknown>;
        const lens = inp.columns.map((c) => (Array.isArray(rec[c.name]) ? (rec[c.name] as unknown[]).length : 1));
        const n = lens[0] ?? 1;
        if (lens.some((l) => l !== n)) throw new InvalidInput(`instance ${r}: all columns must have the same length`);
        for (const c of inp.columns) {
          if (!(c.name in rec)) throw new InvalidInput(`instance ${r} is missing column '${c.name}'`);
          const v = rec[c.name];
          if (Array.isArray(v)) cols[c.name]!.push(...v);
          else cols[c.name]!.push(v);
        }
      });
      return this.encodeColumns(cols);
    }
    const n = inp.nFeatures;
    const names = inp.featureNames;
    const cellsOf = (row: unknown, r: number): unknown[] => {
      if (names && typeof row === 'object' && row !== null && !Array.isArray(row)) {
        const rec = row as Record<string, unknown>;
        return names.map((k) => {
          if (!(k in rec)) throw new InvalidInput(`instance ${r} is missing feature '${k}'`);
          return rec[k];
        });
      }
      const cells = Array.isArray(row) ? row : [row];
      if (cells.length !== n)
        throw new InvalidInput(`instance ${r} has ${cells.length} features, the model expects ${n}`);
      return cells;
    };
    if (inp.type === 'STRING') {
      const data = instances.flatMap((row, r) =>
        cellsOf(row, r).map((v, j) => toCategory(v, `instance ${r}, feature ${j}`)),
      );
      return [{ name: inp.name, type: 'STRING', dims: [instances.length, n], data }];
    }
    const data = new Float64Array(instances.length * n);
    instances.forEach((row, r) => {
      const cells = cellsOf(row, r);
      for (let j = 0; j < n; j++) data[r * n + j] = toNumber(cells[j], `instance ${r}, feature ${j}`);
    });
    return [{ name: inp.name, type: 'DOUBLE', dims: [instances.length, n], data }];
  }

  /** Matrix models: a flat float64 [rows, nFeatures] (V2 FP32/FP64 tensors, NaN = missing). */
  encodeMatrix(data: ArrayLike<number>, rows: number): GraphFeed[] {
    const inp = this.inputs;
    if (inp.kind !== 'matrix' || inp.type !== 'DOUBLE') {
      throw new InvalidInput('this model takes per-column, string or dict inputs, not one numeric matrix');
    }
    if (data.length !== rows * inp.nFeatures) {
      throw new InvalidInput(
        `input has ${data.length} values for ${rows} rows; the model expects ${inp.nFeatures} features per row`,
      );
    }
    return [{ name: inp.name, type: 'DOUBLE', dims: [rows, inp.nFeatures], data: Float64Array.from(data) }];
  }

  /** ColumnTransformer models: one value list per column (V2 `content_type: pd` tensors, column dicts). */
  encodeColumns(columns: Record<string, ArrayLike<unknown>>): GraphFeed[] {
    const inp = this.inputs;
    if (inp.kind !== 'columns') throw new InvalidInput('this model does not take per-column inputs');
    let rows = -1;
    return inp.columns.map((c) => {
      const values = columns[c.name];
      if (!values) throw new InvalidInput(`missing input column '${c.name}'`);
      if (rows < 0) rows = values.length;
      if (values.length !== rows)
        throw new InvalidInput(`column '${c.name}' has ${values.length} rows, expected ${rows}`);
      const list = Array.from(values);
      if (c.type === 'DOUBLE') {
        return {
          name: c.name,
          type: 'DOUBLE',
          dims: [rows, 1],
          data: Float64Array.from(list, (v, i) => toNumber(v, `column '${c.name}' row ${i}`)),
        };
      }
      return {
        name: c.name,
        type: 'STRING',
        dims: [rows, 1],
        data: list.map((v, i) => toCategory(v, `column '${c.name}' row ${i}`)),
      };
    });
  }
}
