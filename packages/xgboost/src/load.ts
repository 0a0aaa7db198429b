import { readFile } from 'node:fs/promises';
import { looksLikeCatBoostBinary, parseCatBoostDocument, parseCatBoostJson } from './catboost.js';
import { cbmToJsonDocument } from './catboost-cbm.js';
import { detectTreeModelFormat, type TreeModelFormat } from './detect-format.js';
import { parseLightGBMText } from './lightgbm-text.js';
import { ensembleToOnnx, INPUT_NAME, MARGIN_OUTPUT, type OutputShape, PREDICT_OUTPUT } from './onnx-export.js';
import type { Tree } from './tree-ensemble.js';
import { decodeUbjson } from './ubjson.js';
import { parseXgbBinary } from './xgboost-binary.js';
import { parseXgbJsonText, xgbModelFromDocument } from './xgboost-json.js';
import { type XgbModel, xgbToEnsemble } from './xgboost-model.js';

/** One output of a converted model's ONNX graph. */
export interface ConvertedOutput {
  /** Graph output name. */
  name: string;
  /** V2 datatype (always FP32). */
  datatype: 'FP32';
  /** Shape with -1 for the batch dimension. */
  shape: number[];
  /** What the values are. */
  description: string;
}

/** A tree model converted to ONNX, with what a server needs to serve it. */
export interface ConvertedModel {
  /** Serialized ONNX model (ai.onnx opset 15 + ai.onnx.ml opset 3); `InferenceSession.create(onnx)` runs it. */
  onnx: Uint8Array;
  /** Graph input name: FP32 [N, numFeatures]. */
  inputName: string;
  /** Number of feature columns. */
  numFeatures: number;
  /** Graph outputs: `predict` (equals `Booster.predict()`) first, then `margin` (raw scores). */
  outputs: ConvertedOutput[];
  /** Name of the output equal to the library's `predict()` (served by default). */
  predictOutput: string;
  /** Name of the raw-score output (`output_margin=True` / `raw_score=True`). */
  marginOutput: string;
  /** Objective as named by the library (e.g. `binary:logistic`, `multiclass num_class:3`). */
  objective: string;
  /** Whether the objective is a classification one. */
  kind: 'classifier' | 'regressor';
  /** Number of classes for classifiers (2 for binary), 0 for regressors. */
  numClass: number;
  /** The library and file format read. */
  format: TreeModelFormat;
  /** Feature names stored in the model, when it has them. */
  featureNames?: string[];
  /** Columns that hold category codes (integers; NaN = missing). */
  categoricalColumns?: number[];
  /**
   * Category names per column (by column index) where the model records them: the code of a name is its
   * position in the list, so a client may send the name (V1 JSON) instead of the code.
   */
  categoryNames?: (string[] | undefined)[];
  /**
   * What a category name the model does not list becomes: 'missing' (LightGBM via pandas, CatBoost; the default)
   * or 'error' (XGBoost ≥ 3.1 refuses a category not in the training set): a 400 naming it.
   */
  unknownCategory?: 'missing' | 'error';
}

/** A model file that cannot be read or converted; the message names the file and the problem. */
export class TreeModelError extends Error {
  constructor(
    /** The file. */
    readonly file: string,
    /** What is wrong. */
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'TreeModelError';
  }
}

const batch = (shape: OutputShape): number[] => shape.map((d) => (d === 'N' ? -1 : d));

function parseXgb(bytes: Uint8Array, format: TreeModelFormat): XgbModel {
  switch (format) {
    case 'xgboost-json':
      return xgbModelFromDocument(parseXgbJsonText(new TextDecoder().decode(bytes)));
    case 'xgboost-ubj':
      return xgbModelFromDocument(decodeUbjson(bytes));
    case 'xgboost-binary':
      return parseXgbBinary(bytes);
    default:
      throw new Error(`${format} is not an XGBoost format`);
  }
}

function describeError(e: unknown): string {
  if (e instanceof SyntaxError) return `invalid JSON (${e.message})`;
  if (e instanceof RangeError) return `the model is too deep or too large (${e.message})`;
  return e instanceof Error ? e.message : String(e);
}

/** Converts XGBoost model bytes (JSON, UBJSON or legacy binary) to ONNX. `file` names it in errors. */
export function convertXGBoostBytes(bytes: Uint8Array, file = 'model', format?: TreeModelFormat): ConvertedModel {
  const fmt = format ?? detectTreeModelFormat(bytes, file);
  if (!fmt?.startsWith('xgboost-')) {
    throw new TreeModelError(file, 'not an XGBoost model (expected JSON, UBJSON or the legacy binary format)');
  }
  if (bytes.length === 0) throw new TreeModelError(file, 'the file is empty');
  try {
    const m = parseXgb(bytes, fmt);
    const { ensemble, kind } = xgbToEnsemble(m);
    const built = ensembleToOnnx(ensemble);
    const numClass = kind === 'classifier' ? Math.max(ensemble.numTargets, 2) : 0;
    return {
      onnx: built.onnx,
      inputName: INPUT_NAME,
      numFeatures: ensemble.numFeatures,
      outputs: [
        {
          name: PREDICT_OUTPUT,
          datatype: 'FP32',
          shape: batch(built.predictShape),
          description: predictDescription(m.objective),
        },
        {
          name: MARGIN_OUTPUT,
          datatype: 'FP32',
          shape: batch(built.marginShape),
          description: 'raw margin (Booster.predict(output_margin=True))',
        },
      ],
      predictOutput: PREDICT_OUTPUT,
      marginOutput: MARGIN_OUTPUT,
      objective: m.objective,
      kind,
      numClass,
      format: fmt,
      ...(m.featureNames ? { featureNames: m.featureNames } : {}),
      ...categoricalColumnsOf(ensemble.trees, m.categoryNames),
      ...(m.categoryNames ? { categoryNames: m.categoryNames, unknownCategory: 'error' as const } : {}),
    };
  } catch (e) {
    throw new TreeModelError(file, `cannot read ${fmt} model: ${describeError(e)}`);
  }
}

/** The columns that some categorical split tests or that have category names, when there are any. */
function categoricalColumnsOf(trees: Tree[], names?: (string[] | undefined)[]): { categoricalColumns?: number[] } {
  const cols = new Set<number>();
  names?.forEach((n, col) => {
    if (n) cols.add(col);
  });
  for (const t of trees) for (const n of t.nodes) if (n.kind === 'categorical') cols.add(n.feature);
  return cols.size > 0 ? { categoricalColumns: [...cols].sort((a, b) => a - b) } : {};
}

/**
 * Converts a CatBoost model, JSON (`save_model(path, format="json")`) or binary (`.cbm`), to ONNX. `file` names it
 * in errors.
 */
export function convertCatBoostBytes(bytes: Uint8Array, file = 'model.json'): ConvertedModel {
  if (bytes.length === 0) throw new TreeModelError(file, 'the file is empty');
  const binary = looksLikeCatBoostBinary(bytes);
  try {
    const m = binary
      ? parseCatBoostDocument(cbmToJsonDocument(bytes))
      : parseCatBoostJson(new TextDecoder().decode(bytes));
    const built = ensembleToOnnx(m.ensemble);
    return {
      onnx: built.onnx,
      inputName: INPUT_NAME,
      numFeatures: m.ensemble.numFeatures,
      outputs: [
        {
          name: PREDICT_OUTPUT,
          datatype: 'FP32',
          shape: batch(built.predictShape),
          description: catboostPredictDescription(m.objective),
        },
        {
          name: MARGIN_OUTPUT,
          datatype: 'FP32',
          shape: batch(built.marginShape),
          description: "raw formula value (CatBoost.predict(prediction_type='RawFormulaVal'))",
        },
      ],
      predictOutput: PREDICT_OUTPUT,
      marginOutput: MARGIN_OUTPUT,
      objective: m.objective,
      kind: m.kind,
      numClass: m.numClass,
      format: binary ? 'catboost-binary' : 'catboost-json',
      ...(m.featureNames ? { featureNames: m.featureNames } : {}),
      ...(m.categoricalColumns.length > 0 ? { categoricalColumns: m.categoricalColumns } : {}),
      ...(m.categoryNames.some((n) => n !== undefined) ? { categoryNames: m.categoryNames } : {}),
    };
  } catch (e) {
    throw new TreeModelError(file, `cannot read CatBoost ${binary ? 'binary' : 'JSON'} model: ${describeError(e)}`);
  }
}

function catboostPredictDescription(loss: string): string {
  if (loss === 'Logloss' || loss === 'CrossEntropy') return 'probability of class 1 (predict_proba()[:, 1])';
  if (loss === 'MultiClass') return 'class probabilities (predict_proba())';
  if (loss === 'MultiClassOneVsAll') return 'per-class probabilities (predict_proba())';
  return `CatBoost.predict() for loss ${loss}`;
}

function predictDescription(objective: string): string {
  if (objective === 'binary:logistic') return 'probability of class 1 (Booster.predict())';
  if (objective === 'multi:softprob') return 'class probabilities (Booster.predict())';
  if (objective === 'multi:softmax') return 'class index as a float (Booster.predict())';
  return `Booster.predict() for ${objective}`;
}

/** Converts a LightGBM text model to ONNX. `file` names it in errors. */
export function convertLightGBMText(text: string, file = 'model.txt'): ConvertedModel {
  if (text.length === 0) throw new TreeModelError(file, 'the file is empty');
  try {
    const { ensemble, header, kind } = parseLightGBMText(text);
    const built = ensembleToOnnx(ensemble);
    const objective = header.objective.trim().split(/\s+/)[0] ?? '';
    return {
      onnx: built.onnx,
      inputName: INPUT_NAME,
      numFeatures: ensemble.numFeatures,
      outputs: [
        {
          name: PREDICT_OUTPUT,
          datatype: 'FP32',
          shape: batch(built.predictShape),
          description: `Booster.predict() for LightGBM objective ${objective || 'custom'}`,
        },
        {
          name: MARGIN_OUTPUT,
          datatype: 'FP32',
          shape: batch(built.marginShape),
          description: 'raw score (Booster.predict(raw_score=True))',
        },
      ],
      predictOutput: PREDICT_OUTPUT,
      marginOutput: MARGIN_OUTPUT,
      objective: header.objective.trim(),
      kind,
      numClass: kind === 'classifier' ? Math.max(header.numClass, 2) : 0,
      format: 'lightgbm-text',
      ...(header.featureNames ? { featureNames: header.featureNames } : {}),
      ...categoricalColumnsOf(ensemble.trees, header.categoryNames),
      ...(header.categoryNames ? { categoryNames: header.categoryNames } : {}),
    };
  } catch (e) {
    throw new TreeModelError(file, `cannot read LightGBM text model: ${describeError(e)}`);
  }
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new TreeModelError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** Reads an XGBoost model file (`model.json`, `model.ubj`, legacy binary `model.bst`) and converts it to ONNX. */
export async function loadXGBoostModel(path: string): Promise<ConvertedModel> {
  return convertXGBoostBytes(await readModelFile(path), path);
}

/** Reads a LightGBM text model (`model.txt`, or `model.bst` as KServe's lgbserver names it) and converts it. */
export async function loadLightGBMModel(path: string): Promise<ConvertedModel> {
  return convertLightGBMText(new TextDecoder().decode(await readModelFile(path)), path);
}

/** Converts model bytes of any supported tree format (detected from the content, then the name). */
export function convertTreeModelBytes(bytes: Uint8Array, file = 'model'): ConvertedModel {
  const fmt = detectTreeModelFormat(bytes, file);
  if (fmt === 'lightgbm-text') return convertLightGBMText(new TextDecoder().decode(bytes), file);
  if (fmt === 'catboost-json' || fmt === 'catboost-binary') return convertCatBoostBytes(bytes, file);
  if (!fmt) {
    throw new TreeModelError(
      file,
      'not a recognised XGBoost (JSON/UBJSON/binary), LightGBM text or CatBoost JSON model',
    );
  }
  return convertXGBoostBytes(bytes, file, fmt);
}

/** Reads a CatBoost JSON model file (`model.json`) and converts it to ONNX. */
export async function loadCatBoostModel(path: string): Promise<ConvertedModel> {
  return convertCatBoostBytes(await readModelFile(path), path);
}

/** Reads any supported tree model file (XGBoost, LightGBM or CatBoost, detected from the content) and converts it. */
export async function loadTreeModel(path: string): Promise<ConvertedModel> {
  return convertTreeModelBytes(await readModelFile(path), path);
}

/** For `servekit convert <file> -o model.onnx`: the ONNX bytes of an XGBoost, LightGBM or CatBoost model file. */
export async function convert(path: string): Promise<Uint8Array> {
  return (await loadTreeModel(path)).onnx;
}
