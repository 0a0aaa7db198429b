// CLI flag parsing shared by every server: KServe names and defaults, kebab aliases, env vars, errors.
import {
  boolWord,
  envName,
  type FlagSpec,
  isTruthy,
  LOG_LEVELS,
  type ParsedFlagsOf,
  parseFlags,
  SERVER_FLAGS,
  type ServerFlags,
  serverOptionsFromFlags,
  usage,
} from '@servekit/core';
import { describe, expect, expectTypeOf, it } from 'vitest';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseFlags(argv, SERVER_FLAGS, env);

describe('parseFlags', () => {
  it("uses KServe's defaults", () => {
    const { flags, positionals } = parse([]);
    expect(flags).toMatchObject({
      http_port: 8080,
      grpc_port: 8081,
      workers: 1,
      enable_grpc: true,
      max_body_size: 64 * 1024 * 1024,
      log_level: 'info',
      enable_docs_url: false,
    });
    expect(flags.model_name).toBeUndefined();
    expect(positionals).toEqual([]);
  });

  it('reads snake_case flags with separate values', () => {
    const { flags } = parse(['--http_port', '9000', '--model_name', 'iris', '--workers', '4']);
    expect(flags).toMatchObject({ http_port: 9000, model_name: 'iris', workers: 4 });
  });

  it('reads kebab-case aliases and --flag=value', () => {
    const { flags } = parse(['--http-port=9001', '--model-dir', '/models/x', '--max-body-size=1024']);
    expect(flags).toMatchObject({ http_port: 9001, model_dir: '/models/x', max_body_size: 1024 });
  });

  it('falls back to SERVEKIT_* and KServe env vars; the command line wins', () => {
    const env = {
      SERVEKIT_HTTP_PORT: '9002',
      MODEL_NAME: 'from-env',
      MODEL_DIR: '/mnt/models',
      SERVEKIT_ENABLE_GRPC: 'false',
    };
    expect(parse([], env).flags).toMatchObject({
      http_port: 9002,
      model_name: 'from-env',
      model_dir: '/mnt/models',
      enable_grpc: false,
    });
    expect(parse(['--http_port', '1234', '--model_name', 'cli'], env).flags).toMatchObject({
      http_port: 1234,
      model_name: 'cli',
    });
    expect(envName('grpc_port')).toBe('SERVEKIT_GRPC_PORT');
  });

  it.each([
    [['--enable_docs_url'], true],
    [['--enable_docs_url', 'true'], true],
    [['--enable_docs_url', 'false'], false],
    [['--enable_docs_url=false'], false],
    [['--enable-docs-url=1'], true],
    [['--enable_docs_url', '0'], false],
    [['--enable_docs_url', 'off'], false],
    [['--enable_docs_url', '--http_port', '7'], true],
  ])('boolean form %j → %s', (argv, expected) => {
    expect(parse(argv).flags.enable_docs_url).toBe(expected);
  });

  it('a bare boolean flag before a positional leaves the positional alone', () => {
    const { flags, positionals } = parse(['--enable_grpc', 'serve']);
    expect(flags.enable_grpc).toBe(true);
    expect(positionals).toEqual(['serve']);
  });

  it('an unknown flag is an error listing the known flags', () => {
    expect(() => parse(['--http_prot', '1'])).toThrowError(/--http_prot[\s\S]*Known flags: .*--http_port.*--grpc_port/);
  });

  it('bad values are errors naming the flag', () => {
    expect(() => parse(['--http_port', 'abc'])).toThrowError('--http_port: expected a number, got "abc".');
    expect(() => parse(['--enable_grpc=maybe'])).toThrowError('--enable_grpc: expected true or false, got "maybe".');
    expect(() => parse([], { SERVEKIT_WORKERS: 'many' })).toThrowError('$SERVEKIT_WORKERS: expected a number');
  });

  it('parses comma-separated number lists', () => {
    expect(parse(['--preferred_batch_sizes', '4,8,16']).flags.preferred_batch_sizes).toEqual([4, 8, 16]);
  });

  it('usage lists every flag with its env var', () => {
    const text = usage('servekit');
    for (const f of SERVER_FLAGS) expect(text).toContain(`--${f.name}`);
    expect(text).toContain('SERVEKIT_HTTP_PORT');
  });
});

describe('serverOptionsFromFlags', () => {
  it('maps parsed flags onto ModelServer options', () => {
    const { flags } = parse(['--http_port', '9', '--grpc-port=10', '--enable_docs_url', '--grace_period_seconds', '2']);
    expect(serverOptionsFromFlags(flags)).toMatchObject({
      httpPort: 9,
      grpcPort: 10,
      enableGrpc: true,
      enableDocsUrl: true,
      gracePeriodMs: 2000,
      maxBodySize: 64 * 1024 * 1024,
      batching: undefined,
    });
  });

  it('turns batching on only when --max_batch_size > 1', () => {
    const { flags } = parse(['--max_batch_size', '8', '--preferred_batch_sizes', '4,8']);
    expect(serverOptionsFromFlags(flags).batching).toMatchObject({ maxBatchSize: 8, preferredBatchSizes: [4, 8] });
  });
});

describe('choices', () => {
  it('accepts a listed value and refuses another, listing the choices', () => {
    expect(parse(['--log_level', 'debug']).flags.log_level).toBe('debug');
    expect(() => parse(['--log_level', 'loud'])).toThrowError(
      '--log_level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud".',
    );
    expect(() => parse(['--log-level=INFO'])).toThrowError('--log_level: expected one of fatal, error');
  });

  it('checks env var values against the choices too, naming the env var', () => {
    expect(parse([], { SERVEKIT_LOG_LEVEL: 'warn' }).flags.log_level).toBe('warn');
    expect(() => parse([], { SERVEKIT_LOG_LEVEL: 'loud' })).toThrowError(
      '$SERVEKIT_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud".',
    );
  });

  it('checks the choices of a spec list of the caller', () => {
    const specs = [
      { name: 'color', type: 'string', choices: ['red', 'blue'], env: ['COLOR'], doc: 'A color.' },
    ] as const;
    expect(parseFlags(['--color', 'blue'], specs, {}).flags.color).toBe('blue');
    expect(parseFlags([], specs, {}).flags.color).toBeUndefined();
    expect(() => parseFlags([], specs, { COLOR: 'green' })).toThrowError(
      '$COLOR: expected one of red, blue, got "green".',
    );
  });

  it('usage shows the choices in the flag doc', () => {
    expect(usage('servekit')).toContain(`Log level: ${LOG_LEVELS.join(', ')}.`);
  });
});

describe('parsed flag types', () => {
  it('derives each value type from the spec list', () => {
    const { flags } = parse([]);
    expectTypeOf(flags).toEqualTypeOf<ServerFlags>();
    expectTypeOf(flags.http_port).toEqualTypeOf<number>();
    expectTypeOf(flags.host).toEqualTypeOf<string>();
    expectTypeOf(flags.enable_grpc).toEqualTypeOf<boolean>();
    expectTypeOf(flags.model_name).toEqualTypeOf<string | undefined>();
    expectTypeOf(flags.health_port).toEqualTypeOf<number | undefined>();
    expectTypeOf(flags.preferred_batch_sizes).toEqualTypeOf<number[] | undefined>();
    expectTypeOf(flags.log_level).toEqualTypeOf<(typeof LOG_LEVELS)[number]>();
    // @ts-expect-error: not a flag of SERVER_FLAGS
    expect(flags.no_such_flag).toBeUndefined();
    expect(parseFlags([]).flags.http_port).toBe(8080);
    expectTypeOf(parseFlags([]).flags).toEqualTypeOf<ServerFlags>();
  });

  it('keeps the types of combined spec lists', () => {
    const extra = [
      { name: 'mode', type: 'string', default: 'a', choices: ['a', 'b'], doc: 'Mode.' },
      { name: 'sizes', type: 'numbers', default: [1, 2], doc: 'Sizes.' },
      { name: 'label', type: 'string', doc: 'Label.' },
    ] as const satisfies readonly FlagSpec[];
    const { flags } = parseFlags(['--mode', 'b', '--http_port', '9'], [...SERVER_FLAGS, ...extra], {});
    expectTypeOf(flags.mode).toEqualTypeOf<'a' | 'b'>();
    expectTypeOf(flags.sizes).toEqualTypeOf<number[]>();
    expectTypeOf(flags.label).toEqualTypeOf<string | undefined>();
    expectTypeOf(flags.http_port).toEqualTypeOf<number>();
    expectTypeOf(flags).toEqualTypeOf<ParsedFlagsOf<[...typeof SERVER_FLAGS, ...typeof extra]>>();
    expect(flags).toMatchObject({ mode: 'b', sizes: [1, 2], label: undefined, http_port: 9 });
    // A default list is copied, not shared with the spec.
    flags.sizes.push(3);
    expect(extra[1].default).toEqual([1, 2]);
    // The typed flags still fit the untyped functions.
    expect(serverOptionsFromFlags(flags).httpPort).toBe(9);
  });
});

describe('isTruthy / boolWord', () => {
  it.each([true, 1, 'true', 'TRUE', '1', 'yes', 'on'])('%j is truthy', (v) => {
    expect(isTruthy(v)).toBe(true);
  });
  it.each([false, 0, 2, 'false', '0', 'no', 'off', '', 'maybe', null, undefined, {}])('%j is not truthy', (v) => {
    expect(isTruthy(v)).toBe(false);
  });
  it('reads the same words as boolean flags', () => {
    expect([boolWord('Yes'), boolWord('OFF'), boolWord('maybe')]).toEqual([true, false, undefined]);
    for (const w of ['yes', 'on', 'no', 'off']) {
      expect(parse(['--enable_grpc', w]).flags.enable_grpc).toBe(boolWord(w));
    }
  });
});
