/**
 * Client deadlines of one inference request, as a time on `performance.now()`'s clock (ms). A request carries one
 * when the client sends the gRPC `grpc-timeout` (its call deadline), the `x-request-timeout` header (seconds), or
 * Triton's V2 `parameters.timeout` (microseconds); the earliest wins. Queues drop a request whose deadline passed
 * before it ran (admission queue, batch queue) with {@link RequestTimeoutExpired}.
 */
import { clip, GrpcCode, InvalidInput, ServekitError } from '../errors.js';
import type { InferContext } from '../model/model.js';
import type { Parameters } from '../protocols/infer-types.js';

/** The REST header (also read as gRPC metadata) giving the request's timeout in seconds, e.g. `0.25`. */
export const REQUEST_TIMEOUT_HEADER = 'x-request-timeout';

/** Longest timeout accepted from a client (ms): one day; anything longer is treated as this. */
const MAX_TIMEOUT_MS = 86_400_000;

/**
 * A request whose deadline passed before it ran: Triton's answer to a request whose `timeout` expired in its queue
 * (UNAVAILABLE "Request timeout expired", HTTP 503), with Retry-After.
 */
export class RequestTimeoutExpired extends ServekitError {
  constructor(modelName: string, where: string) {
    super(
      `Request timeout expired: the request to model ${clip(modelName)} reached its deadline while waiting in the ${where} queue, before it ran.`,
      503,
      GrpcCode.UNAVAILABLE,
      { 'retry-after': '1' },
    );
  }
}

/** The deadline set by the `x-request-timeout` header (seconds, > 0), or undefined without one. 400 when malformed. */
export function deadlineFromHeaders(headers: InferContext['headers'], now = performance.now()): number | undefined {
  const raw = headers[REQUEST_TIMEOUT_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  const seconds = /^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0)) {
    throw new InvalidInput(
      `${REQUEST_TIMEOUT_HEADER} must be a positive number of seconds (e.g. 0.5), got "${clip(text, 40)}".`,
    );
  }
  return now + Math.min(seconds * 1e3, MAX_TIMEOUT_MS);
}

/**
 * The deadline set by Triton's request parameter `timeout` (an integer number of microseconds; 0 = none), or
 * undefined without one. 400 when it is not a non-negative integer.
 */
export function deadlineFromParameters(
  parameters: Parameters | undefined,
  now = performance.now(),
): number | undefined {
  const raw = parameters?.timeout;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) {
    throw new InvalidInput(
      `Request parameter "timeout" must be a non-negative integer number of microseconds (0: none), got ${clip(JSON.stringify(raw), 40)}.`,
    );
  }
  return raw === 0 ? undefined : now + Math.min(raw / 1e3, MAX_TIMEOUT_MS);
}

/** A gRPC call deadline (`call.getDeadline()`: a Date or epoch ms, Infinity when none) on the monotonic clock. */
export function deadlineFromGrpc(deadline: Date | number, now = performance.now()): number | undefined {
  const epochMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(epochMs)) return undefined;
  return now + Math.min(epochMs - Date.now(), MAX_TIMEOUT_MS);
}

/** The earlier of two deadlines (undefined = none). */
export function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

/** Tighten `ctx.deadline` with the request's V2 `parameters.timeout` (Triton), if it sends one. */
export function applyTimeoutParameter(ctx: InferContext, parameters: Parameters | undefined): void {
  if (parameters?.timeout === undefined) return;
  ctx.deadline = earliest(ctx.deadline, deadlineFromParameters(parameters));
}

/** True when the request has a deadline and it has passed at `now`. */
export function deadlinePassed(ctx: InferContext, now = performance.now()): boolean {
  return ctx.deadline !== undefined && ctx.deadline <= now;
}

/**
 * How close to its deadline (ms) a client that goes away counts as gone because of it: a gRPC client cancels the call
 * at its own deadline, and that cancel reaches the server about when the server's copy of the deadline (taken from
 * `grpc-timeout` on arrival, so later by the one-way delay) passes, before or after its timer on a busy event loop.
 */
const GONE_AT_DEADLINE_MS = 50;

/** True when a client that has just gone away left at its deadline (within `GONE_AT_DEADLINE_MS` of it). */
export function goneAtDeadline(ctx: InferContext, now = performance.now()): boolean {
  return deadlinePassed(ctx, now + GONE_AT_DEADLINE_MS);
}
