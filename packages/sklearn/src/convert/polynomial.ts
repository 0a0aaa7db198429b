/** PolynomialFeatures: products of input columns in scikit-learn's powers_ order (bias, then degree by degree). */
import { attr } from '@servekit/onnx';
import type { PyObject } from '../pickle/py-types.js';
import type { ConvertContext, Var } from './context.js';
import { filled } from './math.js';
import { bool, get, num } from './state.js';

/** itertools.combinations (distinct) or combinations_with_replacement of range(n), length d, in Python's order. */
export function combinations(n: number, d: number, withReplacement: boolean): number[][] {
  const out: number[][] = [];
  const cur: number[] = [];
  const rec = (start: number): void => {
    if (cur.length === d) {
      out.push([...cur]);
      return;
    }
    for (let i = start; i < n; i++) {
      cur.push(i);
      rec(withReplacement ? i : i + 1);
      cur.pop();
    }
  };
  rec(0);
  return out;
}

function degrees(est: PyObject): [number, number] {
  const min = get(est, '_min_degree');
  const max = get(est, '_max_degree');
  if (typeof min === 'number' && typeof max === 'number') return [min, max];
  const deg = get(est, 'degree');
  if (Array.isArray(deg)) return [Number(deg[0]), Number(deg[1])];
  return [0, num(est, 'degree', 2)];
}

/** PolynomialFeatures (dense): bias column, then for each degree the column products, as sklearn's powers_. */
export function polynomialFeatures(ctx: ConvertContext, est: PyObject, x: Var): Var {
  const [minDeg, maxDeg] = degrees(est);
  const withReplacement = !bool(est, 'interaction_only', false);
  const xd = ctx.cast(x, 'DOUBLE');
  const parts: Var[] = [];
  if (bool(est, 'include_bias', true)) parts.push(filled(ctx, xd, 1, 1));
  for (let d = Math.max(1, minDeg); d <= maxDeg; d++) {
    const combos = combinations(x.cols, d, withReplacement);
    if (combos.length === 0) continue;
    if (d === 1) {
      parts.push(
        ctx.columns(
          xd,
          combos.map((c) => c[0]!),
        ),
      );
      continue;
    }
    const idx = ctx.constI(combos.flat(), [combos.length, d]);
    const picked = ctx.op('Gather', [xd.name, idx], { axis: attr.i(1) }); // [N, K, d]
    const prod = ctx.op('ReduceProd', [picked, ctx.constI([2])], { keepdims: attr.i(0) });
    parts.push({ name: prod, type: 'DOUBLE', cols: combos.length });
  }
  return ctx.concat(parts);
}
