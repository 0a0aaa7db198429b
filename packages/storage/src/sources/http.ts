import { archiveKindOfName } from '../archive/kind.js';
import { StorageError } from '../errors.js';
import { fetchOrThrow, responseBody, responseSize, responseStart, throwForStatus } from '../http-client.js';
import { safeRelativePath } from '../safe-path.js';
import type { StorageEnv } from '../types.js';
import { md5FromEtag } from './etag.js';
import type { OpenedObject, RemoteObject, Source } from './source.js';

const ZIP_TYPES = ['application/x-zip-compressed', 'application/zip', 'application/zip-compressed'];
const TAR_TYPES = ['application/x-tar', 'application/x-gtar', 'application/x-gzip', 'application/gzip'];
const OCTET = 'application/octet-stream';

/** Extra request headers for a host from KServe's `<hostname>-headers` env var (a JSON object). */
export function hostHeaders(uri: string, env: StorageEnv, hostname: string): Record<string, string> {
  const raw = env[`${hostname}-headers`];
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new StorageError('INVALID_URI', `env ${hostname}-headers is not JSON`, { uri, cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StorageError('INVALID_URI', `env ${hostname}-headers must be a JSON object of header names to values`, {
      uri,
    });
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

/**
 * KServe's Content-Type check: a .zip must come as a zip type, a .tar/.tgz/.tar.gz as a tar/gzip type,
 * anything else as application/octet-stream (archives also accept octet-stream, as object stores send it).
 * Returns the problem, or undefined when the type fits.
 */
export function contentTypeProblem(name: string, contentType: string): string | undefined {
  const type = contentType.toLowerCase();
  const kind = archiveKindOfName(name);
  const allowed = kind === 'zip' ? [...ZIP_TYPES, OCTET] : kind ? [...TAR_TYPES, OCTET] : [OCTET];
  if (allowed.some((t) => type.startsWith(t))) return undefined;
  return `server sent Content-Type "${contentType}", expected one of ${allowed.join(', ')}`;
}

/** One file at an http(s) URL (an archive is unpacked by the caller). */
export class HttpSource implements Source {
  private readonly headers: Record<string, string>;
  private readonly fileName: string;

  constructor(
    private readonly uri: string,
    private readonly url: URL,
    env: StorageEnv,
    private readonly checkContentType: boolean,
  ) {
    this.headers = hostHeaders(uri, env, url.hostname);
    const base = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
    const safe = safeRelativePath(base);
    if (!safe.ok || safe.path.includes('/'))
      throw new StorageError('INVALID_URI', 'the URL path names no file', { uri });
    this.fileName = safe.path;
  }

  /** HEAD for size and validators; a server refusing HEAD gives an object without them. */
  async list(signal: AbortSignal): Promise<RemoteObject[]> {
    const object: RemoteObject = { key: this.fileName, relPath: this.fileName };
    const res = await fetchOrThrow({ uri: this.uri }, this.url, { method: 'HEAD', headers: this.headers, signal });
    if (res.status === 404 || res.status === 410 || res.status >= 500) await throwForStatus({ uri: this.uri }, res);
    if (!res.ok) return [object];
    const etag = res.headers.get('etag') ?? undefined;
    const modified = res.headers.get('last-modified') ?? undefined;
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const size = encoded ? undefined : responseSize(res);
    const validator = etag ?? (modified ? `mtime:${modified}` : undefined);
    return [{ ...object, size, validator: validator && size !== undefined ? `${validator}|${size}` : validator }];
  }

  /** GET (with Range and If-Range when resuming); checks the status and Content-Type. */
  async open(object: RemoteObject, offset: number, signal: AbortSignal): Promise<OpenedObject> {
    const headers: Record<string, string> = { ...this.headers };
    const etag = object.validator?.split('|')[0];
    if (offset > 0 && etag && !etag.startsWith('W/') && !etag.startsWith('mtime:')) {
      headers.range = `bytes=${offset}-`;
      headers['if-range'] = etag;
    }
    const target = { uri: this.uri, object: this.fileName };
    const res = await fetchOrThrow(target, this.url, { headers, signal });
    await throwForStatus(target, res);
    if (this.checkContentType) {
      const problem = contentTypeProblem(this.archiveHint(), res.headers.get('content-type') ?? '');
      if (problem) {
        await res.body?.cancel();
        throw new StorageError('CONTENT_TYPE', problem, target);
      }
    }
    const decoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const s3Like =
      res.headers.has('x-amz-request-id') && !res.headers.has('x-amz-server-side-encryption-aws-kms-key-id');
    const contentMd5 =
      res.headers.get('content-md5') ?? /(?:^|,)\s*md5=([^,]+)/.exec(res.headers.get('x-goog-hash') ?? '')?.[1];
    const md5 = contentMd5
      ? Buffer.from(contentMd5.trim(), 'base64').toString('hex')
      : s3Like && res.status === 200
        ? md5FromEtag(res.headers.get('etag') ?? undefined)
        : undefined;
    return {
      body: responseBody(target, res),
      start: responseStart(res),
      size: responseSize(res),
      md5: res.status === 200 ? md5 : undefined,
      decoded,
    };
  }

  /** The URL's file name, or its query when the path has no archive extension (as KServe does). */
  archiveHint(): string {
    if (archiveKindOfName(this.fileName) === undefined && this.url.search !== '') {
      const fromQuery = this.url.search.slice(1);
      if (archiveKindOfName(fromQuery)) return fromQuery;
    }
    return this.fileName;
  }
}
