import type * as grpc from '@grpc/grpc-js';
import type { Tracer, TraceSpan } from './span.js';

const SPAN = Symbol('servekit.span');

type TracedCall = grpc.ServerUnaryCall<unknown, unknown> & { [SPAN]?: TraceSpan };

/** gRPC status codes that make a server span an error (OpenTelemetry gRPC semantic conventions). */
const SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

/**
 * Start the server span of a unary gRPC call (OpenTelemetry RPC semantic conventions: `rpc.system` grpc,
 * `rpc.service`, `rpc.method`), a child of the `traceparent` in its metadata; {@link endGrpcSpan} ends it.
 */
export function startGrpcSpan(tracer: Tracer, call: grpc.ServerUnaryCall<unknown, unknown>): TraceSpan {
  const path = call.getPath();
  const slash = path.lastIndexOf('/');
  const service = path.slice(1, slash);
  const method = path.slice(slash + 1);
  const carrier: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const v = call.metadata.get(key)[0];
    if (v !== undefined) carrier[key] = v.toString();
  }
  const span = tracer.startServerSpan(`${service}/${method}`, carrier, {
    'rpc.system': 'grpc',
    'rpc.service': service,
    'rpc.method': method,
    ...peerAttributes(call.getPeer()),
  });
  (call as TracedCall)[SPAN] = span;
  return span;
}

/** End a gRPC server span with the call's status code (and its message when the code is a server error). */
export function endGrpcSpan(span: TraceSpan, code: number, message?: string): void {
  span.setAttributes({ 'rpc.grpc.status_code': code });
  if (SERVER_ERROR_CODES.has(code)) span.fail({ name: String(code), message: message ?? `gRPC status ${code}` });
  span.end();
}

/** The server span of a gRPC call (undefined when tracing is off). */
export function grpcCallSpan(call: grpc.ServerUnaryCall<unknown, unknown>): TraceSpan | undefined {
  return (call as TracedCall)[SPAN];
}

/** `network.peer.address` / `.port` of a grpc-js peer string (`1.2.3.4:5678`, `[::1]:5678`). */
function peerAttributes(peer: string): Record<string, string | number> {
  const colon = peer.lastIndexOf(':');
  const port = Number(peer.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port)) return { 'network.peer.address': peer };
  return { 'network.peer.address': peer.slice(0, colon).replace(/^\[|\]$/g, ''), 'network.peer.port': port };
}
