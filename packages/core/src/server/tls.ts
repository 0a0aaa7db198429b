import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

/** TLS of the HTTP and gRPC ports: PEM files, re-read when they change. Off when absent. */
export interface TlsOptions {
  /** PEM certificate chain served to clients, leaf first (`--tls_cert_file`). */
  certFile: string;
  /** PEM private key of that certificate (`--tls_key_file`). */
  keyFile: string;
  /** PEM CA bundle client certificates must chain to (mutual TLS: clients without one are refused). */
  clientCaFile?: string;
  /** How often the files are checked for changes, in ms; 0 turns reloading off. Default 10 s. */
  reloadIntervalMs?: number;
}

/** Default of {@link TlsOptions.reloadIntervalMs}. */
export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 10_000;

/** The PEM contents of a {@link TlsOptions}, checked: the certificate parses and the key is its key. */
export interface TlsMaterial {
  /** Certificate chain (PEM). */
  cert: Buffer;
  /** Private key (PEM). */
  key: Buffer;
  /** Client CA bundle (PEM), for mutual TLS. */
  ca?: Buffer;
  /** SHA-256 fingerprint of the leaf certificate, `AB:CD:…` (as `X509Certificate.fingerprint256`). */
  fingerprint256: string;
  /** Serial number of the leaf certificate (hex). */
  serialNumber: string;
}

/** A TLS file that cannot be used; the message names the flag and says what is wrong. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

const FLAG = { certFile: '--tls_cert_file', keyFile: '--tls_key_file', clientCaFile: '--tls_client_ca_file' } as const;

async function readPem(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new TlsConfigError(`${flag} ${path}: cannot be read (${code}).`);
  }
}

function parseCertificate(pem: Buffer, path: string, flag: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TlsConfigError(`${flag} ${path}: not a PEM certificate.`);
  }
}

function parseKey(pem: Buffer, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new TlsConfigError(`${FLAG.keyFile} ${path}: not a PEM private key (an encrypted key is not supported).`);
  }
}

/** Check that cert and key come together, a client CA only with them, interval ≥ 0; throws naming the flag. */
export function checkTlsOptions(options: Partial<TlsOptions>): void {
  const { certFile, keyFile, clientCaFile } = options;
  if (certFile && !keyFile) throw new TlsConfigError(`${FLAG.certFile} needs ${FLAG.keyFile}.`);
  if (keyFile && !certFile) throw new TlsConfigError(`${FLAG.keyFile} needs ${FLAG.certFile}.`);
  if (clientCaFile && !certFile)
    throw new TlsConfigError(`${FLAG.clientCaFile} needs ${FLAG.certFile} and ${FLAG.keyFile}.`);
  const interval = options.reloadIntervalMs;
  if (interval !== undefined && !(interval >= 0)) {
    throw new TlsConfigError(`--tls_reload_seconds must be ≥ 0; got ${interval / 1000}`);
  }
}

/** The secure-context part of the material: what a running server swaps on reload. */
export function secureContextOptions(material: Pick<TlsMaterial, 'cert' | 'key' | 'ca'>): SecureContextOptions {
  return material.ca
    ? { cert: material.cert, key: material.key, ca: material.ca }
    : { cert: material.cert, key: material.key };
}

/** Read and check the TLS files: each readable, PEM, and the key the certificate's. Throws TlsConfigError. */
export async function loadTlsMaterial(options: TlsOptions): Promise<TlsMaterial> {
  checkTlsOptions(options);
  const [cert, key, ca] = await Promise.all([
    readPem(options.certFile, FLAG.certFile),
    readPem(options.keyFile, FLAG.keyFile),
    options.clientCaFile ? readPem(options.clientCaFile, FLAG.clientCaFile) : undefined,
  ]);
  const leaf = parseCertificate(cert, options.certFile, FLAG.certFile);
  const privateKey = parseKey(key, options.keyFile);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(
      `${FLAG.keyFile} ${options.keyFile}: not the private key of the certificate in ${FLAG.certFile} ${options.certFile}.`,
    );
  }
  if (ca && options.clientCaFile) parseCertificate(ca, options.clientCaFile, FLAG.clientCaFile);
  try {
    // What the servers will do with them: a set OpenSSL refuses must fail here, not in a running server's reload.
    createSecureContext(secureContextOptions({ cert, key, ca }));
  } catch (err) {
    throw new TlsConfigError(`${FLAG.certFile}, ${FLAG.keyFile}: refused by OpenSSL (${(err as Error).message}).`);
  }
  return { cert, key, ca, fingerprint256: leaf.fingerprint256, serialNumber: leaf.serialNumber };
}

/** What a file's change is seen by: its identity, size and modification time (a symlink swap changes the inode). */
async function signature(paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    paths.map(async (p) => {
      try {
        const s = await stat(p);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch {
        return 'missing';
      }
    }),
  );
  return createHash('sha1').update(parts.join('|')).digest('hex');
}

/** Receives each new, checked {@link TlsMaterial}. */
export type TlsChangeListener = (material: TlsMaterial) => void;

/** Receives a reload that failed (the previous certificate stays in use). */
export type TlsReloadErrorListener = (err: Error) => void;

/**
 * The TLS files of a server, read and checked at `open`, then polled every `reloadIntervalMs`: when one changes
 * (written in place, renamed over, or a Kubernetes secret's symlink swap) they are read and checked again, and the
 * listeners get the new material. A half-written or mismatched set is reported and the previous one kept.
 */
export class TlsFiles {
  private listeners: TlsChangeListener[] = [];
  private errorListeners: TlsReloadErrorListener[] = [];
  private timer?: NodeJS.Timeout;
  private checking = false;
  private failedSignature?: string;

  private constructor(
    /** The options the files came from. */
    readonly options: TlsOptions,
    private material: TlsMaterial,
    private lastSignature: string,
  ) {}

  /** Read and check the files (TlsConfigError naming the flag when one is unusable) and start watching them. */
  static async open(options: TlsOptions): Promise<TlsFiles> {
    const paths = TlsFiles.paths(options);
    const before = await signature(paths);
    const files = new TlsFiles(options, await loadTlsMaterial(options), before);
    const interval = options.reloadIntervalMs ?? DEFAULT_TLS_RELOAD_INTERVAL_MS;
    if (interval > 0) {
      files.timer = setInterval(() => void files.check(), interval);
      files.timer.unref();
    }
    return files;
  }

  private static paths(options: TlsOptions): string[] {
    return [options.certFile, options.keyFile, ...(options.clientCaFile ? [options.clientCaFile] : [])];
  }

  /** The material in use now. */
  get current(): TlsMaterial {
    return this.material;
  }

  /** True when client certificates are required (mutual TLS). */
  get mutual(): boolean {
    return this.options.clientCaFile !== undefined;
  }

  /** Call `listener` with every new material from now on. */
  onChange(listener: TlsChangeListener): void {
    this.listeners.push(listener);
  }

  /** Call `listener` with every failed reload. */
  onReloadError(listener: TlsReloadErrorListener): void {
    this.errorListeners.push(listener);
  }

  /** Stop listening for `listener`'s changes. */
  offChange(listener: TlsChangeListener): void {
    this.listeners = this.listeners.filter((l) => l !== listener);
  }

  /** Check the files now; resolves true when new material was loaded and handed to the listeners. */
  async check(): Promise<boolean> {
    if (this.checking) return false;
    this.checking = true;
    try {
      const now = await signature(TlsFiles.paths(this.options));
      if (now === this.lastSignature) return false;
      let next: TlsMaterial;
      try {
        next = await loadTlsMaterial(this.options);
      } catch (err) {
        // Likely caught between writes of the cert and key: keep the old pair, try again next time (reported once).
        if (now !== this.failedSignature) for (const l of this.errorListeners) l(err as Error);
        this.failedSignature = now;
        return false;
      }
      this.lastSignature = now;
      const same =
        next.cert.equals(this.material.cert) &&
        next.key.equals(this.material.key) &&
        (next.ca === undefined ? this.material.ca === undefined : this.material.ca?.equals(next.ca) === true);
      if (same) return false;
      this.material = next;
      for (const l of this.listeners) {
        try {
          l(next);
        } catch (err) {
          for (const e of this.errorListeners) e(err as Error);
        }
      }
      return true;
    } finally {
      this.checking = false;
    }
  }

  /** Stop watching. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners = [];
    this.errorListeners = [];
  }
}
