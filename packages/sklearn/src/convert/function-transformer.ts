/** FunctionTransformer for a short list of numpy ufuncs (referenced by name in the pickle, never called). */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject, PyValue } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { expm1, log1p } from './math.js';
import { get } from './state.js';

/** The ufuncs FunctionTransformer may name, and their graph. */
const UFUNCS: Record<string, (ctx: ConvertContext, x: Var) => Var> = {
  log1p,
  expm1,
  log: (ctx, x) => ctx.unary('Log', x),
  exp: (ctx, x) => ctx.unary('Exp', x),
  sqrt: (ctx, x) => ctx.unary('Sqrt', x),
  absolute: (ctx, x) => ctx.unary('Abs', x),
};

/** Modules numpy pickles its ufuncs under. */
const UFUNC_MODULES = ['numpy', 'numpy.core._multiarray_umath', 'numpy._core._multiarray_umath'];

function describe(v: PyValue | undefined): string {
  if (typeof v === 'object' && v !== null && 'kind' in v && (v.kind === 'global' || v.kind === 'object')) {
    return `${(v as { module: string }).module}.${(v as { name: string }).name}`;
  }
  return typeof v;
}

/** FunctionTransformer(func=None | numpy.log1p | expm1 | log | exp | sqrt | abs), kw_args unset. */
export function functionTransformer(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const func = get(est, 'func');
  const kw = get(est, 'kw_args');
  if (kw !== undefined && kw !== null) {
    throw new UnsupportedEstimatorError('FunctionTransformer with kw_args is not supported');
  }
  if (func === null || func === undefined) return x;
  const ok =
    typeof func === 'object' &&
    'kind' in func &&
    func.kind === 'global' &&
    UFUNC_MODULES.includes(func.module) &&
    func.name in UFUNCS;
  if (!ok) {
    throw new UnsupportedEstimatorError(
      `FunctionTransformer(func=${describe(func)}) is not supported: only numpy ${Object.keys(UFUNCS).join(', ')}`,
    );
  }
  return UFUNCS[(func as { name: string }).name]!(ctx, ctx.cast(x, 'DOUBLE'));
}
