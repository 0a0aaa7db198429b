// The gRPC proto ships inside @servekit/core (packages/core/proto/, what the server and client load); the
// top-level protos/grpc_predict_v2.proto is the documented copy for other clients and must stay the same file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROTO_PATH } from '../src/protocols/grpc-proto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('grpc_predict_v2.proto', () => {
  it('the documented protos/ copy equals the one @servekit/core ships', () => {
    const shipped = readFileSync(PROTO_PATH, 'utf8');
    const documented = readFileSync(`${ROOT}protos/grpc_predict_v2.proto`, 'utf8');
    expect(PROTO_PATH.endsWith('packages/core/proto/grpc_predict_v2.proto')).toBe(true);
    expect(
      documented === shipped,
      'protos/grpc_predict_v2.proto differs from packages/core/proto/grpc_predict_v2.proto; sync it with ' +
        '`cp packages/core/proto/grpc_predict_v2.proto protos/`',
    ).toBe(true);
  });
});
