/**
 * `RepositoryModelLoadRequest` / `RepositoryModelUnloadRequest` exist in two wire layouts under one RPC name:
 * KServe's (`model_name = 1`) and Triton's (`repository_name = 1`, `model_name = 2`, `parameters = 3`).
 * A generated deserializer can only read one, so these requests are decoded here: field 2 present → Triton's
 * layout, else field 1 is the model name.
 */
import type * as grpc from '@grpc/grpc-js';
import { InvalidInput } from '../errors.js';

/** One value of Triton's `map<string, ModelRepositoryParameter> parameters`. */
export type RepositoryParameter = boolean | string | bigint | Uint8Array;

/** A decoded load/unload request, whichever layout it came in. */
export interface RepositoryModelRequest {
  /** The model to load or unload ('' when the client sent none). */
  model_name: string;
  /** Triton's repository name ('' in KServe's layout or when not sent). */
  repository_name: string;
  /** Triton's load parameters (`config`, `file:…`), by key. */
  parameters: Map<string, RepositoryParameter>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A minimal protobuf reader over one message's bytes. */
class WireReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length || shift > 63n) throw new InvalidInput('Malformed repository request.');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (len > this.buf.length - this.pos) throw new InvalidInput('Malformed repository request.');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    try {
      return utf8.decode(this.bytes());
    } catch (err) {
      if (err instanceof InvalidInput) throw err;
      throw new InvalidInput('Repository request holds a string that is not UTF-8.');
    }
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.advance(8);
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.advance(4);
    else throw new InvalidInput('Malformed repository request.');
  }

  private advance(n: number): void {
    if (n > this.buf.length - this.pos) throw new InvalidInput('Malformed repository request.');
    this.pos += n;
  }
}

function decodeParameter(bytes: Uint8Array): RepositoryParameter | undefined {
  const r = new WireReader(bytes);
  let value: RepositoryParameter | undefined;
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 0) value = r.varint() !== 0n;
    else if (field === 2 && wire === 0) value = BigInt.asIntN(64, r.varint());
    else if (field === 3 && wire === 2) value = r.string();
    else if (field === 4 && wire === 2) value = r.bytes();
    else r.skip(wire);
  }
  return value;
}

function decodeMapEntry(bytes: Uint8Array): [string, RepositoryParameter | undefined] {
  const r = new WireReader(bytes);
  let key = '';
  let value: RepositoryParameter | undefined;
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) key = r.string();
    else if (field === 2 && wire === 2) value = decodeParameter(r.bytes());
    else r.skip(wire);
  }
  return [key, value];
}

/** Decode a load/unload request in KServe's or Triton's layout. */
export function decodeRepositoryModelRequest(bytes: Uint8Array): RepositoryModelRequest {
  const r = new WireReader(bytes);
  let field1: string | undefined;
  let field2: string | undefined;
  const parameters = new Map<string, RepositoryParameter>();
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) field1 = r.string();
    else if (field === 2 && wire === 2) field2 = r.string();
    else if (field === 3 && wire === 2) {
      const [key, value] = decodeMapEntry(r.bytes());
      if (value !== undefined) parameters.set(key, value);
    } else r.skip(wire);
  }
  if (field2 !== undefined) return { model_name: field2, repository_name: field1 ?? '', parameters };
  return { model_name: field1 ?? '', repository_name: '', parameters };
}

const DUAL_LAYOUT_METHODS = ['RepositoryModelLoad', 'RepositoryModelUnload'] as const;

/**
 * The service definition with the load/unload requests decoded by {@link decodeRepositoryModelRequest}, so
 * both KServe's and Triton's clients reach the same handlers. The other methods are unchanged.
 */
export function withDualLayoutRepositoryRequests(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...service };
  for (const name of DUAL_LAYOUT_METHODS) {
    const method = service[name];
    if (method) out[name] = { ...method, requestDeserialize: decodeRepositoryModelRequest };
  }
  return out;
}
