// `servekit serve` flags: typed values derived from SERVE_FLAGS, and the flags with a fixed list of values
// (model format, sklearn method, TensorFlow backend/engine, graph optimization level) refused outside it.
import { parseFlags, usage } from '@servekit/core';
import { SKLEARN_METHODS as CONVERTER_METHODS } from '@servekit/sklearn';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MODEL_FORMATS, SERVE_FLAGS, type ServeFlags, SKLEARN_METHODS, TF_BACKENDS, TF_ENGINES } from '../src/flags.js';
import { GRAPH_OPTIMIZATION_LEVELS } from '../src/session-flags.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseFlags(argv, SERVE_FLAGS, env).flags;

describe('SERVE_FLAGS', () => {
  it('parse into the types their specs declare', () => {
    const flags = parse([]);
    expectTypeOf(flags).toEqualTypeOf<ServeFlags>();
    expectTypeOf(flags.model_format).toEqualTypeOf<(typeof MODEL_FORMATS)[number] | undefined>();
    expectTypeOf(flags.sklearn_method).toEqualTypeOf<(typeof SKLEARN_METHODS)[number] | undefined>();
    expectTypeOf(flags.tf_backend).toEqualTypeOf<(typeof TF_BACKENDS)[number]>();
    expectTypeOf(flags.tf_engine).toEqualTypeOf<(typeof TF_ENGINES)[number]>();
    expectTypeOf(flags.graph_optimization_level).toEqualTypeOf<
      (typeof GRAPH_OPTIMIZATION_LEVELS)[number] | undefined
    >();
    expectTypeOf(flags.intra_op_threads).toEqualTypeOf<number | undefined>();
    expectTypeOf(flags.predict_proba).toEqualTypeOf<boolean>();
    expectTypeOf(flags.storage_max_entries).toEqualTypeOf<number>();
    expectTypeOf(flags.predictor_protocol).toEqualTypeOf<'v1' | 'v2' | 'grpc-v2'>();
    expectTypeOf(flags.http_port).toEqualTypeOf<number>();
    expect(flags).toMatchObject({ tf_backend: 'wasm', tf_engine: 'auto', model_format: undefined });
  });

  it('--sklearn_method offers exactly the methods the scikit-learn converters serve', () => {
    expect([...SKLEARN_METHODS]).toEqual([...CONVERTER_METHODS]);
  });

  it.each([
    ['model_format', 'pytorch', MODEL_FORMATS],
    ['sklearn_method', 'predict_log_proba', SKLEARN_METHODS],
    ['tf_backend', 'webgl', TF_BACKENDS],
    ['tf_engine', 'xla', TF_ENGINES],
    ['graph_optimization_level', 'fast', GRAPH_OPTIMIZATION_LEVELS],
  ] as const)('--%s refuses "%s", listing the choices (flag and env var)', (name, bad, choices) => {
    const list = choices.join(', ');
    expect(() => parse([`--${name}`, bad])).toThrowError(`--${name}: expected one of ${list}, got "${bad}".`);
    const env = `SERVEKIT_${name.toUpperCase()}`;
    expect(() => parse([], { [env]: bad })).toThrowError(`$${env}: expected one of ${list}, got "${bad}".`);
    for (const ok of choices) expect(parse([`--${name}=${ok}`])[name]).toBe(ok);
    expect(parse([], { [env]: choices[0] })[name]).toBe(choices[0]);
  });

  it('usage shows the choices in the docs', () => {
    const text = usage('servekit serve', SERVE_FLAGS);
    for (const choices of [MODEL_FORMATS, SKLEARN_METHODS, GRAPH_OPTIMIZATION_LEVELS]) {
      expect(text).toContain(choices.join(', '));
    }
    expect(text).toContain('wasm or cpu');
  });
});
