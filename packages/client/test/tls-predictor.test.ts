// A transformer calling a predictor that serves HTTPS / gRPC over TLS, with mutual TLS: the predictor client built
// from --predictor_ca_file, --predictor_client_cert_file and --predictor_client_key_file. The CA and certificates
// are made at run time (core/test/tls-certs.ts).
import { parseFlags, SERVER_FLAGS, Transformer } from '@servekit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../../core/src/server/model-server.js';
import { LinearModel, startServer } from '../../core/test/helpers.js';
import { type CertFiles, TestCa } from '../../core/test/tls-certs.js';
import {
  PREDICTOR_FLAGS,
  type PredictorFlags,
  predictorFromFlags,
  type RemotePredictor,
  RestClient,
} from '../src/index.js';

let ca: TestCa;
let otherCa: TestCa;
let clientCert: CertFiles;
let predictor: ModelServer;

beforeAll(async () => {
  ca = await TestCa.create('predictor-ca');
  otherCa = await TestCa.create('other-ca', ca.dir);
  const serverCert = await ca.server('server', 11);
  clientCert = await ca.client('transformer', 12);
  predictor = await startServer([new LinearModel('linear')], {
    tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile, clientCaFile: ca.ca.certFile },
  });
});

afterAll(async () => {
  await predictor?.stop();
  await ca?.remove();
});

const parse = (argv: string[]): PredictorFlags =>
  parseFlags(argv, [...SERVER_FLAGS, ...PREDICTOR_FLAGS], {}).flags as PredictorFlags;

/** A transformer server in front of the predictor the flags describe; the answer to one request through it. */
async function throughTransformer(argv: string[], v1: boolean) {
  const remote = predictorFromFlags(parse(argv)) as RemotePredictor;
  const transformer = await startServer([new Transformer('linear', { predictor: remote })]);
  const client = new RestClient({ baseUrl: `http://127.0.0.1:${transformer.httpPort}`, retries: 0 });
  try {
    const answer = v1
      ? await client.v1Predict('linear', { instances: [1, 2] })
      : await client
          .infer('linear', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: Float32Array.of(1, 2) }] })
          .then((r) => Array.from(r.outputs[0]!.data as Float32Array));
    return { description: remote.description, answer };
  } finally {
    client.close();
    await transformer.stop();
    await remote.close();
  }
}

describe('transformer → predictor over (mutual) TLS', () => {
  it.each([
    ['v1', 'httpPort'],
    ['v2', 'httpPort'],
    ['grpc-v2', 'grpcPort'],
  ] as const)('%s: trusts --predictor_ca_file and presents the client certificate', async (protocol, port) => {
    const host = `127.0.0.1:${predictor[port]}`;
    const argv = [
      ...['--predictor_host', host, '--predictor_protocol', protocol],
      ...['--predictor_ca_file', ca.ca.certFile],
      ...['--predictor_client_cert_file', clientCert.certFile, '--predictor_client_key_file', clientCert.keyFile],
    ];
    const out = await throughTransformer(argv, protocol === 'v1');
    expect(out.description).toBe(protocol === 'grpc-v2' ? `grpcs://${host}` : `https://${host}`);
    expect(out.answer).toEqual(protocol === 'v1' ? { predictions: [3, 5] } : [3, 5]);
  });

  it.each(['v2', 'grpc-v2'] as const)(
    '%s: without the client certificate, or trusting another CA, the call fails as unreachable (503)',
    async (protocol) => {
      const host = `127.0.0.1:${protocol === 'grpc-v2' ? predictor.grpcPort : predictor.httpPort}`;
      const base = [
        '--predictor_host',
        host,
        '--predictor_protocol',
        protocol,
        '--predictor_request_timeout_seconds',
        '5',
      ];
      for (const argv of [
        [...base, '--predictor_ca_file', ca.ca.certFile],
        [
          ...base,
          ...['--predictor_ca_file', otherCa.ca.certFile],
          ...['--predictor_client_cert_file', clientCert.certFile, '--predictor_client_key_file', clientCert.keyFile],
        ],
      ]) {
        const remote = predictorFromFlags(parse(argv)) as RemotePredictor;
        const transformer = await startServer([new Transformer('linear', { predictor: remote })]);
        try {
          const res = await fetch(`http://127.0.0.1:${transformer.httpPort}/v2/models/linear/infer`, {
            method: 'POST',
            body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }),
          });
          expect(res.status).toBe(503);
        } finally {
          await transformer.stop();
          await remote.close();
        }
      }
    },
  );

  it('the TLS flags: files read at start with the flag named; cert and key go together; --predictor_ca_file implies TLS', () => {
    expect(() =>
      predictorFromFlags(parse(['--predictor_host', 'h:1', '--predictor_ca_file', `${ca.dir}/none.pem`])),
    ).toThrow(`--predictor_ca_file ${ca.dir}/none.pem: cannot be read (ENOENT).`);
    expect(() =>
      predictorFromFlags(parse(['--predictor_host', 'h:1', '--predictor_client_cert_file', clientCert.certFile])),
    ).toThrow('--predictor_client_cert_file and --predictor_client_key_file go together');
    const p = predictorFromFlags(parse(['--predictor_host', 'h:1', '--predictor_ca_file', ca.ca.certFile]));
    expect(p?.description).toBe('https://h:1');
    void (p as RemotePredictor).close();
  });
});
