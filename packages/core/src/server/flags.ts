import { parseArgs } from 'node:util';
import { LOG_MODES } from '../payload-log/options.js';

/** Kind of value a flag takes. `boolean` flags accept `--flag`, `--flag true|false` and `--flag=false`. */
export type FlagType = 'string' | 'number' | 'boolean' | 'numbers';

/** One command-line flag: KServe-style snake_case name, kebab-case alias and env var are derived. */
export interface FlagSpec {
  /** snake_case name, e.g. `http_port`. */
  readonly name: string;
  /** Value kind. */
  readonly type: FlagType;
  /** Default value. */
  readonly default?: string | number | boolean | readonly number[];
  /** The values a `string` flag may take (argparse's `choices=`); any other value is refused, naming them. */
  readonly choices?: readonly string[];
  /** One-line description (printed by --help, documented in the README). */
  readonly doc: string;
  /** Extra env vars read for this flag (KServe's names), after `SERVEKIT_<NAME>`. */
  readonly env?: readonly string[];
}

/** The value type one spec parses to: its choices' union, else by `type`. */
export type FlagValueOf<S extends FlagSpec> = S extends { readonly choices: readonly (infer C)[] }
  ? C
  : S['type'] extends 'number'
    ? number
    : S['type'] extends 'boolean'
      ? boolean
      : S['type'] extends 'numbers'
        ? number[]
        : string;

/**
 * Parsed flag values of a spec list declared `as const`, by snake_case name: a flag with a default always has a
 * value, one without may be undefined.
 */
export type ParsedFlagsOf<Specs extends readonly FlagSpec[]> = {
  [S in Specs[number] as S['name']]: S extends { readonly default: unknown }
    ? FlagValueOf<S>
    : FlagValueOf<S> | undefined;
};

/** Log levels of `--log_level` (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The flags every servekit server takes (KServe's names and defaults). */
export const SERVER_FLAGS = [
  { name: 'http_port', type: 'number', default: 8080, doc: 'HTTP port (REST V1, V2, /metrics).' },
  { name: 'grpc_port', type: 'number', default: 8081, doc: 'gRPC port (V2 GRPCInferenceService).' },
  { name: 'host', type: 'string', default: '0.0.0.0', doc: 'Address to listen on.' },
  { name: 'model_name', type: 'string', doc: 'Name the model is served under.', env: ['MODEL_NAME'] },
  { name: 'model_dir', type: 'string', doc: 'Local directory holding the model files.', env: ['MODEL_DIR'] },
  { name: 'workers', type: 'number', default: 1, doc: 'Worker processes sharing the HTTP port (node:cluster).' },
  { name: 'enable_grpc', type: 'boolean', default: true, doc: 'Serve gRPC on --grpc_port.' },
  { name: 'max_body_size', type: 'number', default: 64 * 1024 * 1024, doc: 'Largest REST request body in bytes.' },
  {
    name: 'max_decoded_bytes',
    type: 'number',
    default: 256 * 1024 * 1024,
    doc: 'Largest decoded tensor data of one request in bytes (all inputs together).',
  },
  { name: 'max_json_depth', type: 'number', default: 64, doc: 'Deepest nesting of arrays/objects in a JSON body.' },
  {
    name: 'max_json_body_size',
    type: 'number',
    default: 16 * 1024 * 1024,
    doc: 'Largest JSON text of a REST request in bytes (after inflating; binary tensor data excluded).',
  },
  {
    name: 'grpc_max_message_size',
    type: 'number',
    default: 64 * 1024 * 1024,
    doc: 'Largest gRPC message (request or response) in bytes.',
  },
  {
    name: 'log_level',
    type: 'string',
    default: 'info',
    choices: LOG_LEVELS,
    doc: `Log level: ${LOG_LEVELS.join(', ')}.`,
  },
  { name: 'enable_access_log', type: 'boolean', default: false, doc: 'Log one line per inference request.' },
  {
    name: 'enable_docs_url',
    type: 'boolean',
    default: false,
    doc: 'Serve the OpenAPI description and Swagger UI at /docs.',
  },
  {
    name: 'grace_period_seconds',
    type: 'number',
    default: 30,
    doc: 'On SIGTERM, time allowed for draining and in-flight requests before connections are cut.',
  },
  {
    name: 'drain_delay_seconds',
    type: 'number',
    default: 5,
    doc: 'On SIGTERM, time not-ready but still serving before the listeners close (at most the grace period).',
  },
  {
    name: 'request_timeout_seconds',
    type: 'number',
    default: 60,
    doc: 'Longest time to receive one whole request (headers and body); then 408 and the connection closes (0: none).',
  },
  {
    name: 'health_port',
    type: 'number',
    doc: 'Also serve /, /v2/health/live and /v2/health/ready on this port (off when unset).',
  },
  { name: 'max_batch_size', type: 'number', default: 1, doc: 'Dynamic batching: rows per batch (off when 1).' },
  {
    name: 'max_latency_ms',
    type: 'number',
    default: 5,
    doc: 'Dynamic batching: longest queue delay of the oldest request.',
  },
  { name: 'preferred_batch_sizes', type: 'numbers', doc: 'Dynamic batching: preferred batch sizes, comma separated.' },
  {
    name: 'max_queue_size',
    type: 'number',
    default: 1024,
    doc: 'Rows waiting in the batch queue, or requests waiting for a concurrency slot, per model, before 503.',
  },
  { name: 'max_inflight_batches', type: 'number', default: 2, doc: 'Dynamic batching: batches run at once per model.' },
  {
    name: 'batch_timeout_ms',
    type: 'number',
    default: 30_000,
    doc: 'Dynamic batching: longest queue wait of a request before 503.',
  },
  {
    name: 'max_concurrent_requests',
    type: 'number',
    default: 0,
    doc: 'Admission control: requests one model runs at once; more wait (--max_queue_size), then 503 (0: no cap).',
  },
  {
    name: 'max_concurrent_requests_total',
    type: 'number',
    default: 0,
    doc: 'Admission control: requests all models together run at once; more wait, then 503 (0: no cap).',
  },
  {
    name: 'log_url',
    type: 'string',
    doc: 'Payload logging: POST each inference request and response to this URL as a CloudEvent (off when unset).',
  },
  {
    name: 'log_mode',
    type: 'string',
    default: 'all',
    choices: LOG_MODES,
    doc: `Payload logging: what is logged (KServe's logger.mode): ${LOG_MODES.join(', ')}.`,
  },
  {
    name: 'log_headers',
    type: 'string',
    doc: 'Payload logging: request headers copied into ce-metadata (KServe logger.metadataHeaders), comma separated.',
  },
  {
    name: 'log_source',
    type: 'string',
    doc: 'Payload logging: ce-source of the events (default http://localhost:<http_port>/).',
  },
  {
    name: 'log_inference_service',
    type: 'string',
    doc: 'Payload logging: ce-inferenceservicename (omitted when unset).',
  },
  { name: 'log_namespace', type: 'string', doc: 'Payload logging: ce-namespace (omitted when unset).' },
  {
    name: 'log_component',
    type: 'string',
    doc: 'Payload logging: ce-component (default transformer when serving a transformer, else predictor).',
  },
  {
    name: 'log_endpoint',
    type: 'string',
    doc: 'Payload logging: ce-endpoint, e.g. default or canary (omitted when unset).',
  },
  {
    name: 'log_queue_size',
    type: 'number',
    default: 1024,
    doc: 'Payload logging: events waiting to be sent; more are dropped and counted.',
  },
  { name: 'log_senders', type: 'number', default: 5, doc: 'Payload logging: events sent at once.' },
  {
    name: 'tls_cert_file',
    type: 'string',
    doc: 'TLS: PEM certificate chain; serves HTTPS and gRPC over TLS (off when unset).',
  },
  { name: 'tls_key_file', type: 'string', doc: 'TLS: PEM private key of --tls_cert_file.' },
  {
    name: 'tls_client_ca_file',
    type: 'string',
    doc: 'TLS: PEM CA bundle; clients must present a certificate it signed (mutual TLS).',
  },
  {
    name: 'tls_reload_seconds',
    type: 'number',
    default: 10,
    doc: 'TLS: how often the TLS files are checked; changed ones serve new connections (0: never).',
  },
  {
    name: 'enable_tracing',
    type: 'boolean',
    doc: 'OpenTelemetry tracing, exported over OTLP/HTTP (configured by OTEL_* env). Unset: on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.',
  },
  {
    name: 'auth_token_file',
    type: 'string',
    doc: 'Require a bearer token: a file of accepted tokens, one a line (reloaded on change and SIGHUP).',
  },
  {
    name: 'auth_jwks_url',
    type: 'string',
    doc: 'Require a bearer token: accept JWTs (RS256/ES256) signed by a key of this JWKS.',
  },
  { name: 'auth_jwt_issuer', type: 'string', doc: 'Required `iss` of JWTs (needed with --auth_jwks_url).' },
  { name: 'auth_jwt_audience', type: 'string', doc: 'Accepted `aud` of JWTs, comma separated (unchecked when unset).' },
  {
    name: 'auth_protect_metrics',
    type: 'boolean',
    default: false,
    doc: 'With auth on, also require a bearer token for GET /metrics.',
  },
] as const satisfies readonly FlagSpec[];

/** Parsed values of SERVER_FLAGS. */
export type ServerFlags = ParsedFlagsOf<typeof SERVER_FLAGS>;

/** Parsed flag values by snake_case name, untyped (any spec list). */
export type ParsedFlags = Record<string, string | number | boolean | number[] | undefined>;

/** Words that mean yes, and no, in boolean flags and in request parameters (case-insensitive). */
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** `true`/`false` for a yes/no word (`true`, `1`, `yes`, `on` / `false`, `0`, `no`, `off`); undefined otherwise. */
export function boolWord(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (TRUE_WORDS.includes(v)) return true;
  if (FALSE_WORDS.includes(v)) return false;
  return undefined;
}

/** True for parameter values that mean yes (`true`, 1, or a yes word such as `"true"`). */
export function isTruthy(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && boolWord(v) === true);
}

/** The env var name of a flag: `SERVEKIT_` + upper-case name. */
export function envName(flag: string): string {
  return `SERVEKIT_${flag.toUpperCase()}`;
}

function convert(spec: FlagSpec, raw: string, from: string): string | number | boolean | number[] {
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new Error(`${from}: expected one of ${spec.choices.join(', ')}, got "${raw}".`);
      }
      return raw;
    case 'number':
      return toNumber(raw, from);
    case 'boolean': {
      const v = boolWord(raw);
      if (v === undefined) throw new Error(`${from}: expected true or false, got "${raw}".`);
      return v;
    }
    case 'numbers':
      return raw
        .split(',')
        .filter((s) => s.trim() !== '')
        .map((s) => toNumber(s, from));
  }
}

function toNumber(raw: string, from: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`${from}: expected a number, got "${raw}".`);
  return n;
}

/**
 * Parse `argv` against `specs` (snake_case and kebab-case accepted), falling back to env vars
 * (`SERVEKIT_<NAME>` and each spec's KServe names) and defaults. Unknown flags throw with the known list.
 * Returns the flags and the positional arguments.
 */
export function parseFlags(argv: string[]): { flags: ServerFlags; positionals: string[] };
export function parseFlags<const Specs extends readonly FlagSpec[]>(
  argv: string[],
  specs: Specs,
  env?: NodeJS.ProcessEnv,
): { flags: ParsedFlagsOf<Specs>; positionals: string[] };
export function parseFlags(
  argv: string[],
  specs: readonly FlagSpec[] = SERVER_FLAGS,
  env: NodeJS.ProcessEnv = process.env,
): { flags: ParsedFlags; positionals: string[] } {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    byName.set(s.name.replaceAll('_', '-'), s);
  }
  // Give bare boolean flags an explicit value so `--flag` and `--flag false` both parse.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    args.push(a);
    const spec = a.startsWith('--') && !a.includes('=') ? byName.get(a.slice(2)) : undefined;
    if (spec?.type === 'boolean' && boolWord(argv[i + 1] ?? '') === undefined) args.push('true');
  }
  const options: Record<string, { type: 'string' }> = {};
  for (const key of byName.keys()) options[key] = { type: 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    const known = specs.map((s) => `--${s.name}`).join(', ');
    throw new Error(`${(err as Error).message}\nKnown flags: ${known}`);
  }
  const flags: ParsedFlags = {};
  for (const spec of specs) {
    const kebab = spec.name.replaceAll('_', '-');
    const cli = parsed.values[spec.name] ?? parsed.values[kebab];
    if (typeof cli === 'string') {
      flags[spec.name] = convert(spec, cli, `--${spec.name}`);
      continue;
    }
    const envKey = [envName(spec.name), ...(spec.env ?? [])].find((k) => env[k] !== undefined && env[k] !== '');
    const def = spec.default;
    flags[spec.name] = envKey ? convert(spec, env[envKey]!, `$${envKey}`) : typeof def === 'object' ? [...def] : def;
  }
  // Each value was converted by its spec's type and choices: what the overloads' ParsedFlagsOf<Specs> states.
  return { flags, positionals: parsed.positionals };
}

/** Usage text listing every flag with its default and env var. */
export function usage(command: string, specs: readonly FlagSpec[] = SERVER_FLAGS): string {
  const lines = specs.map((s) => {
    const def = s.default === undefined ? '' : ` (default ${JSON.stringify(s.default)})`;
    return `  --${s.name.padEnd(24)} ${s.doc}${def} [env ${[envName(s.name), ...(s.env ?? [])].join(', ')}]`;
  });
  return `Usage: ${command} [flags]\n\n${lines.join('\n')}\n`;
}
