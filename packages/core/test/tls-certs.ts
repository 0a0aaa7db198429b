// Throw-away CAs and certificates for the TLS tests, made at run time with Debian's openssl (never committed).

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A certificate and its key, as files and PEM bytes. */
export interface CertFiles {
  /** PEM certificate file. */
  certFile: string;
  /** PEM private key file. */
  keyFile: string;
  /** The certificate (PEM). */
  cert: Buffer;
  /** The key (PEM). */
  key: Buffer;
}

/** A throw-away CA in a temp dir that issues server and client certificates. */
export class TestCa {
  private constructor(
    /** Where its files are. */
    readonly dir: string,
    /** The CA's own certificate and key. */
    readonly ca: CertFiles,
    private readonly name: string,
  ) {}

  /** A new CA (certificate valid one day) in a new temp dir, or in `dir`. */
  static async create(name = 'servekit-test-ca', dir?: string): Promise<TestCa> {
    const where = dir ?? (await mkdtemp(join(tmpdir(), 'servekit-tls-')));
    const certFile = join(where, `${name}.crt`);
    const keyFile = join(where, `${name}.key`);
    await run(OPENSSL, [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return new TestCa(where, await files(certFile, keyFile), name);
  }

  /** A server certificate for `altNames` (default 127.0.0.1 and localhost), with serial `serial`. */
  server(file: string, serial: number, altNames = 'IP:127.0.0.1,DNS:localhost'): Promise<CertFiles> {
    return this.issue(file, serial, 'localhost', `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\n`);
  }

  /** A client certificate with common name `cn`. */
  client(file: string, serial: number, cn = 'test-client'): Promise<CertFiles> {
    return this.issue(file, serial, cn, 'extendedKeyUsage=clientAuth\n');
  }

  private async issue(file: string, serial: number, cn: string, extensions: string): Promise<CertFiles> {
    const base = join(this.dir, `${this.name}-${file}`);
    await writeFile(`${base}.ext`, extensions);
    await run(OPENSSL, ['req', '-new', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
    await run(OPENSSL, [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      this.ca.certFile,
      '-CAkey',
      this.ca.keyFile,
      '-set_serial',
      String(serial),
      '-days',
      '1',
      '-out',
      `${base}.crt`,
      '-extfile',
      `${base}.ext`,
    ]);
    return files(`${base}.crt`, `${base}.key`);
  }

  /** Remove the temp dir. */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function files(certFile: string, keyFile: string): Promise<CertFiles> {
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}
