/** FastICA.transform and SparseRandomProjection.transform: fixed linear maps read from the pickle (float64). */
import { UnsupportedEstimatorError } from '../pickle/errors.js';
import type { PyObject } from '../pickle/py-types.js';
import { isNdArray, isPyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { transpose } from './linalg.js';
import { arr, get, has, num, toF64 } from './state.js';

function checkWidth(est: PyObject, f: number, x: Var): void {
  if (f !== x.cols)
    throw new UnsupportedEstimatorError(`${est.name} expects ${f} features but its input has ${x.cols}`);
}

/** FastICA.transform: (X − mean_) · components_ᵀ when whitened (every `whiten` mode), X · components_ᵀ when not. */
export function fastIca(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const comp = arr(est, 'components_');
  if (comp.shape.length !== 2) throw new UnsupportedEstimatorError('FastICA.components_ must be a 2-D array');
  const [k, f] = comp.shape as [number, number];
  checkWidth(est, f, x);
  const whiten = get(est, '_whiten') ?? get(est, 'whiten');
  const whitened = whiten !== false && whiten !== null && whiten !== undefined;
  const xd = ctx.cast(x, 'DOUBLE');
  const centered: Var =
    whitened && has(est, 'mean_')
      ? { name: ctx.op('Sub', [xd.name, ctx.constD(toF64(arr(est, 'mean_')), [1, f])]), type: 'DOUBLE', cols: f }
      : xd;
  return ctx.affine(centered, transpose(toF64(comp), k, f), k);
}

/** A scipy.sparse csr_matrix record (data, indices, indptr, shape) as a dense row-major array. */
function denseFromCsr(m: PyObject, what: string): { values: Float64Array; rows: number; cols: number } {
  const shape = get(m, '_shape');
  if (!Array.isArray(shape) || shape.length !== 2) throw new UnsupportedEstimatorError(`${what} has no shape`);
  const [rows, cols] = [Number(shape[0]), Number(shape[1])];
  const data = toF64(arr(m, 'data'));
  const indices = toF64(arr(m, 'indices'));
  const indptr = toF64(arr(m, 'indptr'));
  if (!(rows >= 0 && cols >= 0 && indptr.length === rows + 1 && indices.length === data.length))
    throw new UnsupportedEstimatorError(`${what} is not a well-formed csr_matrix`);
  const values = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let p = indptr[r]!; p < indptr[r + 1]!; p++) {
      const c = indices[p]!;
      if (!(p >= 0 && p < data.length && c >= 0 && c < cols))
        throw new UnsupportedEstimatorError(`${what} is not a well-formed csr_matrix`);
      values[r * cols + c]! += data[p]!;
    }
  }
  return { values, rows, cols };
}

/** SparseRandomProjection.transform: X · components_ᵀ, components_ a scipy csr_matrix (or dense); served dense. */
export function sparseRandomProjection(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const comp = get(est, 'components_');
  let dense: { values: Float64Array; rows: number; cols: number };
  if (isNdArray(comp) && comp.shape.length === 2) {
    const [rows, cols] = comp.shape as [number, number];
    dense = { values: toF64(comp), rows, cols };
  } else if (isPyObject(comp) && comp.name === 'csr_matrix') {
    dense = denseFromCsr(comp, 'SparseRandomProjection.components_');
  } else {
    throw new UnsupportedEstimatorError('SparseRandomProjection.components_ must be an array or a csr_matrix');
  }
  checkWidth(est, dense.cols, x);
  if (num(est, 'n_components_', dense.rows) !== dense.rows)
    throw new UnsupportedEstimatorError('SparseRandomProjection.components_ does not match n_components_');
  return ctx.affine(x, transpose(dense.values, dense.rows, dense.cols), dense.rows);
}
