/**
 * The churn transformer: customers in, "approved / not approved" out. It checks each customer, asks the churn
 * predictor (the sklearn model.joblib served by servekit) for class probabilities, and answers
 * `{"predictions": [{"churn_probability": p, "approved": p < 0.5}, ...]}`.
 * Serve it with `servekit serve --model_module examples/churn/dist/transformer.js --predictor_host HOST:PORT`
 * (a predictor process) or `--predictor_model_dir examples/churn/model` (the predictor in the same process).
 */

import {
  type InferContext,
  type InferRequest,
  InvalidInput,
  isInferRequest,
  isInferResponse,
  type Payload,
  PredictorError,
  type Result,
  Transformer,
} from '@servekit/core';
import { parseCustomers } from './customer.js';

/** Below this churn probability a customer is approved (the course's decision rule). */
export const APPROVAL_THRESHOLD = 0.5;

/** One answer per customer. */
export interface ChurnDecision {
  /** P(churn), the predictor's probability of class 1. */
  churn_probability: number;
  /** `churn_probability < 0.5`. */
  approved: boolean;
}

/** The churn transformer: validates customers, asks the predictor for predict_proba, answers decisions. */
export default class ChurnTransformer extends Transformer {
  /** Check the `{"instances": [...]}` customers and build the predictor request (V1, or V2 REST/gRPC). */
  override preprocess(payload: Payload, _ctx: InferContext): Payload {
    if (isInferRequest(payload)) {
      throw new InvalidInput(`${this.name} takes a V1 body {"instances": [customer, ...]}, not a V2 request`);
    }
    const customers = parseCustomers(payload);
    if (this.predictor.protocol === 'v1') return { instances: customers, parameters: { predict_proba: true } };
    const request: InferRequest = {
      inputs: [
        {
          name: 'input-0',
          datatype: 'BYTES',
          shape: [customers.length],
          data: customers.map((c) => JSON.stringify(c)),
        },
      ],
      parameters: { predict_proba: true },
    };
    return request;
  }

  /** Turn the predictor's [N, 2] probabilities into one decision per customer. */
  override postprocess(result: Result, _ctx: InferContext): Result {
    const decisions = churnProbabilities(result, this.predictor.description).map(
      (p): ChurnDecision => ({ churn_probability: p, approved: p < APPROVAL_THRESHOLD }),
    );
    return { predictions: decisions };
  }
}

/** Column 1 (class 1 = churn) of the predictor's [N, 2] predict_proba answer, V1 rows or a V2 tensor. */
export function churnProbabilities(result: Result, predictor: string): number[] {
  const unexpected = (what: string) =>
    new PredictorError(`predictor ${predictor} answered ${what}; expected [N, 2] class probabilities`);
  if (isInferResponse(result)) {
    const out = result.outputs[0];
    if (!out) throw unexpected('no output');
    if (out.shape.length !== 2 || out.shape[1] !== 2 || out.datatype === 'BYTES') {
      throw unexpected(`${out.datatype} ${JSON.stringify(out.shape)}`);
    }
    const data = out.data as ArrayLike<number>;
    return Array.from({ length: out.shape[0]! }, (_, i) => Number(data[2 * i + 1]));
  }
  const rows = result.predictions;
  if (!Array.isArray(rows)) throw unexpected('no "predictions"');
  return rows.map((row) => {
    if (!Array.isArray(row) || row.length !== 2 || typeof row[1] !== 'number') throw unexpected(JSON.stringify(row));
    return row[1];
  });
}
