// gRPC over TLS to an IP address (tls-server-name.ts): grpc-js names the TLS server after the target's host, which
// Node 26 refuses for an address (every call failed UNAVAILABLE) and Node ≤ 24 sent with a DEP0123 deprecation warning.
// GrpcClient leaves the name out for an address: the call works with no warning, the certificate is still checked
// against the address, and a host name is still sent and checked. Certificates are made at run time (tls-certs.ts).
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelServer } from '../../core/src/server/model-server.js';
import { LinearModel, startServer } from '../../core/test/helpers.js';
import { TestCa } from '../../core/test/tls-certs.js';
import { ClientError, GrpcClient } from '../src/index.js';

let ca: TestCa;
/** Serves a certificate for IP:127.0.0.1 and DNS:localhost. */
let both: ModelServer;
/** Serves a certificate for DNS:localhost only. */
let nameOnly: ModelServer;

beforeAll(async () => {
  ca = await TestCa.create('address-ca');
  const bothCert = await ca.server('both', 21);
  const nameCert = await ca.server('name-only', 22, 'DNS:localhost');
  both = await startServer([new LinearModel('linear')], {
    tls: { certFile: bothCert.certFile, keyFile: bothCert.keyFile },
  });
  nameOnly = await startServer([new LinearModel('linear')], {
    tls: { certFile: nameCert.certFile, keyFile: nameCert.keyFile },
  });
});

afterAll(async () => {
  await both?.stop();
  await nameOnly?.stop();
  await ca?.remove();
});

/** `serverLive` through a TLS GrpcClient trusting the test CA; the client is closed after. */
async function live(address: string): Promise<boolean> {
  const client = new GrpcClient({
    address,
    credentials: grpc.credentials.createSsl(ca.ca.cert),
    retries: 0,
    deadlineMs: 5000,
  });
  try {
    return await client.serverLive();
  } finally {
    client.close();
  }
}

describe('gRPC over TLS to an address', () => {
  it('calls 127.0.0.1 with no TLS server name: it answers, and no DEP0123 warning is raised', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? w.message);
    process.on('warning', onWarning);
    try {
      expect(await live(`127.0.0.1:${both.grpcPort}`)).toBe(true);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('DEP0123');
  });

  it('still checks the certificate against the address: one for localhost only is refused at 127.0.0.1', async () => {
    const err = await live(`127.0.0.1:${nameOnly.grpcPort}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).grpcCode).toBe(grpc.status.UNAVAILABLE);
  });

  it('keeps a host name: localhost is named and checked', async () => {
    expect(await live(`localhost:${nameOnly.grpcPort}`)).toBe(true);
  });
});
