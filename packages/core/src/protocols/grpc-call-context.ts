import type * as grpc from '@grpc/grpc-js';
import { deadlineFromGrpc, earliest } from '../admission/deadline.js';
import type { InferContext } from '../model/model.js';
import { grpcCallSpan } from '../tracing/grpc-tracing.js';
import { makeContext } from './context.js';

/** The per-request context of a gRPC call, and what to do once its answer is decided. */
export interface GrpcCallContext {
  /** Headers from the call's metadata, request id, deadline (the call's and the headers'), span, abort signal. */
  ctx: InferContext;
  /** The call is answered: a cancellation from now on (grpc-js reports every stream close as one) aborts nothing. */
  settle: () => void;
}

/**
 * The context of a gRPC call. Its abort signal is made on first read only (most requests never read it: no
 * admission queue, no batching), and it aborts when the client cancels the call before {@link GrpcCallContext.settle}.
 */
export function grpcCallContext(call: grpc.ServerUnaryCall<unknown, unknown>, bodyId?: string): GrpcCallContext {
  const headers: InferContext['headers'] = {};
  const map = call.metadata.getMap();
  for (const k in map) {
    const v = map[k] as string | Buffer;
    headers[k] = typeof v === 'string' ? v : v.toString();
  }
  let onCancelled: (() => void) | undefined;
  let settled = false;
  const signal = (): AbortSignal => {
    const ac = new AbortController();
    if (call.cancelled && !settled) ac.abort();
    else if (!settled) {
      onCancelled = () => ac.abort();
      call.once('cancelled', onCancelled);
    }
    return ac.signal;
  };
  const ctx = makeContext(headers, 'grpc-v2', signal, bodyId, grpcCallSpan(call));
  ctx.deadline = earliest(ctx.deadline, deadlineFromGrpc(call.getDeadline()));
  ctx.clientGone = () => call.cancelled && !settled;
  const settle = (): void => {
    settled = true;
    if (onCancelled) call.removeListener('cancelled', onCancelled);
    onCancelled = undefined;
  };
  return { ctx, settle };
}
