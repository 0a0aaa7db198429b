/**** Serving: tree models for a servekit ModelServer ****/

export { TreeModel, type TreeModelOptions } from './tree-model.js';

/**** Loading and converting XGBoost, LightGBM and CatBoost models to ONNX ****/

export { detectTreeModelFormat, type TreeModelFormat } from './detect-format.js';
export {
  type ConvertedModel,
  type ConvertedOutput,
  convert,
  convertCatBoostBytes,
  convertLightGBMText,
  convertTreeModelBytes,
  convertXGBoostBytes,
  loadCatBoostModel,
  loadLightGBMModel,
  loadTreeModel,
  loadXGBoostModel,
  TreeModelError,
} from './load.js';
export { loadTreeModelIsolated } from './load-isolated.js';
