import type * as grpc from '@grpc/grpc-js';
import { InvalidInput } from '../errors.js';

/**
 * What a request deserializer hands the handler when the bytes are not a valid message: grpc-js would answer a
 * throwing deserializer with INTERNAL and the parser's own message, so the handler answers INVALID_ARGUMENT instead.
 */
export class MalformedMessage {
  constructor(
    /** The RPC whose request could not be parsed. */
    readonly method: string,
    /** What the decoder said was wrong, when it said so for a client (an InvalidInput's message). */
    readonly reason?: string,
  ) {}
}

/** Methods whose request and response travel as serialized bytes, decoded and encoded by servekit's own codec. */
export const RAW_BYTES_METHODS: ReadonlySet<string> = new Set(['ModelInfer']);

const identity = (b: Buffer): Buffer => b;

/**
 * The service definition as served: every proto-loader request deserializer answers malformed bytes with a
 * {@link MalformedMessage} instead of throwing, and the {@link RAW_BYTES_METHODS} take and return Buffers.
 */
export function servedServiceDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const served: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [method, def] of Object.entries(definition) as Array<[string, grpc.MethodDefinition<unknown, unknown>]>) {
    if (RAW_BYTES_METHODS.has(method)) {
      served[method] = { ...def, requestDeserialize: identity, responseSerialize: identity as (v: unknown) => Buffer };
      continue;
    }
    const parse = def.requestDeserialize;
    served[method] = {
      ...def,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return parse(bytes);
        } catch (err) {
          return new MalformedMessage(method, err instanceof InvalidInput ? err.message : undefined);
        }
      },
    };
  }
  return served;
}
