/** A servable scikit-learn model: model.joblib/.pkl converted to ONNX at load time and run on onnxruntime-node. */

import type { InferRequest, InferResponse, InferTensor, Parameters, Payload, Result } from '@servekit/core';
import {
  type InferContext,
  InferenceError,
  InvalidInput,
  isInferRequest,
  Model,
  type ModelMetadata,
  type TensorMetadata,
} from '@servekit/core';
import * as ort from 'onnxruntime-node';
import { type ConvertedSklearnModel, loadSklearnModel } from './load.js';
import type { GraphFeed } from './request-encoding.js';

/** Options of a SklearnModel. */
export interface SklearnModelOptions {
  /** Path of model.joblib / model.pkl / model.pickle. */
  path: string;
  /** Answer predict_proba instead of predict by default (`--predict_proba`, PREDICT_PROBA=true). */
  predictProba?: boolean;
}

const decoder = new TextDecoder();

/** Whether a request/tensor parameter asks for predict_proba (true, "true", 1). */
function truthy(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && ['true', '1', 'yes'].includes(v.toLowerCase()));
}

function tensorValues(t: InferTensor): unknown[] {
  if (t.datatype === 'BYTES') {
    return Array.from(t.data as ArrayLike<Uint8Array | string>, (v) => (typeof v === 'string' ? v : decoder.decode(v)));
  }
  if (t.datatype === 'FP16' || t.datatype === 'BF16') {
    throw new InvalidInput(
      `input '${t.name}': FP16/BF16 tensors are not supported by scikit-learn models; send FP32 or FP64`,
    );
  }
  if (t.datatype === 'BOOL') return Array.from(t.data as Uint8Array, (v) => v !== 0);
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
}

/** Serves a scikit-learn estimator or Pipeline: predict by default, predict_proba on request or by option. */
export class SklearnModel extends Model {
  private converted?: ConvertedSklearnModel;
  private session?: ort.InferenceSession;

  constructor(
    name: string,
    readonly options: SklearnModelOptions,
  ) {
    super(name);
  }

  /** The conversion result (after load). */
  get model(): ConvertedSklearnModel {
    if (!this.converted) throw new InferenceError(`model ${this.name} is not loaded`);
    return this.converted;
  }

  override async load(): Promise<void> {
    this.converted = await loadSklearnModel(this.options.path);
    this.session = await ort.InferenceSession.create(this.converted.onnx);
  }

  override async unload(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }

  private wantsProba(params: Parameters | undefined): boolean {
    const v = params?.predict_proba;
    const want = v === undefined || v === null ? this.options.predictProba === true : truthy(v);
    if (want && !this.model.outputs.probabilities) {
      throw new InvalidInput(`model ${this.name} (${this.model.estimator}) has no predict_proba`);
    }
    return want;
  }

  private feedsFromV2(req: InferRequest): GraphFeed[] {
    const enc = this.model.encoder;
    const inp = this.model.inputs;
    if (inp.kind === 'columns') {
      const cols: Record<string, unknown[]> = {};
      for (const t of req.inputs) cols[t.name] = tensorValues(t);
      return enc.encodeColumns(cols);
    }
    if (inp.kind === 'dicts') {
      // one BYTES tensor of JSON objects, or per-key tensors (content_type pd)
      if (req.inputs.length === 1 && req.inputs[0]!.datatype === 'BYTES' && req.parameters?.content_type !== 'pd') {
        const rows = tensorValues(req.inputs[0]!).map((s, i) => {
          try {
            return JSON.parse(String(s)) as unknown;
          } catch {
            throw new InvalidInput(`input '${req.inputs[0]!.name}' element ${i} is not a JSON object`);
          }
        });
        return enc.encodeInstances(rows);
      }
      const n = req.inputs[0]?.shape[0] ?? 0;
      const rows = Array.from({ length: n }, () => ({}) as Record<string, unknown>);
      for (const t of req.inputs) {
        tensorValues(t).forEach((v, i) => {
          rows[i]![t.name] = v;
        });
      }
      return enc.encodeInstances(rows);
    }
    if (req.inputs.length !== 1) {
      throw new InvalidInput(
        `model ${this.name} takes one input tensor [N, ${inp.nFeatures}], got ${req.inputs.length}`,
      );
    }
    const t = req.inputs[0]!;
    const rows = t.shape.length >= 2 ? t.shape[0]! : 1;
    const values = tensorValues(t);
    if (inp.type === 'STRING') {
      const out: unknown[][] = [];
      for (let r = 0; r < rows; r++) out.push(values.slice(r * inp.nFeatures, (r + 1) * inp.nFeatures));
      return enc.encodeInstances(out);
    }
    return enc.encodeMatrix(values as number[], rows);
  }

  private async run(feeds: GraphFeed[], proba: boolean): Promise<ort.Tensor> {
    if (!this.session) throw new InferenceError(`model ${this.name} is not loaded`);
    const input: Record<string, ort.Tensor> = {};
    for (const f of feeds) input[f.name] = new ort.Tensor(f.type === 'DOUBLE' ? 'float64' : 'string', f.data, f.dims);
    const o = this.model.outputs;
    const name = proba ? o.probabilities! : (o.label ?? o.variable!);
    try {
      const out = await this.session.run(input, [name]);
      return out[name]!;
    } catch (e) {
      throw new InferenceError(`model ${this.name}: onnxruntime failed: ${(e as Error).message}`);
    }
  }

  override async predict(payload: Payload, _ctx: InferContext): Promise<Result> {
    if (isInferRequest(payload)) {
      const proba = this.wantsProba(payload.parameters);
      const t = await this.run(this.feedsFromV2(payload), proba);
      const out: InferTensor =
        t.type === 'string'
          ? { name: 'output-0', datatype: 'BYTES', shape: [...t.dims], data: Array.from(t.data as string[]) }
          : t.type === 'int64'
            ? { name: 'output-0', datatype: 'INT64', shape: [...t.dims], data: t.data as BigInt64Array }
            : { name: 'output-0', datatype: 'FP64', shape: [...t.dims], data: t.data as Float64Array };
      const res: InferResponse = { model_name: this.name, outputs: [out] };
      if (payload.id !== undefined) res.id = payload.id;
      return res;
    }
    const instances = payload.instances;
    if (!Array.isArray(instances)) throw new InvalidInput('V1 request needs an "instances" array');
    const proba = this.wantsProba(payload.parameters as Parameters | undefined);
    const t = await this.run(this.model.encoder.encodeInstances(instances), proba);
    return { predictions: toRows(t) };
  }

  override metadata(): ModelMetadata {
    const m = this.converted;
    const inputs: TensorMetadata[] = [];
    if (m?.inputs.kind === 'columns') {
      for (const c of m.inputs.columns) {
        inputs.push({
          name: c.name,
          datatype: c.type === 'DOUBLE' ? 'FP64' : 'BYTES',
          shape: [-1],
          parameters: { content_type: 'pd' },
        });
      }
    } else if (m?.inputs.kind === 'matrix') {
      inputs.push({
        name: 'input-0',
        datatype: m.inputs.type === 'DOUBLE' ? 'FP64' : 'BYTES',
        shape: [-1, m.inputs.nFeatures],
      });
    } else if (m?.inputs.kind === 'dicts') {
      inputs.push({ name: 'input-0', datatype: 'BYTES', shape: [-1] });
    }
    const labelType = m?.classes?.some((c) => typeof c === 'string') ? 'BYTES' : 'INT64';
    const outputs: TensorMetadata[] = [
      { name: 'output-0', datatype: m?.task === 'classifier' ? labelType : 'FP64', shape: [-1] },
    ];
    return { name: this.name, platform: 'sklearn', inputs, outputs };
  }
}

/** An output tensor as V1 predictions: one value (or row) per instance, labels in their original type. */
function toRows(t: ort.Tensor): unknown[] {
  const data =
    t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : Array.from(t.data as ArrayLike<number | string>);
  if (t.dims.length < 2) return data;
  const cols = t.dims[1]!;
  const rows: unknown[] = [];
  for (let i = 0; i < t.dims[0]!; i++) rows.push(data.slice(i * cols, (i + 1) * cols));
  return rows;
}
