// The transformer's --predictor_* flags: parsed with the server flags into typed values, the protocol checked
// against its choices (on the command line and in env vars), and the checks of values parseFlags cannot make.
import { parseFlags, SERVER_FLAGS } from '@servekit/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  checkPredictorFlags,
  PREDICTOR_FLAGS,
  type PREDICTOR_PROTOCOLS,
  type PredictorFlags,
  predictorFromFlags,
  RemotePredictor,
} from '../src/index.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  parseFlags(argv, [...SERVER_FLAGS, ...PREDICTOR_FLAGS], env).flags;

describe('predictor flags', () => {
  it('parse into typed values beside the server flags', async () => {
    const flags = parse(['--predictor_host', 'h:1', '--predictor-protocol', 'grpc-v2', '--http_port', '9']);
    expectTypeOf(flags.predictor_protocol).toEqualTypeOf<(typeof PREDICTOR_PROTOCOLS)[number]>();
    expectTypeOf(flags.predictor_host).toEqualTypeOf<string | undefined>();
    expectTypeOf(flags.predictor_request_timeout_seconds).toEqualTypeOf<number>();
    expectTypeOf(flags.predictor_use_ssl).toEqualTypeOf<boolean>();
    expectTypeOf(flags.http_port).toEqualTypeOf<number>();
    expectTypeOf(flags).toMatchTypeOf<PredictorFlags>();
    expect(flags).toMatchObject({ predictor_host: 'h:1', predictor_protocol: 'grpc-v2', http_port: 9 });
    expect(checkPredictorFlags(flags)).toBe('grpc-v2');
    const p = predictorFromFlags(flags);
    expect(p).toBeInstanceOf(RemotePredictor);
    expect(p!.description).toBe('grpc://h:1');
    await (p as RemotePredictor).close();
  });

  it('refuse a --predictor_protocol outside its choices, listing them', () => {
    expect(parse([]).predictor_protocol).toBe('v1');
    expect(() => parse(['--predictor_protocol', 'v3'])).toThrowError(
      '--predictor_protocol: expected one of v1, v2, grpc-v2, got "v3".',
    );
    expect(parse([], { SERVEKIT_PREDICTOR_PROTOCOL: 'v2' }).predictor_protocol).toBe('v2');
    expect(() => parse([], { SERVEKIT_PREDICTOR_PROTOCOL: 'http' })).toThrowError(
      '$SERVEKIT_PREDICTOR_PROTOCOL: expected one of v1, v2, grpc-v2, got "http".',
    );
  });

  it('check what choices cannot: combinations and ranges, naming the flag', () => {
    expect(() => checkPredictorFlags(parse(['--predictor_host', 'h:1', '--predictor_model_dir', '/m']))).toThrow(
      'give either --predictor_host or --predictor_model_dir, not both',
    );
    expect(() => checkPredictorFlags(parse(['--predictor_request_timeout_seconds', '0']))).toThrow(
      '--predictor_request_timeout_seconds must be > 0; got 0',
    );
    expect(() => checkPredictorFlags(parse(['--predictor_request_retries', '1.5']))).toThrow(
      '--predictor_request_retries must be a whole number ≥ 0; got 1.5',
    );
    expect(checkPredictorFlags({})).toBe('v1');
  });
});
