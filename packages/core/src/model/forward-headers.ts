/** Header names a transformer forwards to its predictor by default: request id, credentials and tracing. */
export const FORWARDED_HEADERS: readonly string[] = [
  'x-request-id',
  'authorization',
  'traceparent',
  'tracestate',
  'baggage',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'x-cloud-trace-context',
];

/** Incoming headers (e.g. an InferContext's) reduced to the ones worth forwarding, as single strings. */
export function forwardHeaders(
  incoming: Record<string, string | string[] | undefined>,
  names: readonly string[] = FORWARDED_HEADERS,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = incoming[name.toLowerCase()];
    if (typeof v === 'string') out[name] = v;
    else if (Array.isArray(v) && v.length > 0) out[name] = v.join(', ');
  }
  return out;
}
