// CLI flag parsing shared by every server: KServe names and defaults, kebab aliases, env vars, errors.

import { describe, expect, it } from 'vitest';
import { envName, parseFlags, SERVER_FLAGS, usage } from '../src/cli/args.js';
import { serverOptionsFromFlags } from '../src/server/options-from-flags.js';

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
