// `servekit serve --tls_cert_file … --tls_key_file … [--tls_client_ca_file …]` as a real process, with real TLS
// clients: Node's fetch trusting the CA (NODE_EXTRA_CA_CERTS, in a child process), curl --cacert [--cert --key] and
// grpc-js with credentials.createSsl. The CA and certificates are made at run time; no key is committed.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '@servekit/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertFiles, TestCa } from '../../core/test/tls-certs.js';
import { FIX, killAll, run, serve, stop } from './cli-process.js';

const exec = promisify(execFile);
const PORTS = ['--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1'];
const MODEL = ['--model_dir', join(FIX, 'onnx/sklearn-onnx-docs/logreg_iris'), '--model_name', 'iris'];
const BODY = JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 2], data: [5.1, 3.5, 7.0, 3.2] }] });

let ca: TestCa;
let serverCert: CertFiles;
let clientCert: CertFiles;

beforeAll(async () => {
  ca = await TestCa.create('cli-ca');
  serverCert = await ca.server('server', 77);
  clientCert = await ca.client('client', 78);
});

afterAll(async () => {
  killAll();
  await ca?.remove();
});

/** curl's exit code and body for a V2 infer at `url` with extra curl arguments. */
async function curl(url: string, args: string[]): Promise<{ code: number; body: string }> {
  const argv = ['-sS', '--max-time', '20', '-H', 'content-type: application/json', '-d', BODY, ...args, url];
  try {
    const { stdout } = await exec('/usr/bin/curl', argv);
    return { code: 0, body: stdout };
  } catch (err) {
    return { code: (err as { code: number }).code, body: '' };
  }
}

describe('servekit serve over TLS', () => {
  it('serves HTTPS to fetch and curl trusting the CA, and gRPC over TLS; plain HTTP gets no answer', async () => {
    const r = await serve([...MODEL, '--tls_cert_file', serverCert.certFile, '--tls_key_file', serverCert.keyFile]);
    const https = r.base.replace('http://', 'https://');
    expect(r.log.find((l) => l.includes('"http_address"'))).toContain('"tls":"on"');

    // Node's fetch in a process that trusts the CA.
    const script = `const r = await fetch(${JSON.stringify(`${https}/v2/models/iris/infer`)}, { method: 'POST', body: ${JSON.stringify(BODY)} }); console.log(r.status, JSON.stringify((await r.json()).outputs[0].data));`;
    const fetched = await exec(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.ca.certFile },
    });
    expect(fetched.stdout.trim()).toBe('200 [0,2]');

    const ok = await curl(`${https}/v2/models/iris/infer`, ['--cacert', ca.ca.certFile]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.body).outputs[0].data).toEqual([0, 2]);
    expect((await curl(`${https}/v2/models/iris/infer`, [])).code).toBe(60); // untrusted certificate
    expect((await curl(`${r.base}/v2/models/iris/infer`, [])).code).not.toBe(0);

    const client = new GrpcClient({ address: r.grpc, credentials: grpc.credentials.createSsl(ca.ca.cert) });
    try {
      const g = await client.infer('iris', {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 2], data: Float32Array.of(5.1, 3.5, 7.0, 3.2) }],
      });
      expect(Array.from(g.outputs[0]!.data as BigInt64Array, Number)).toEqual([0, 2]);
    } finally {
      client.close();
    }
    expect(await stop(r)).toBe(0);
  });

  it('with --tls_client_ca_file answers curl with a client certificate and refuses it without one', async () => {
    const r = await serve([...MODEL, '--tls_cert_file', serverCert.certFile, '--tls_key_file', serverCert.keyFile], {
      SERVEKIT_TLS_CLIENT_CA_FILE: ca.ca.certFile,
    });
    const url = `${r.base.replace('http://', 'https://')}/v2/models/iris/infer`;
    const ok = await curl(url, [
      '--cacert',
      ca.ca.certFile,
      '--cert',
      clientCert.certFile,
      '--key',
      clientCert.keyFile,
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.body).outputs[0].data).toEqual([0, 2]);
    expect((await curl(url, ['--cacert', ca.ca.certFile])).code).not.toBe(0);
    expect(await stop(r)).toBe(0);
  });

  it('exits 2 naming the flag when the key is not the certificate key, or a file is missing', async () => {
    const mismatched = await run([
      'serve',
      ...PORTS,
      ...MODEL,
      '--tls_cert_file',
      serverCert.certFile,
      '--tls_key_file',
      clientCert.keyFile,
    ]);
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain(
      `--tls_key_file ${clientCert.keyFile}: not the private key of the certificate in --tls_cert_file ${serverCert.certFile}.`,
    );
    const empty = join(ca.dir, 'empty.pem');
    await writeFile(empty, '');
    const notPem = await run([
      'serve',
      ...PORTS,
      ...MODEL,
      '--tls_cert_file',
      empty,
      '--tls_key_file',
      serverCert.keyFile,
    ]);
    expect(notPem.code).toBe(2);
    expect(notPem.stderr).toContain(`--tls_cert_file ${empty}: not a PEM certificate.`);
    const alone = await run(['serve', ...PORTS, ...MODEL, '--tls_key_file', serverCert.keyFile]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--tls_key_file needs --tls_cert_file.');
  });
});
