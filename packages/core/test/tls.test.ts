// HTTPS and gRPC over TLS, mutual TLS and certificate reloading, with real clients over real sockets. The CAs and
// certificates are made at run time in a temp dir (tls-certs.ts); no key is committed.

import { copyFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { type ClientError, GrpcClient, RestClient } from '@servekit/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferRequest } from '../src/protocols/infer-types.js';
import { parseFlags } from '../src/server/flags.js';
import type { ModelServer } from '../src/server/model-server.js';
import { serverOptionsFromFlags } from '../src/server/options-from-flags.js';
import { loadTlsMaterial, TlsConfigError } from '../src/server/tls.js';
import { LinearModel, SlowModel, startServer } from './helpers.js';
import { type CertFiles, TestCa } from './tls-certs.js';

const request: InferRequest = { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: Float32Array.of(1, 2) }] };

let ca: TestCa;
let otherCa: TestCa;
let serverCert: CertFiles;
let clientCert: CertFiles;
let strangerCert: CertFiles;

beforeAll(async () => {
  ca = await TestCa.create('ca-one');
  otherCa = await TestCa.create('ca-two', ca.dir);
  serverCert = await ca.server('server', 1001);
  clientCert = await ca.client('client', 2001);
  strangerCert = await otherCa.client('stranger', 3001);
});

afterAll(async () => {
  await ca?.remove();
});

/** The serial number the server at `port` presents to a new TLS connection (trusting both test CAs). */
function peerSerial(port: number, alpn?: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port, ca: [ca.ca.cert, otherCa.ca.cert], ALPNProtocols: alpn, servername: 'localhost' },
      () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.end();
        resolve(serial);
      },
    );
    socket.once('error', reject);
  });
}

/** A V2 infer over https with node:https, answering the status (or rejecting with the TLS / socket error). */
function httpsInfer(port: number, options: https.RequestOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v2/models/linear/infer',
        headers: { 'content-type': 'application/json' },
        agent: false,
        ...options,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [3] }] }));
  });
}

async function grpcError(client: GrpcClient): Promise<ClientError> {
  return client.infer('linear', request).then(
    () => {
      throw new Error('the call should have failed');
    },
    (err: ClientError) => err,
  );
}

describe('TLS (server certificate only)', () => {
  let server: ModelServer;

  beforeAll(async () => {
    server = await startServer([new LinearModel('linear')], {
      tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile },
      healthPort: 0,
    });
  });

  afterAll(async () => {
    await server.stop();
  });

  it('answers V2 infer over https to a client trusting the CA (RestClient, keep-alive)', async () => {
    const client = new RestClient({ baseUrl: `https://127.0.0.1:${server.httpPort}`, ca: ca.ca.cert, retries: 0 });
    try {
      const res = await client.infer('linear', request);
      expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([3, 5]);
      expect(await client.serverReady()).toBe(true);
    } finally {
      client.close();
    }
  });

  it('refuses a plain-HTTP client on the HTTP port', async () => {
    const plain = new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.httpPort, path: '/v2/health/live', agent: false }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
    });
    await expect(plain).rejects.toThrow();
  });

  it('is refused by a client trusting another CA, or only the default roots', async () => {
    await expect(httpsInfer(server.httpPort, { ca: otherCa.ca.cert })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    await expect(httpsInfer(server.httpPort, {})).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('verifies for the name localhost too (SAN), and asks no client certificate', async () => {
    expect(await httpsInfer(server.httpPort, { ca: ca.ca.cert, host: 'localhost', family: 4 })).toBe(200);
  });

  it('serves gRPC over TLS to credentials.createSsl(ca)', async () => {
    const address = `127.0.0.1:${server.grpcPort}`;
    const client = new GrpcClient({ address, credentials: grpc.credentials.createSsl(ca.ca.cert), retries: 0 });
    const insecure = new GrpcClient({ address, retries: 0, deadlineMs: 5000 });
    const wrongCa = new GrpcClient({
      address,
      credentials: grpc.credentials.createSsl(otherCa.ca.cert),
      retries: 0,
      deadlineMs: 5000,
    });
    try {
      const res = await client.infer('linear', request);
      expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([3, 5]);
      expect((await grpcError(insecure)).grpcCode).toBe(grpc.status.UNAVAILABLE);
      expect((await grpcError(wrongCa)).grpcCode).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
      insecure.close();
      wrongCa.close();
    }
  });

  it('keeps --health_port plain HTTP for kubelet probes', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: server.healthPort, path: '/v2/health/ready', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(200);
  });
});

describe('mutual TLS', () => {
  let server: ModelServer;

  beforeAll(async () => {
    server = await startServer([new LinearModel('linear')], {
      tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile, clientCaFile: ca.ca.certFile },
    });
  });

  afterAll(async () => {
    await server.stop();
  });

  it('refuses an https client without a certificate, or with one from another CA', async () => {
    await expect(httpsInfer(server.httpPort, { ca: ca.ca.cert })).rejects.toThrow();
    await expect(
      httpsInfer(server.httpPort, { ca: ca.ca.cert, cert: strangerCert.cert, key: strangerCert.key }),
    ).rejects.toThrow();
  });

  it('answers an https client with a certificate the client CA signed', async () => {
    expect(await httpsInfer(server.httpPort, { ca: ca.ca.cert, cert: clientCert.cert, key: clientCert.key })).toBe(200);
    const client = new RestClient({
      baseUrl: `https://127.0.0.1:${server.httpPort}`,
      ca: ca.ca.cert,
      cert: clientCert.cert,
      key: clientCert.key,
      retries: 0,
    });
    try {
      expect(Array.from((await client.infer('linear', request)).outputs[0]!.data as Float32Array)).toEqual([3, 5]);
    } finally {
      client.close();
    }
  });

  it('gRPC: refuses a client without a certificate, answers one with', async () => {
    const address = `127.0.0.1:${server.grpcPort}`;
    const anonymous = new GrpcClient({
      address,
      credentials: grpc.credentials.createSsl(ca.ca.cert),
      retries: 0,
      deadlineMs: 5000,
    });
    const stranger = new GrpcClient({
      address,
      credentials: grpc.credentials.createSsl(ca.ca.cert, strangerCert.key, strangerCert.cert),
      retries: 0,
      deadlineMs: 5000,
    });
    const known = new GrpcClient({
      address,
      credentials: grpc.credentials.createSsl(ca.ca.cert, clientCert.key, clientCert.cert),
      retries: 0,
    });
    try {
      expect((await grpcError(anonymous)).grpcCode).toBe(grpc.status.UNAVAILABLE);
      expect((await grpcError(stranger)).grpcCode).toBe(grpc.status.UNAVAILABLE);
      const res = await known.infer('linear', request);
      expect(Array.from(res.outputs[0]!.data as Float32Array)).toEqual([3, 5]);
    } finally {
      anonymous.close();
      stranger.close();
      known.close();
    }
  });
});

describe('certificate reload', () => {
  it('serves new connections (HTTPS and gRPC) the replaced certificate; a mismatched pair is refused and the old one kept', async () => {
    const live = { certFile: `${ca.dir}/live.crt`, keyFile: `${ca.dir}/live.key` };
    await copyFile(serverCert.certFile, live.certFile);
    await copyFile(serverCert.keyFile, live.keyFile);
    const server = await startServer([new LinearModel('linear')], { tls: { ...live, reloadIntervalMs: 50 } });
    const files = (server as unknown as { tlsFiles: { check(): Promise<boolean> } }).tlsFiles;
    const oldCa = new RestClient({ baseUrl: `https://127.0.0.1:${server.httpPort}`, ca: ca.ca.cert, retries: 0 });
    const grpcAddress = `127.0.0.1:${server.grpcPort}`;
    try {
      expect(await peerSerial(server.httpPort)).toBe('03E9'); // 1001
      expect(await peerSerial(server.grpcPort!, ['h2'])).toBe('03E9');
      await oldCa.serverLive(); // a keep-alive connection opened with the old certificate

      // A new certificate without its key yet (as a renewal writing the files one by one): refused, old one kept.
      const next = await otherCa.server('rotated', 4242);
      await copyFile(next.certFile, live.certFile);
      expect(await files.check()).toBe(false);
      expect(await peerSerial(server.httpPort)).toBe('03E9');

      // Then the key: new connections get the new certificate (serial 4242 = 0x1092) from the next check on.
      await copyFile(next.keyFile, live.keyFile);
      await waitForSerial(server.httpPort, '1092');
      expect(await peerSerial(server.grpcPort!, ['h2'])).toBe('1092');

      // The open keep-alive connection keeps its session; a new client must trust the new CA.
      expect(await oldCa.serverLive()).toBe(true);
      const newCa = new RestClient({
        baseUrl: `https://127.0.0.1:${server.httpPort}`,
        ca: otherCa.ca.cert,
        retries: 0,
      });
      const grpcNew = new GrpcClient({
        address: grpcAddress,
        credentials: grpc.credentials.createSsl(otherCa.ca.cert),
        retries: 0,
      });
      const grpcOld = new GrpcClient({
        address: grpcAddress,
        credentials: grpc.credentials.createSsl(ca.ca.cert),
        retries: 0,
        deadlineMs: 5000,
      });
      try {
        expect(await newCa.serverReady()).toBe(true);
        expect(Array.from((await grpcNew.infer('linear', request)).outputs[0]!.data as Float32Array)).toEqual([3, 5]);
        expect((await grpcError(grpcOld)).grpcCode).toBe(grpc.status.UNAVAILABLE);
      } finally {
        newCa.close();
        grpcNew.close();
        grpcOld.close();
      }
    } finally {
      oldCa.close();
      await server.stop();
    }
  });
});

describe('client CA reload', () => {
  it('new connections are checked against the replaced --tls_client_ca_file', async () => {
    const caFile = `${ca.dir}/live-client-ca.crt`;
    await copyFile(ca.ca.certFile, caFile);
    const server = await startServer([new LinearModel('linear')], {
      enableGrpc: false,
      tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile, clientCaFile: caFile, reloadIntervalMs: 0 },
    });
    const files = (server as unknown as { tlsFiles: { check(): Promise<boolean> } }).tlsFiles;
    const as = (c: CertFiles) => httpsInfer(server.httpPort, { ca: ca.ca.cert, cert: c.cert, key: c.key });
    try {
      expect(await as(clientCert)).toBe(200);
      await expect(as(strangerCert)).rejects.toThrow();
      await copyFile(otherCa.ca.certFile, caFile);
      expect(await files.check()).toBe(true);
      expect(await as(strangerCert)).toBe(200);
      await expect(as(clientCert)).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });
});

/** Open new connections until the server presents `serial` (10 s at most). */
async function waitForSerial(port: number, serial: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 200; i++) {
    last = await peerSerial(port);
    if (last === serial) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected serial ${serial}, still ${last}`);
}

describe('unusable TLS files stop the start with the flag named', () => {
  it('a missing certificate file', async () => {
    const err = await loadTlsMaterial({ certFile: `${ca.dir}/none.crt`, keyFile: serverCert.keyFile }).catch((e) => e);
    expect(err).toBeInstanceOf(TlsConfigError);
    expect(err.message).toBe(`--tls_cert_file ${ca.dir}/none.crt: cannot be read (ENOENT).`);
  });

  it('a key file that is not a key, and a key that is not the certificate key', async () => {
    const garbage = `${ca.dir}/garbage.key`;
    await writeFile(garbage, 'not a key\n');
    await expect(loadTlsMaterial({ certFile: serverCert.certFile, keyFile: garbage })).rejects.toThrow(
      `--tls_key_file ${garbage}: not a PEM private key`,
    );
    await expect(
      startServer([new LinearModel('linear')], {
        tls: { certFile: serverCert.certFile, keyFile: clientCert.keyFile },
      }),
    ).rejects.toThrow(
      `--tls_key_file ${clientCert.keyFile}: not the private key of the certificate in --tls_cert_file ${serverCert.certFile}.`,
    );
  });

  it('a certificate or client CA file that is not PEM', async () => {
    await expect(loadTlsMaterial({ certFile: serverCert.keyFile, keyFile: serverCert.keyFile })).rejects.toThrow(
      `--tls_cert_file ${serverCert.keyFile}: not a PEM certificate.`,
    );
    await expect(loadTlsMaterial({ ...serverCert, clientCaFile: serverCert.keyFile })).rejects.toThrow(
      `--tls_client_ca_file ${serverCert.keyFile}: not a PEM certificate.`,
    );
  });

  it('from flags: TLS off by default; a key without a certificate is an error', () => {
    expect(serverOptionsFromFlags(parseFlags([]).flags).tls).toBeUndefined();
    const on = parseFlags(['--tls_cert_file', 'a.crt', '--tls_key_file', 'a.key', '--tls_client_ca_file', 'ca.crt']);
    expect(serverOptionsFromFlags(on.flags).tls).toEqual({
      certFile: 'a.crt',
      keyFile: 'a.key',
      clientCaFile: 'ca.crt',
      reloadIntervalMs: 10_000,
    });
    expect(() => serverOptionsFromFlags(parseFlags(['--tls_key_file', 'a.key']).flags)).toThrow(
      '--tls_key_file needs --tls_cert_file.',
    );
    expect(() => serverOptionsFromFlags(parseFlags(['--tls_client_ca_file', 'ca.crt']).flags)).toThrow(
      '--tls_client_ca_file needs --tls_cert_file and --tls_key_file.',
    );
  });
});

describe('the HTTP server keeps its connection handling over TLS', () => {
  it('a request that never completes gets 408 after the request timeout (the timeouts reach node:https)', async () => {
    const server = await startServer([new LinearModel('linear')], {
      enableGrpc: false,
      requestTimeoutMs: 500,
      tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile },
    });
    try {
      const text = await new Promise<string>((resolve, reject) => {
        let received = '';
        const socket = tlsConnect({ host: '127.0.0.1', port: server.httpPort, ca: ca.ca.cert }, () =>
          socket.write('POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"inputs": ['),
        );
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString();
        });
        socket.once('end', () => resolve(received));
        socket.once('error', reject);
      });
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(text).toContain('within 0.5 s (--request_timeout_seconds)');
    } finally {
      await server.stop();
    }
  });

  it('a graceful stop lets a request in flight on a TLS connection finish (tracked on its TLS socket)', async () => {
    const slow = new SlowModel('slow');
    const server = await startServer([slow], {
      enableGrpc: false,
      tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile },
    });
    const agent = new https.Agent({ keepAlive: true, ca: ca.ca.cert });
    try {
      const answer = new Promise<{ status: number }>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: server.httpPort,
            method: 'POST',
            path: '/v2/models/slow/infer',
            headers: { 'content-type': 'application/json' },
            agent,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [3] }] }));
      });
      await slow.entered;
      const stopped = server.stop();
      // Longer than an idle keep-alive connection is given before the drain closes it.
      await new Promise((r) => setTimeout(r, 1500));
      slow.release();
      expect((await answer).status).toBe(200);
      await stopped;
    } finally {
      agent.destroy();
      await server.stop();
    }
  });
});
