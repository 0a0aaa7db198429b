/** scikit-learn's `_ovr_decision_function`: one-vs-one results → one-vs-rest shaped scores. */
import type { ConvertContext, Var } from './context.js';

/**
 * votes + summed confidences squashed into (−1/3, 1/3), [N, n]. `secondWins` [N, P] is 1 where pair p = (i, j)
 * (i < j, sklearn's order) chose j, else 0; `confidence` [N, P] is the pair's confidence in j.
 */
export function ovrDecision(ctx: ConvertContext, secondWins: Var, confidence: Var, n: number): Var {
  const pairs = secondWins.cols;
  const first = new Float64Array(pairs * n); // pair p → its first class i
  const second = new Float64Array(pairs * n); // pair p → its second class j
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      first[p * n + i] = 1;
      second[p * n + j] = 1;
      p++;
    }
  }
  const firstWins: Var = { name: ctx.op('Sub', [ctx.constD([1], []), secondWins.name]), type: 'DOUBLE', cols: pairs };
  const votes = ctx.op('Add', [ctx.affine(firstWins, first, n).name, ctx.affine(secondWins, second, n).name]);
  const sumConf = ctx.affine(
    confidence,
    Float64Array.from(second, (v, i) => v - first[i]!),
    n,
  ).name;
  const squashed = ctx.op('Div', [
    sumConf,
    ctx.op('Mul', [ctx.op('Add', [ctx.op('Abs', [sumConf]), ctx.constD([1], [])]), ctx.constD([3], [])]),
  ]);
  return { name: ctx.op('Add', [votes, squashed]), type: 'DOUBLE', cols: n };
}
