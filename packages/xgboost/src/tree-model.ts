import {
  type InferContext,
  type InferResponse,
  type InferTensor,
  InvalidInput,
  isInferRequest,
  isTruthy,
  type Payload,
  type Result,
  tensorToJson,
  type V1Request,
} from '@servekit/core';
import { OnnxModel, type OnnxModelOptions } from '@servekit/onnx';
import { encodeCategoryNames } from './category-input.js';
import type { ConvertedModel } from './load.js';
import { loadTreeModelIsolated } from './load-isolated.js';

/** Options of a TreeModel. */
export interface TreeModelOptions extends Omit<OnnxModelOptions, 'modelBytes' | 'modelPath' | 'modelDir'> {
  /** Path of model.json / model.ubj / model.bst (XGBoost), model.txt / model.bst (LightGBM), model.json (CatBoost). */
  path: string;
  /** Time budget of the load in its worker thread, in ms (default 300000, `--model_load_timeout_seconds`). */
  loadTimeoutMs?: number;
  /** Heap cap of the load worker in MiB (default 4096, `--model_load_max_memory_mb`). */
  loadMaxMemoryMb?: number;
}

/**
 * Serves an XGBoost, LightGBM or CatBoost model file as KServe's xgbserver/lgbserver do, with no Python: the trees are
 * converted to an ONNX tree ensemble at load and run by onnxruntime. Answers equal `Booster.predict()`
 * (output `predict`); the request parameter `output_margin` (or `raw_score`) answers raw margins instead.
 * JSON `null` features mean missing (NaN) and follow each split's default direction. Categorical features
 * take category codes; V1 rows may give category names instead where the model records them.
 */
export class TreeModel extends OnnxModel {
  /** The conversion result (after load). */
  converted?: ConvertedModel;

  constructor(
    name: string,
    readonly treeOptions: TreeModelOptions,
  ) {
    super(name, { ...treeOptions, platform: 'servekit_tree_ensemble' });
  }

  protected override async modelBytes(): Promise<Uint8Array> {
    // Parsing and conversion run in a worker with a time budget and heap cap: the server keeps serving meanwhile.
    this.converted = await loadTreeModelIsolated(this.treeOptions.path, {
      timeoutMs: this.treeOptions.loadTimeoutMs,
      maxMemoryMb: this.treeOptions.loadMaxMemoryMb,
    });
    return this.converted.onnx;
  }

  /**
   * V1 rows given as `{feature: value}` objects (lgbserver style) become rows in the model's feature order;
   * category names in rows become the model's category codes.
   */
  private orderFeatures(body: V1Request): V1Request {
    const ordered = this.rowsInFeatureOrder(body);
    const rows = ordered.instances;
    const converted = this.converted;
    if (!converted?.categoricalColumns || !Array.isArray(rows) || !rows.every((r) => Array.isArray(r))) {
      return ordered;
    }
    return { ...ordered, instances: encodeCategoryNames(rows as unknown[][], converted) };
  }

  /** V1 rows given as `{feature: value}` objects become rows in the model's feature order. */
  private rowsInFeatureOrder(body: V1Request): V1Request {
    const names = this.converted?.featureNames;
    const rows = body.instances;
    if (
      !names ||
      !Array.isArray(rows) ||
      !rows.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))
    ) {
      return body;
    }
    const instances = rows.map((row, i) =>
      names.map((n) => {
        const v = (row as Record<string, unknown>)[n];
        if (v === undefined)
          throw new InvalidInput(`instances[${i}] has no feature "${n}" (features: ${names.join(', ')}).`);
        return v;
      }),
    );
    return { ...body, instances };
  }

  override async predict(payload: Payload, _ctx: InferContext): Promise<Result> {
    const params = payload.parameters;
    const margin = isTruthy(params?.output_margin) || isTruthy(params?.raw_score);
    const request = isInferRequest(payload) ? payload : this.v1ToRequest(this.orderFeatures(payload as V1Request));
    const res = await this.infer(request);
    const wanted = margin ? (this.converted?.marginOutput ?? 'margin') : (this.converted?.predictOutput ?? 'predict');
    const out = res.outputs.find((t) => t.name === wanted) as InferTensor;
    if (isInferRequest(payload)) {
      const explicit = payload.outputs && payload.outputs.length > 0;
      return explicit ? res : ({ ...res, outputs: [out] } satisfies InferResponse);
    }
    const value = tensorToJson(out);
    return { predictions: Array.isArray(value) ? value : [value] };
  }
}
