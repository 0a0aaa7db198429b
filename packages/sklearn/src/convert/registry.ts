/** Which scikit-learn classes convert, and how: transformers, classifiers and regressors by class name. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { columnTransformer, featureUnion, matrixSource, pipelineSteps } from './compose.js';
import type { ClassifierOut, ConvertContext, Var } from './context.js';
import { histGradientBoostingClassifier, histGradientBoostingRegressor } from './hist-gradient-boosting.js';
import { linearClassifier, linearRegressor, logisticRegression } from './linear.js';
import { mlpClassifier, mlpRegressor } from './mlp.js';
import { kNeighborsClassifier, kNeighborsRegressor } from './neighbors.js';
import {
  fittedOnStrings,
  labelEncoder,
  maxAbsScaler,
  minMaxScaler,
  normalizer,
  oneHotEncoder,
  ordinalEncoder,
  robustScaler,
  simpleImputer,
  standardScaler,
} from './preprocessing.js';
import { get } from './state.js';
import { svc, svr } from './svm.js';
import { forestClassifier, forestRegressor, gradientBoostingClassifier, gradientBoostingRegressor } from './trees.js';

type Transformer = (ctx: ConvertContext, est: PyObject, x: Var) => Var;
type Classifier = (ctx: ConvertContext, est: PyObject, x: Var) => ClassifierOut;
type Regressor = (ctx: ConvertContext, est: PyObject, x: Var) => Var;

const TRANSFORMERS: Record<string, Transformer> = {
  StandardScaler: standardScaler,
  MinMaxScaler: minMaxScaler,
  MaxAbsScaler: maxAbsScaler,
  RobustScaler: robustScaler,
  Normalizer: normalizer,
  SimpleImputer: simpleImputer,
  OneHotEncoder: oneHotEncoder,
  OrdinalEncoder: ordinalEncoder,
  LabelEncoder: labelEncoder,
  FeatureUnion: featureUnion,
  Pipeline: (ctx, est, x) => pipelineSteps(est).reduce((v, step) => applyTransformer(ctx, step, v), x),
  ColumnTransformer: (ctx, est, x) => {
    const names = get(est, 'feature_names_in_');
    const list =
      names && typeof names === 'object' && 'data' in names && Array.isArray(names.data)
        ? names.data.map(String)
        : undefined;
    return columnTransformer(ctx, est, matrixSource(ctx, x, list));
  },
};

const CLASSIFIERS: Record<string, Classifier> = {
  LogisticRegression: logisticRegression,
  LogisticRegressionCV: logisticRegression,
  SGDClassifier: linearClassifier,
  LinearSVC: linearClassifier,
  RidgeClassifier: linearClassifier,
  RidgeClassifierCV: linearClassifier,
  Perceptron: linearClassifier,
  PassiveAggressiveClassifier: linearClassifier,
  SVC: svc,
  NuSVC: svc,
  DecisionTreeClassifier: forestClassifier,
  ExtraTreeClassifier: forestClassifier,
  RandomForestClassifier: forestClassifier,
  ExtraTreesClassifier: forestClassifier,
  GradientBoostingClassifier: gradientBoostingClassifier,
  HistGradientBoostingClassifier: histGradientBoostingClassifier,
  KNeighborsClassifier: kNeighborsClassifier,
  MLPClassifier: mlpClassifier,
};

const REGRESSORS: Record<string, Regressor> = {
  LinearRegression: linearRegressor,
  Ridge: linearRegressor,
  RidgeCV: linearRegressor,
  Lasso: linearRegressor,
  LassoCV: linearRegressor,
  ElasticNet: linearRegressor,
  ElasticNetCV: linearRegressor,
  Lars: linearRegressor,
  LassoLars: linearRegressor,
  BayesianRidge: linearRegressor,
  ARDRegression: linearRegressor,
  HuberRegressor: linearRegressor,
  SGDRegressor: linearRegressor,
  LinearSVR: linearRegressor,
  PoissonRegressor: linearRegressor,
  GammaRegressor: linearRegressor,
  TweedieRegressor: linearRegressor,
  SVR: svr,
  NuSVR: svr,
  DecisionTreeRegressor: forestRegressor,
  ExtraTreeRegressor: forestRegressor,
  RandomForestRegressor: forestRegressor,
  ExtraTreesRegressor: forestRegressor,
  GradientBoostingRegressor: gradientBoostingRegressor,
  HistGradientBoostingRegressor: histGradientBoostingRegressor,
  KNeighborsRegressor: kNeighborsRegressor,
  MLPRegressor: mlpRegressor,
};

/** Every class name the converters accept (DictVectorizer only as a pipeline's first step). */
export function supportedEstimators(): string[] {
  return [
    ...Object.keys(TRANSFORMERS),
    'DictVectorizer',
    ...Object.keys(CLASSIFIERS),
    ...Object.keys(REGRESSORS),
  ].sort();
}

function unsupported(est: PyObject, role: string): UnsupportedEstimatorError {
  return new UnsupportedEstimatorError(
    `scikit-learn estimator ${est.module}.${est.name} is not supported${role}. Supported: ${supportedEstimators().join(', ')}`,
  );
}

/** Which role an estimator plays. */
export function roleOf(est: PyObject): 'transformer' | 'classifier' | 'regressor' {
  if (CLASSIFIERS[est.name]) return 'classifier';
  if (REGRESSORS[est.name]) return 'regressor';
  if (TRANSFORMERS[est.name]) return 'transformer';
  throw unsupported(est, '');
}

/** Apply a transformer step. */
export function applyTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const t = TRANSFORMERS[est.name];
  if (!t)
    throw unsupported(est, CLASSIFIERS[est.name] || REGRESSORS[est.name] ? ' as an intermediate pipeline step' : '');
  return t(ctx, est, x);
}

/** Apply a classifier as the last step. */
export function applyClassifier(ctx: ConvertContext, est: PyObject, x: Var): ClassifierOut {
  const c = CLASSIFIERS[est.name];
  if (!c) throw unsupported(est, '');
  return c(ctx, est, x);
}

/** Apply a regressor as the last step. */
export function applyRegressor(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const r = REGRESSORS[est.name];
  if (!r) throw unsupported(est, '');
  return r(ctx, est, x);
}

/** Whether a (ColumnTransformer member) transformer takes string columns. */
export function wantsStrings(est: PyObject): boolean {
  const first = pipelineSteps(est)[0];
  return first ? fittedOnStrings(first) : false;
}
