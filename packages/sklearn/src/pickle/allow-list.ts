/**
 * Which Python globals a pickle may name, and what each becomes. Nothing is ever called: an allowed
 * global either becomes an inert record, or is rebuilt by servekit's own code (numpy arrays, dtypes,
 * scalars, sets, latin-1 bytes). Every other global is refused before anything else happens.
 */

/** How an allowed global is handled when the pickle calls it (REDUCE/NEWOBJ) or refers to it. */
export type GlobalRole =
  | 'class' // becomes an inert { module, name, state } record
  | 'ndarray-reconstruct'
  | 'masked-array-reconstruct'
  | 'ndarray-frombuffer'
  | 'dtype'
  | 'scalar'
  | 'joblib-wrapper'
  | 'copyreg-reconstructor'
  | 'set'
  | 'frozenset'
  | 'slice'
  | 'complex'
  | 'bytearray'
  | 'ordered-dict'
  | 'codecs-encode';

const NUMPY_CORE = ['numpy.core.multiarray', 'numpy._core.multiarray'];

const EXACT = new Map<string, GlobalRole>([
  ['numpy.ndarray', 'class'],
  ['numpy.dtype', 'dtype'],
  ['numpy.core.numeric._frombuffer', 'ndarray-frombuffer'],
  ['numpy._core.numeric._frombuffer', 'ndarray-frombuffer'],
  ['joblib.numpy_pickle.NumpyArrayWrapper', 'joblib-wrapper'],
  ['sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper', 'joblib-wrapper'],
  ['copyreg._reconstructor', 'copyreg-reconstructor'],
  ['builtins.object', 'class'],
  ['builtins.set', 'set'],
  ['builtins.frozenset', 'frozenset'],
  ['builtins.slice', 'slice'],
  ['builtins.complex', 'complex'],
  ['builtins.bytearray', 'bytearray'],
  ['builtins.float', 'class'],
  ['builtins.int', 'class'],
  ['builtins.str', 'class'],
  ['builtins.bool', 'class'],
  ['collections.OrderedDict', 'ordered-dict'],
  ['_codecs.encode', 'codecs-encode'],
  // numpy random state (GradientBoosting keeps a RandomState): inert records
  ['numpy.random._pickle.__randomstate_ctor', 'class'],
  ['numpy.random._pickle.__bit_generator_ctor', 'class'],
  ['numpy.random._pickle.__generator_ctor', 'class'],
  ['numpy.random.mtrand.RandomState', 'class'],
  ['numpy.random._mt19937.MT19937', 'class'],
  ['numpy.random._pcg64.PCG64', 'class'],
  // NumPy 2 pickles a Generator's bit generator with its SeedSequence (HistGradientBoosting >= 1.4 keeps a Generator)
  ['numpy.random.bit_generator.SeedSequence', 'class'],
  ['numpy.random.bit_generator.__pyx_unpickle_SeedSequence', 'class'],
]);
for (const m of NUMPY_CORE) {
  EXACT.set(`${m}._reconstruct`, 'ndarray-reconstruct');
  EXACT.set(`${m}.scalar`, 'scalar');
}
// numpy scalar types used as parameters (e.g. OneHotEncoder(dtype=np.float64)): inert references
for (const t of [
  'float64',
  'float32',
  'float16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint64',
  'uint32',
  'uint16',
  'uint8',
  'bool_',
  'object_',
  'str_',
]) {
  EXACT.set(`numpy.${t}`, 'class');
}

// numpy ufuncs FunctionTransformer may name (func=np.log1p...): inert references, never called
for (const m of ['numpy', 'numpy.core._multiarray_umath', 'numpy._core._multiarray_umath']) {
  for (const f of ['log1p', 'expm1', 'log', 'exp', 'sqrt', 'absolute']) EXACT.set(`${m}.${f}`, 'class');
}

// scipy sparse matrices hold fitted state in some estimators (TfidfTransformer._idf_diag before sklearn 1.3): inert
for (const m of ['scipy.sparse._csr', 'scipy.sparse.csr']) EXACT.set(`${m}.csr_matrix`, 'class');
// SplineTransformer.bsplines_ holds scipy BSpline objects (knots t, coefficients c, degree k): inert records
for (const m of ['scipy.interpolate._bsplines', 'scipy.interpolate.bsplines']) EXACT.set(`${m}.BSpline`, 'class');
// scipy >= 1.16 BSplines also keep their array namespace's `asarray` (`_asarray`): an inert reference, never called
EXACT.set('scipy._lib.array_api_compat.numpy._aliases.asarray', 'class');

// numpy masked arrays (GridSearchCV's cv_results_): rebuilt as an NdArray with its mask, never constructed for real
for (const m of ['numpy.ma.core', 'numpy.ma']) {
  EXACT.set(`${m}._mareconstruct`, 'masked-array-reconstruct');
  EXACT.set(`${m}.MaskedArray`, 'class');
}

/** Python 2 module names that protocol 0-2 pickles may use (pickle's fix_imports mapping). */
const PY2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

/** Resolve `module.name` to its role, or undefined when it is not allowed. */
export function resolveGlobal(module: string, name: string): { module: string; role: GlobalRole } | undefined {
  const mod = PY2_MODULES[module] ?? module;
  const role = EXACT.get(`${mod}.${name}`);
  if (role) return { module: mod, role };
  // scikit-learn's own classes (estimators, Tree, loss objects, DistanceMetric...) become inert records;
  // the converters then decide which estimators they support. Names starting with `__` are never allowed, except the
  // `__pyx_unpickle_<Class>` helpers Cython generates for sklearn's extension types (also inert here).
  if (
    (mod === 'sklearn' || mod.startsWith('sklearn.')) &&
    /^((?!__)[A-Za-z_][A-Za-z0-9_]*|__pyx_unpickle_[A-Za-z0-9_]+)$/.test(name)
  ) {
    return { module: mod, role: 'class' };
  }
  return undefined;
}
