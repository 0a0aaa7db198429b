import { readFileSync } from 'node:fs';
import { LocalPredictor, type Model, type Predictor, type TransformerOptions } from '@servekit/core';
import { checkPredictorFlags, type PredictorFlags } from './predictor-flag-specs.js';
import { type PredictorTlsOptions, RemotePredictor } from './remote-predictor.js';

/** Builds the in-process predictor model of `--predictor_model_dir` (a server supplies its format detection). */
export type LocalModelLoader = (dir: string, name: string) => Promise<Model>;

/** Options of `predictorFromFlags` / `transformerOptionsFromFlags`. */
export interface PredictorFlagsOptions {
  /** How `--predictor_model_dir` becomes a model; without it that flag is an error. */
  loadLocalModel?: LocalModelLoader;
  /** The name of the in-process model when `--predictor_model_name` is not given. Default `predictor`. */
  defaultLocalName?: string;
}

/** The transformer options the flags give; `predictor` is absent when neither predictor flag is given. */
export type TransformerFlagOptions = Omit<TransformerOptions, 'predictor'> & { predictor?: Predictor };

function readPemFlag(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag} ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
}

/**
 * TLS material of the predictor connection from `--predictor_ca_file`, `--predictor_client_cert_file` and
 * `--predictor_client_key_file` (read once, at start); undefined when none is given. Throws naming the flag.
 */
export function predictorTlsFromFlags(flags: Partial<PredictorFlags>): PredictorTlsOptions | undefined {
  const { predictor_ca_file: caFile, predictor_client_cert_file: certFile, predictor_client_key_file: keyFile } = flags;
  if (!caFile && !certFile && !keyFile) return undefined;
  if (!certFile !== !keyFile) {
    throw new Error('--predictor_client_cert_file and --predictor_client_key_file go together: give both or neither');
  }
  const tls: PredictorTlsOptions = {};
  if (caFile) tls.ca = readPemFlag('--predictor_ca_file', caFile);
  if (certFile && keyFile) {
    tls.cert = readPemFlag('--predictor_client_cert_file', certFile);
    tls.key = readPemFlag('--predictor_client_key_file', keyFile);
  }
  return tls;
}

/**
 * The predictor the flags name: a RemotePredictor for `--predictor_host`, a LocalPredictor for
 * `--predictor_model_dir` (its model built by `options.loadLocalModel` when the transformer loads), or
 * undefined when neither is given. Bad values throw naming the flag.
 */
export function predictorFromFlags(
  flags: Partial<PredictorFlags>,
  options: PredictorFlagsOptions = {},
): Predictor | undefined {
  const host = flags.predictor_host;
  const dir = flags.predictor_model_dir;
  const protocol = checkPredictorFlags(flags);
  if (host) {
    const tls = predictorTlsFromFlags(flags);
    return new RemotePredictor({
      host,
      protocol,
      useSsl: flags.predictor_use_ssl === true || tls !== undefined,
      tls,
      timeoutMs: (flags.predictor_request_timeout_seconds ?? 600) * 1000,
      retries: flags.predictor_request_retries ?? 0,
    });
  }
  if (dir) {
    const load = options.loadLocalModel;
    if (!load) throw new Error('--predictor_model_dir needs a server that can load models (servekit serve)');
    const name = flags.predictor_model_name ?? options.defaultLocalName ?? 'predictor';
    return new LocalPredictor(() => load(dir, name), protocol === 'v1' ? 'v1' : 'v2', `in-process model ${dir}`);
  }
  return undefined;
}

/**
 * Transformer options from the flags: the predictor (see `predictorFromFlags`), its model name
 * (`--predictor_model_name`) and the health check (`--enable_predictor_health_check`).
 */
export function transformerOptionsFromFlags(
  flags: Partial<PredictorFlags>,
  options: PredictorFlagsOptions = {},
): TransformerFlagOptions {
  const out: TransformerFlagOptions = { healthCheck: flags.enable_predictor_health_check === true };
  const predictor = predictorFromFlags(flags, options);
  if (predictor) out.predictor = predictor;
  const model = flags.predictor_model_name;
  if (model) out.predictorModel = model;
  return out;
}
