import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type InferContext,
  type InferResponse,
  InvalidInput,
  isInferRequest,
  Model,
  type ModelMetadata,
  type Payload,
  type Result,
  tensorFromJson,
} from '@servekit/core';

interface CentroidFile {
  features: string[];
  classes: string[];
  centroids: number[][];
}

/**
 * A nearest-centroid iris classifier in plain TypeScript: the "custom model" use case.
 * `load()` reads `centroids.json` from the model dir; `predict` takes [N,4] features (V1 instances or a V2
 * FP32/FP64 tensor) and returns the class index of the closest centroid and the distance to every class.
 */
export class IrisCentroidModel extends Model {
  private centroids = new Float64Array(0);
  private classes: string[] = [];
  private features = 0;

  constructor(
    name: string,
    private readonly modelDir: string,
  ) {
    super(name);
  }

  override async load(): Promise<void> {
    const file = JSON.parse(await readFile(join(this.modelDir, 'centroids.json'), 'utf8')) as CentroidFile;
    this.features = file.features.length;
    this.classes = file.classes;
    this.centroids = Float64Array.from(file.centroids.flat());
  }

  override metadata(): ModelMetadata {
    return {
      name: this.name,
      platform: 'custom',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, this.features] }],
      outputs: [
        { name: 'class', datatype: 'INT64', shape: [-1] },
        { name: 'distances', datatype: 'FP64', shape: [-1, this.classes.length] },
      ],
    };
  }

  override predict(payload: Payload, _ctx: InferContext): Result {
    const input = isInferRequest(payload) ? payload.inputs[0]! : tensorFromJson('instances', payload.instances, 'FP64');
    if (input.shape.length !== 2 || input.shape[1] !== this.features || Array.isArray(input.data)) {
      throw new InvalidInput(
        `Input "${input.name}" must be numeric with shape [N, ${this.features}], got ${input.datatype} ${JSON.stringify(input.shape)}.`,
      );
    }
    const x = input.data as ArrayLike<number>;
    const rows = input.shape[0]!;
    const k = this.classes.length;
    const labels = new BigInt64Array(rows);
    const distances = new Float64Array(rows * k);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 0; c < k; c++) {
        let d = 0;
        for (let f = 0; f < this.features; f++) {
          const diff = Number(x[r * this.features + f]) - this.centroids[c * this.features + f]!;
          d += diff * diff;
        }
        distances[r * k + c] = Math.sqrt(d);
        if (distances[r * k + c]! < distances[r * k + best]!) best = c;
      }
      labels[r] = BigInt(best);
    }
    const response: InferResponse = {
      model_name: this.name,
      outputs: [
        { name: 'class', datatype: 'INT64', shape: [rows], data: labels },
        { name: 'distances', datatype: 'FP64', shape: [rows, k], data: distances },
      ],
    };
    // V1 clients get class names, as a KServe custom predictor would return them.
    if (!isInferRequest(payload)) return { predictions: Array.from(labels, (l) => this.classes[Number(l)]) };
    return response;
  }
}
