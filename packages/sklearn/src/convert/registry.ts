/** Which scikit-learn classes convert, and how: transformers, classifiers and regressors by class name. */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { categoricalNb } from './categorical-nb.js';
import { kMeans, nearestCentroid } from './cluster.js';
import { columnTransformer, featureUnion, matrixSource, pipelineSteps } from './compose.js';
import type { ClassifierOut, ConvertContext, MethodOutputs, Var } from './context.js';
import { pca, pcaScoreSamples, truncatedSvd } from './decomposition.js';
import { binarizer, kBinsDiscretizer } from './discretize.js';
import { lda, ldaTransform, qda } from './discriminant.js';
import {
  adaBoostClassifier,
  adaBoostRegressor,
  baggingClassifier,
  baggingRegressor,
  calibratedClassifier,
  isotonicRegression,
  multiOutputRegressor,
  oneVsOne,
  oneVsRest,
  stackingClassifier,
  stackingRegressor,
  stackingTransform,
  transformedTargetRegressor,
  votingClassifier,
  votingClassifierTransform,
  votingRegressor,
  votingRegressorTransform,
} from './ensemble.js';
import { featureSelector } from './feature-selection.js';
import { functionTransformer } from './function-transformer.js';
import { gaussianProcessRegressor } from './gaussian-process.js';
import { gaussianProcessClassifier } from './gaussian-process-classifier.js';
import { gaussianProcessStd } from './gaussian-process-std.js';
import { histGradientBoostingClassifier, histGradientBoostingRegressor } from './hist-gradient-boosting.js';
import { isolationForest } from './iforest.js';
import { kernelCenterer } from './kernel-centerer.js';
import { kernelPca } from './kernel-pca.js';
import { kneighborsMethod } from './kneighbors.js';
import { knnImputer } from './knn-imputer.js';
import { labelBinarizer } from './label-binarizer.js';
import { linearClassifier, linearRegressor, logisticRegression } from './linear.js';
import { localOutlierFactor } from './lof.js';
import { missingIndicator } from './missing-indicator.js';
import { bayesianGaussianMixture, gaussianMixture } from './mixture.js';
import { mlpClassifier, mlpRegressor } from './mlp.js';
import { multiOutputClassifier } from './multi-output-classifier.js';
import { naiveBayes } from './naive-bayes.js';
import { ncaTransform } from './nca.js';
import { kNeighborsClassifier, kNeighborsRegressor } from './neighbors.js';
import { kNeighborsTransformer, radiusNeighborsTransformer } from './neighbors-graph.js';
import { nmf } from './nmf.js';
import { miniBatchNmf } from './nmf-multiplicative.js';
import { plsRegression, plsTransform } from './pls.js';
import { polynomialFeatures } from './polynomial.js';
import { powerTransformer } from './power.js';
import {
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
import { fastIca, sparseRandomProjection } from './projection.js';
import { quantileTransformer } from './quantile.js';
import { radiusNeighborsClassifier, radiusNeighborsRegressor } from './radius-neighbors.js';
import { randomTreesEmbedding } from './random-trees-embedding.js';
import { refusalReason } from './refusals.js';
import { SEARCH_CV_CLASSES, searchBestEstimator } from './search-cv.js';
import { sgdOneClassSvm } from './sgd-one-class-svm.js';
import { splineTransformer } from './spline.js';
import { get } from './state.js';
import { oneClassSvm, svc, svr } from './svm.js';
import { targetEncoder } from './target-encoder.js';
import { tfidfTransformer } from './text.js';
import { forestClassifier, forestRegressor, gradientBoostingClassifier, gradientBoostingRegressor } from './trees.js';

type Transformer = (ctx: ConvertContext, est: PyObject, x: Var) => Var;
type Classifier = (ctx: ConvertContext, est: PyObject, x: Var) => ClassifierOut;
type Regressor = (ctx: ConvertContext, est: PyObject, x: Var) => Var;
type Other = (ctx: ConvertContext, est: PyObject, x: Var) => MethodOutputs;

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
  TargetEncoder: targetEncoder,
  PCA: pca,
  IncrementalPCA: pca,
  TruncatedSVD: truncatedSvd,
  GaussianRandomProjection: truncatedSvd,
  PolynomialFeatures: polynomialFeatures,
  Binarizer: binarizer,
  KBinsDiscretizer: kBinsDiscretizer,
  PowerTransformer: powerTransformer,
  QuantileTransformer: quantileTransformer,
  FunctionTransformer: functionTransformer,
  MissingIndicator: missingIndicator,
  TfidfTransformer: tfidfTransformer,
  KernelPCA: kernelPca,
  FastICA: fastIca,
  SparseRandomProjection: sparseRandomProjection,
  SplineTransformer: splineTransformer,
  LabelBinarizer: labelBinarizer,
  KNNImputer: knnImputer,
  NMF: nmf,
  MiniBatchNMF: miniBatchNmf,
  VarianceThreshold: featureSelector,
  SelectKBest: featureSelector,
  SelectPercentile: featureSelector,
  SelectFpr: featureSelector,
  SelectFdr: featureSelector,
  SelectFwe: featureSelector,
  GenericUnivariateSelect: featureSelector,
  SelectFromModel: featureSelector,
  RFE: featureSelector,
  RFECV: featureSelector,
  FeatureUnion: featureUnion,
  NeighborhoodComponentsAnalysis: ncaTransform,
  KernelCenterer: kernelCenterer,
  KNeighborsTransformer: kNeighborsTransformer,
  RadiusNeighborsTransformer: radiusNeighborsTransformer,
  RandomTreesEmbedding: randomTreesEmbedding,
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
  GaussianNB: naiveBayes,
  MultinomialNB: naiveBayes,
  ComplementNB: naiveBayes,
  BernoulliNB: naiveBayes,
  LinearDiscriminantAnalysis: lda,
  QuadraticDiscriminantAnalysis: qda,
  NearestCentroid: nearestCentroid,
  VotingClassifier: votingClassifier,
  BaggingClassifier: baggingClassifier,
  AdaBoostClassifier: adaBoostClassifier,
  StackingClassifier: stackingClassifier,
  OneVsRestClassifier: oneVsRest,
  OneVsOneClassifier: oneVsOne,
  CalibratedClassifierCV: calibratedClassifier,
  RadiusNeighborsClassifier: radiusNeighborsClassifier,
  CategoricalNB: categoricalNb,
  GaussianProcessClassifier: gaussianProcessClassifier,
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
  MultiTaskLasso: linearRegressor,
  MultiTaskElasticNet: linearRegressor,
  MultiTaskLassoCV: linearRegressor,
  MultiTaskElasticNetCV: linearRegressor,
  OrthogonalMatchingPursuit: linearRegressor,
  OrthogonalMatchingPursuitCV: linearRegressor,
  LarsCV: linearRegressor,
  LassoLarsCV: linearRegressor,
  LassoLarsIC: linearRegressor,
  QuantileRegressor: linearRegressor,
  TheilSenRegressor: linearRegressor,
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
  VotingRegressor: votingRegressor,
  AdaBoostRegressor: adaBoostRegressor,
  MultiOutputRegressor: multiOutputRegressor,
  IsotonicRegression: isotonicRegression,
  BaggingRegressor: baggingRegressor,
  StackingRegressor: stackingRegressor,
  TransformedTargetRegressor: transformedTargetRegressor,
  PLSRegression: plsRegression,
  PLSCanonical: plsRegression,
  CCA: plsRegression,
  RadiusNeighborsRegressor: radiusNeighborsRegressor,
  GaussianProcessRegressor: gaussianProcessRegressor,
};

/** Clusterers, outlier detectors and mixtures: several methods each (a `transform` lets them be pipeline steps). */
const OTHERS: Record<string, Other> = {
  KMeans: kMeans,
  MiniBatchKMeans: kMeans,
  IsolationForest: isolationForest,
  GaussianMixture: gaussianMixture,
  BayesianGaussianMixture: bayesianGaussianMixture,
  OneClassSVM: oneClassSvm,
  SGDOneClassSVM: sgdOneClassSvm,
  LocalOutlierFactor: localOutlierFactor,
  MultiOutputClassifier: multiOutputClassifier,
  NearestNeighbors: kneighborsMethod,
};

/** Methods beyond predict / predict_proba / decision_function of some classifiers and regressors. */
const EXTRA_METHODS: Record<string, Other> = {
  LinearDiscriminantAnalysis: ldaTransform,
  PCA: pcaScoreSamples,
  IsotonicRegression: (ctx, est, x) => ({ transform: isotonicRegression(ctx, est, x) }),
  VotingClassifier: votingClassifierTransform,
  VotingRegressor: votingRegressorTransform,
  StackingClassifier: stackingTransform(true),
  StackingRegressor: stackingTransform(false),
  PLSRegression: plsTransform,
  PLSCanonical: plsTransform,
  CCA: plsTransform,
  GaussianProcessRegressor: gaussianProcessStd,
  KNeighborsTransformer: kneighborsMethod,
  KNeighborsClassifier: kneighborsMethod,
  KNeighborsRegressor: kneighborsMethod,
};

/** Every class name the converters accept (DictVectorizer, FeatureHasher and the text vectorizers only as a pipeline's first step). */
export function supportedEstimators(): string[] {
  return [
    ...Object.keys(TRANSFORMERS),
    'DictVectorizer',
    'CountVectorizer',
    'TfidfVectorizer',
    'HashingVectorizer',
    'FeatureHasher',
    ...Object.keys(CLASSIFIERS),
    ...Object.keys(REGRESSORS),
    ...Object.keys(OTHERS),
    ...SEARCH_CV_CLASSES,
  ].sort();
}

function unsupported(est: PyObject, role: string): UnsupportedEstimatorError {
  return new UnsupportedEstimatorError(
    `scikit-learn estimator ${est.module}.${est.name} is not supported${role}${refusalReason(est.name)}. Supported: ${supportedEstimators().join(', ')}`,
  );
}

/** Which role an estimator plays. */
export function roleOf(given: PyObject): 'transformer' | 'classifier' | 'regressor' | 'other' {
  const est = searchBestEstimator(given);
  if (CLASSIFIERS[est.name]) return 'classifier';
  if (REGRESSORS[est.name]) return 'regressor';
  if (TRANSFORMERS[est.name]) return 'transformer';
  if (OTHERS[est.name]) return 'other';
  throw unsupported(est, '');
}

/** Apply a transformer step. */
export function applyTransformer(ctx: ConvertContext, given: PyObject, x: Var): Var {
  const est = searchBestEstimator(given);
  const t = TRANSFORMERS[est.name];
  if (t) return t(ctx, est, x);
  const viaMethods = OTHERS[est.name] ?? EXTRA_METHODS[est.name];
  const transformed = viaMethods ? viaMethods(ctx, est, x).transform : undefined;
  if (transformed) return transformed;
  throw unsupported(
    est,
    CLASSIFIERS[est.name] || REGRESSORS[est.name] || OTHERS[est.name] ? ' as an intermediate pipeline step' : '',
  );
}

/** Apply a clusterer / outlier detector / mixture as the last step. */
export function applyOther(ctx: ConvertContext, given: PyObject, x: Var): MethodOutputs {
  const est = searchBestEstimator(given);
  const o = OTHERS[est.name];
  if (!o) throw unsupported(est, '');
  return o(ctx, est, x);
}

/** The extra methods (e.g. LinearDiscriminantAnalysis.transform) of a final classifier or regressor. */
export function extraMethods(ctx: ConvertContext, given: PyObject, x: Var): MethodOutputs {
  const est = searchBestEstimator(given);
  const e = EXTRA_METHODS[est.name];
  return e ? e(ctx, est, x) : {};
}

/** Apply a classifier as the last step. */
export function applyClassifier(ctx: ConvertContext, given: PyObject, x: Var): ClassifierOut {
  const est = searchBestEstimator(given);
  const c = CLASSIFIERS[est.name];
  if (!c) throw unsupported(est, '');
  return c(ctx, est, x);
}

/** Apply a regressor as the last step. */
export function applyRegressor(ctx: ConvertContext, given: PyObject, x: Var): Var {
  const est = searchBestEstimator(given);
  const r = REGRESSORS[est.name];
  if (!r) throw unsupported(est, '');
  return r(ctx, est, x);
}
