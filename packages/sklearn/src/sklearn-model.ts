/** A servable scikit-learn model: model.joblib/.pkl converted to ONNX at load time and run on onnxruntime-node. */

import type { InferRequest, InferResponse, InferTensor, Parameters, Payload, Result } from '@servekit/core';
import {
  checkDecodedBytes,
  DEFAULT_REQUEST_LIMITS,
  type InferContext,
  InferenceError,
  InvalidInput,
  isInferRequest,
  isTruthy,
  type ModelMetadata,
  type RequestLimits,
  type TensorMetadata,
} from '@servekit/core';
import { OnnxModel, type OnnxModelOptions } from '@servekit/onnx';
import { SKLEARN_METHODS, type SklearnMethod } from './convert/context.js';
import { defaultMethod, type ServedMethod } from './convert/model.js';
import { type ConvertedSklearnModel, loadSklearnModel } from './load.js';
import { loadSklearnModelIsolated } from './load-isolated.js';
import { UnsupportedEstimatorError } from './pickle/errors.js';
import type { PickleLimits } from './pickle/limits.js';
import type { GraphFeed } from './request-encoding.js';
import { refuseFlaggedRows } from './row-refusal.js';

/** Options of a SklearnModel. */
export interface SklearnModelOptions {
  /** Path of model.joblib / model.pkl / model.pickle. */
  path: string;
  /** Answer predict_proba instead of predict by default (`--predict_proba`, PREDICT_PROBA=true). */
  predictProba?: boolean;
  /** The method requests answer by default (`--sklearn_method`): predict, predict_proba, decision_function, transform, score_samples or predict_std. */
  method?: string;
  /** onnxruntime session options (threads, graph optimization level, execution providers). */
  sessionOptions?: OnnxModelOptions['sessionOptions'];
  /** Where the onnxruntime session runs: a worker thread (default, off the event loop) or `main`. */
  execution?: OnnxModelOptions['execution'];
  /** Unpickler caps (file budget, int size, memo entries, opcodes); defaults in pickle/limits.ts. */
  limits?: Partial<PickleLimits>;
  /** Where the file is unpickled and converted: a worker thread (default, with the budgets below) or `main`. */
  loadIn?: 'worker' | 'main';
  /** Time budget of the load in the worker, in ms (default 300000, `--model_load_timeout_seconds`). */
  loadTimeoutMs?: number;
  /** Heap cap of the load worker in MiB (default 4096, `--model_load_max_memory_mb`). */
  loadMaxMemoryMb?: number;
  /**
   * Most bytes one request's answer may take (default the server's 256 MiB decoded-bytes budget,
   * `--max_decoded_bytes`): a larger one is a 413 before the graph runs; a model whose one row is larger is refused.
   */
  maxOutputBytes?: number;
}

const decoder = new TextDecoder();

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

/**
 * Serves a scikit-learn estimator or Pipeline: predict by default, predict_proba on request or by option.
 * The pickle is converted to an ONNX graph at load and run by OnnxModel's onnxruntime session (off the event loop);
 * requests are encoded in TypeScript (dict rows, columns, strings) into the graph's DOUBLE/STRING inputs.
 */
export class SklearnModel extends OnnxModel {
  private converted?: ConvertedSklearnModel;
  private labelStrings?: string[];

  constructor(
    name: string,
    readonly sklearnOptions: SklearnModelOptions,
  ) {
    super(name, {
      predictProba: sklearnOptions.predictProba,
      sessionOptions: sklearnOptions.sessionOptions,
      execution: sklearnOptions.execution,
      platform: 'sklearn',
    });
  }

  /** The conversion result (after load). */
  get model(): ConvertedSklearnModel {
    if (!this.converted) throw new InferenceError(`model ${this.name} is not loaded`);
    return this.converted;
  }

  /**
   * Read and convert the pickle (in a worker with a time and memory budget, unless `loadIn: 'main'`);
   * OnnxModel.load opens the session on the result.
   */
  protected override async modelBytes(): Promise<Uint8Array> {
    const o = this.sklearnOptions;
    const converted =
      o.loadIn === 'main'
        ? await loadSklearnModel(o.path, o.limits)
        : await loadSklearnModelIsolated(o.path, {
            ...(o.limits === undefined ? {} : { limits: o.limits }),
            ...(o.loadTimeoutMs === undefined ? {} : { timeoutMs: o.loadTimeoutMs }),
            ...(o.loadMaxMemoryMb === undefined ? {} : { maxMemoryMb: o.loadMaxMemoryMb }),
          });
    const method = o.method;
    if (method && !Object.hasOwn(converted.methods, method)) {
      throw new InvalidInput(
        `--sklearn_method ${method}: ${converted.estimator} serves ${Object.keys(converted.methods).join(', ')}`,
      );
    }
    checkOutputWidths(converted, this.outputBudget());
    this.converted = converted;
    this.labelStrings = undefined;
    return converted.onnx;
  }

  /** Which method a request asks for: its `method` parameter, then `predict_proba`, then the model's options. */
  private methodOf(params: Parameters | undefined): SklearnMethod {
    const asked = params?.method;
    const proba = params?.predict_proba;
    let method: string;
    if (asked !== undefined && asked !== null) {
      if (typeof asked !== 'string') throw new InvalidInput('parameter "method" must be a string');
      method = asked;
    } else if (proba !== undefined && proba !== null)
      method = isTruthy(proba) ? 'predict_proba' : defaultMethod(this.model);
    else if (this.sklearnOptions.method) method = this.sklearnOptions.method;
    else method = this.sklearnOptions.predictProba === true ? 'predict_proba' : defaultMethod(this.model);
    const served = Object.keys(this.model.methods);
    if (!served.includes(method)) {
      const what = (SKLEARN_METHODS as readonly string[]).includes(method) ? method : `method "${method}"`;
      throw new InvalidInput(
        `model ${this.name} (${this.model.estimator}) has no ${what}; it serves ${served.join(', ')}`,
      );
    }
    return method as SklearnMethod;
  }

  private feedsFromV2(req: InferRequest): GraphFeed[] {
    const enc = this.model.encoder;
    const inp = this.model.inputs;
    if (inp.kind === 'columns') {
      const cols: Record<string, unknown[]> = {};
      for (const t of req.inputs) cols[t.name] = tensorValues(t);
      return enc.encodeColumns(cols);
    }
    if (inp.kind === 'text') {
      if (req.inputs.length !== 1) throw new InvalidInput(`model ${this.name} takes one BYTES tensor of documents`);
      return enc.encodeInstances(tensorValues(req.inputs[0]!));
    }
    if (inp.kind === 'dicts' || inp.kind === 'hashed') {
      // one BYTES tensor of JSON samples, or per-key tensors (content_type pd)
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

  private outputBudget(): RequestLimits {
    const max = this.sklearnOptions.maxOutputBytes;
    return max === undefined ? DEFAULT_REQUEST_LIMITS : { ...DEFAULT_REQUEST_LIMITS, maxDecodedBytes: max };
  }

  /** The method's output tensors, named as the response gives them (the first is the method's main output). */
  private async runGraph(feeds: GraphFeed[], method: SklearnMethod): Promise<{ name: string; t: InferTensor }[]> {
    const inputs: InferTensor[] = feeds.map((f) =>
      f.type === 'DOUBLE'
        ? { name: f.name, datatype: 'FP64', shape: f.dims, data: f.data as Float64Array }
        : { name: f.name, datatype: 'BYTES', shape: f.dims, data: f.data as string[] },
    );
    const served = this.model.methods[method]!;
    checkOutputBytes(served, feeds[0]?.dims[0] ?? 0, this.outputBudget(), method);
    const res = await this.infer({ inputs });
    const refusal = this.model.rowRefusal;
    const flags = refusal && res.outputs.find((t) => t.name === refusal.output);
    if (refusal && flags) refuseFlaggedRows(this.name, flags, refusal.reason);
    const wanted = [{ name: served.output, output: served.output }, ...(served.more ?? [])];
    return wanted.map((w) => {
      const t = res.outputs.find((o) => o.name === w.output);
      if (!t) throw new InferenceError(`model ${this.name}: the graph has no output "${w.output}"`);
      return { name: w.name, t };
    });
  }

  override async predict(payload: Payload, _ctx: InferContext): Promise<Result> {
    if (isInferRequest(payload)) {
      const method = this.methodOf(payload.parameters);
      const got = await this.runGraph(this.feedsFromV2(payload), method);
      // one output is `output-0` (as servekit has always answered); kneighbors answers `distances` and `indices`
      const outputs: InferTensor[] = got.map(({ name, t }) => ({
        name: got.length === 1 ? 'output-0' : name,
        datatype: t.datatype,
        shape: t.shape,
        data: t.data,
      }));
      const res: InferResponse = { model_name: this.name, outputs };
      if (payload.id !== undefined) res.id = payload.id;
      return res;
    }
    const instances = payload.instances;
    if (!Array.isArray(instances)) throw new InvalidInput('V1 request needs an "instances" array');
    const method = this.methodOf(payload.parameters as Parameters | undefined);
    const got = await this.runGraph(this.model.encoder.encodeInstances(instances), method);
    if (got.length === 1) return { predictions: toRows(got[0]!.t) };
    // kneighbors: one object per instance, {"distances": [...], "indices": [...]}
    const columns = got.map(({ name, t }) => [name, toRows(t)] as const);
    return {
      predictions: (columns[0]?.[1] ?? []).map((_, i) => Object.fromEntries(columns.map(([n, r]) => [n, r[i]]))),
    };
  }

  /**
   * The classifier's `classes_` as the labels of `output-0` (Triton's classification extension: `"score:index:label"`
   * for its predict_proba scores); undefined for models that are not classifiers.
   */
  override classLabels(output: string): readonly string[] | undefined {
    if (output !== 'output-0') return undefined;
    const classes = this.converted?.classes;
    if (!classes) return undefined;
    this.labelStrings ??= classes.map(String);
    return this.labelStrings;
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
    } else if (m?.inputs.kind === 'dicts' || m?.inputs.kind === 'text' || m?.inputs.kind === 'hashed') {
      inputs.push({ name: 'input-0', datatype: 'BYTES', shape: [-1] });
    }
    const out = m
      ? m.methods[this.sklearnOptions.method ? (this.sklearnOptions.method as SklearnMethod) : defaultMethod(m)]
      : undefined;
    const datatype = out?.type === 'STRING' ? 'BYTES' : out?.type === 'INT64' ? 'INT64' : 'FP64';
    const outputs: TensorMetadata[] = out?.more
      ? [
          { name: out.output, datatype: 'FP64', shape: [-1, out.cols] },
          ...out.more.map(
            (o): TensorMetadata => ({
              name: o.name,
              datatype: o.type === 'INT64' ? 'INT64' : 'FP64',
              shape: [-1, o.cols],
            }),
          ),
        ]
      : [{ name: 'output-0', datatype, shape: [-1] }];
    return { name: this.name, platform: 'sklearn', inputs, outputs };
  }
}

/** Bytes one row of a method's answer takes (8 per value; strings counted as 8 too: labels are short). */
function rowBytes(m: ServedMethod): number {
  return 8 * (m.cols + (m.more ?? []).reduce((a, o) => a + o.cols, 0));
}

/** 413 before the graph runs when `rows` rows of the method's answer would pass the budget. */
function checkOutputBytes(m: ServedMethod, rows: number, limits: RequestLimits, method: string): void {
  checkDecodedBytes(rows * rowBytes(m), limits, `${method} of ${rows} rows × ${m.cols} columns`);
}

/** Refuse at load a model one of whose methods cannot answer even one row within the budget. */
function checkOutputWidths(model: ConvertedSklearnModel, limits: RequestLimits): void {
  for (const [name, m] of Object.entries(model.methods)) {
    if (rowBytes(m) > limits.maxDecodedBytes) {
      throw new UnsupportedEstimatorError(
        `${model.estimator}.${name} answers ${m.cols} columns per row: ${rowBytes(m)} bytes, over the ${limits.maxDecodedBytes}-byte budget (--max_decoded_bytes)`,
      );
    }
  }
}

/** An output tensor as V1 predictions: one value (or row) per instance, labels in their original type. */
function toRows(t: InferTensor): unknown[] {
  const data =
    t.datatype === 'INT64'
      ? Array.from(t.data as BigInt64Array, Number)
      : t.datatype === 'BYTES'
        ? Array.from(t.data as Array<string | Uint8Array>, (v) => (typeof v === 'string' ? v : decoder.decode(v)))
        : Array.from(t.data as ArrayLike<number>);
  if (t.shape.length < 2) return data;
  const cols = t.shape[1]!;
  const rows: unknown[] = [];
  for (let i = 0; i < t.shape[0]!; i++) rows.push(data.slice(i * cols, (i + 1) * cols));
  return rows;
}
