// The churn fixture's known answers (scikit-learn 1.2.1 on the same model.joblib) and a tolerant comparison.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './readme.js';

/** ../shared/fixtures/sklearn/churn/expected.json. */
export interface ChurnExpected {
  /** 20 customer dicts (CSV rows 0-19). */
  inputs: Array<Record<string, string | number>>;
  /** sklearn predict: 0/1. */
  predict: number[];
  /** sklearn predict_proba: [20, 2]. */
  predict_proba: number[][];
}

/** The fixture. */
export const EXPECTED = JSON.parse(
  readFileSync(join(ROOT, '../shared/fixtures/sklearn/churn/expected.json'), 'utf8'),
) as ChurnExpected;

/** Deep equality with numbers within `tol` (absolute). */
export function expectClose(actual: unknown, expected: unknown, tol = 1e-6, path = '$'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs((actual as number) - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    for (const [i, e] of expected.entries()) expectClose((actual as unknown[])[i], e, tol, `${path}[${i}]`);
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', path).toBe(true);
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, e] of Object.entries(expected))
      expectClose((actual as Record<string, unknown>)[k], e, tol, `${path}.${k}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

/** The transformer's answer for the first `n` fixture customers. */
export function expectedDecisions(n = EXPECTED.inputs.length): Array<{ churn_probability: number; approved: boolean }> {
  return EXPECTED.predict_proba.slice(0, n).map((p) => ({ churn_probability: p[1]!, approved: p[1]! < 0.5 }));
}

/**
 * Check an answer about the first N fixture customers against sklearn: labels → predict, [p0, p1] rows →
 * predict_proba, decision objects → churn_probability = predict_proba[i][1] and approved = p < 0.5.
 */
export function expectFixtureAnswer(body: { predictions?: unknown[] }): void {
  const rows = body.predictions;
  expect(Array.isArray(rows) && rows.length > 0, JSON.stringify(body)).toBe(true);
  const n = rows!.length;
  const first = rows![0];
  if (typeof first === 'number') expect(rows).toEqual(EXPECTED.predict.slice(0, n));
  else if (Array.isArray(first)) expectClose(rows, EXPECTED.predict_proba.slice(0, n));
  else expectClose(rows, expectedDecisions(n));
}
