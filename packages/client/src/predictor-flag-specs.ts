// The transformer's predictor flags and their checks, without the clients they build (exported as
// `@servekit/client/flags`: `servekit serve` parses and checks them without loading the HTTP/gRPC clients).
import type { FlagSpec, ParsedFlagsOf, PredictorProtocol } from '@servekit/core';

/** The values of `--predictor_protocol`. */
export const PREDICTOR_PROTOCOLS = ['v1', 'v2', 'grpc-v2'] as const satisfies readonly PredictorProtocol[];

/** The transformer flags (KServe's names and defaults, plus servekit's in-process `--predictor_model_dir`). */
export const PREDICTOR_FLAGS = [
  { name: 'predictor_host', type: 'string', doc: 'Transformer: the predictor requests are forwarded to, host:port.' },
  {
    name: 'predictor_protocol',
    type: 'string',
    default: 'v1',
    choices: PREDICTOR_PROTOCOLS,
    doc: 'Transformer: protocol spoken to the predictor: v1, v2 (REST) or grpc-v2.',
  },
  { name: 'predictor_use_ssl', type: 'boolean', default: false, doc: 'Transformer: reach the predictor over TLS.' },
  {
    name: 'predictor_ca_file',
    type: 'string',
    doc: "Transformer: PEM CA bundle the predictor's certificate must chain to (implies TLS; default: Node's roots).",
  },
  {
    name: 'predictor_client_cert_file',
    type: 'string',
    doc: 'Transformer: PEM client certificate for a predictor requiring mutual TLS (implies TLS).',
  },
  {
    name: 'predictor_client_key_file',
    type: 'string',
    doc: 'Transformer: PEM private key of --predictor_client_cert_file.',
  },
  {
    name: 'predictor_request_timeout_seconds',
    type: 'number',
    default: 600,
    doc: 'Transformer: deadline of one predictor call, retries included (then 503).',
  },
  {
    name: 'predictor_request_retries',
    type: 'number',
    default: 0,
    doc: 'Transformer: retries of a predictor call on connection errors and 503, with backoff.',
  },
  {
    name: 'enable_predictor_health_check',
    type: 'boolean',
    default: false,
    doc: "Transformer: readiness follows the predictor model's readiness.",
  },
  {
    name: 'predictor_model_dir',
    type: 'string',
    doc: 'Transformer: load the predictor from DIR into this process (no network hop), instead of --predictor_host.',
  },
  {
    name: 'predictor_model_name',
    type: 'string',
    doc: "Transformer: the predictor's model name (default: the transformer's name).",
  },
] as const satisfies readonly FlagSpec[];

/** Parsed values of PREDICTOR_FLAGS (`parseFlags` with them among its specs). */
export type PredictorFlags = ParsedFlagsOf<typeof PREDICTOR_FLAGS>;

/** Check the predictor flags' values and combination; throws naming the flag. Returns the protocol. */
export function checkPredictorFlags(flags: Partial<PredictorFlags>): PredictorProtocol {
  if (flags.predictor_host && flags.predictor_model_dir) {
    throw new Error('give either --predictor_host or --predictor_model_dir, not both');
  }
  const seconds = flags.predictor_request_timeout_seconds ?? 600;
  if (!(seconds > 0)) throw new Error(`--predictor_request_timeout_seconds must be > 0; got ${seconds}`);
  const retries = flags.predictor_request_retries ?? 0;
  if (!(Number.isInteger(retries) && retries >= 0)) {
    throw new Error(`--predictor_request_retries must be a whole number ≥ 0; got ${retries}`);
  }
  return flags.predictor_protocol ?? 'v1';
}
