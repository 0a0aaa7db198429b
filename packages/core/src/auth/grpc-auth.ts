import * as grpc from '@grpc/grpc-js';
import type { AuthFailureCounter } from './auth-metrics.js';
import type { Authenticator, AuthOutcome } from './authenticator.js';
import { authErrorMessage, wwwAuthenticate } from './http-auth.js';

/** gRPC methods open without credentials: the Open Inference Protocol's health APIs (server live/ready, model ready). */
export const OPEN_GRPC_METHODS: readonly string[] = ['ServerLive', 'ServerReady', 'ModelReady'];

/** The outcome for a call's `authorization` metadata (more than one value is invalid). */
function checkMetadata(auth: Authenticator, metadata: grpc.Metadata): AuthOutcome | Promise<AuthOutcome> {
  const values = metadata.get('authorization');
  if (values.length === 0) return auth.check(undefined);
  if (values.length > 1 || typeof values[0] !== 'string') return 'invalid';
  return auth.check(values[0]);
}

/**
 * The unary handlers of a service with credentials required (`authorization: Bearer <t>` metadata) on every method
 * but the probes: a refusal is `UNAUTHENTICATED` with a generic message and a `www-authenticate` trailer.
 */
export function withGrpcAuth(
  handlers: grpc.UntypedServiceImplementation,
  auth: Authenticator,
  countFailure?: AuthFailureCounter,
): grpc.UntypedServiceImplementation {
  const guarded: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    if (OPEN_GRPC_METHODS.includes(name)) {
      guarded[name] = handler;
      continue;
    }
    const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
    const wrapped: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
      const refuse = (reason: Exclude<AuthOutcome, 'ok'>) => {
        countFailure?.('grpc', reason);
        const metadata = new grpc.Metadata();
        metadata.set('www-authenticate', wwwAuthenticate(reason));
        const details = authErrorMessage(reason);
        callback({ code: grpc.status.UNAUTHENTICATED, details, metadata, name: 'Unauthenticated', message: details });
      };
      const outcome = checkMetadata(auth, call.metadata);
      if (outcome === 'ok') unary(call, callback);
      else if (typeof outcome === 'string') refuse(outcome);
      else
        outcome.then(
          (o) => (o === 'ok' ? unary(call, callback) : refuse(o)),
          () => refuse('invalid'),
        );
    };
    guarded[name] = wrapped;
  }
  return guarded;
}
