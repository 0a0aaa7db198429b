import { StorageError, type StorageErrorCode } from '../errors.js';
import { fetchOrThrow, responseBody, responseSize, responseStart, throwForStatus } from '../http-client.js';
import type { StorageEnv } from '../types.js';
import { GcsTokenProvider } from './gcs-auth.js';
import { type ListedObject, placeObjects } from './prefix.js';
import type { OpenedObject, RemoteObject, Source } from './source.js';

/** The GCS JSON API root: STORAGE_EMULATOR_HOST (with http:// added when it has no scheme) or Google's. */
export function gcsEndpoint(env: StorageEnv): string {
  const host = env.STORAGE_EMULATOR_HOST?.trim();
  if (!host) return 'https://storage.googleapis.com';
  return (/^https?:\/\//i.test(host) ? host : `http://${host}`).replace(/\/+$/, '');
}

/** One item of a GCS `objects.list` answer. */
interface GcsItem {
  name?: string;
  size?: string;
  md5Hash?: string;
  generation?: string;
  etag?: string;
}

/** Objects under `gs://bucket/prefix`, over the GCS JSON API (list + `alt=media`), anonymous or with a bearer token. */
export class GcsSource implements Source {
  private readonly endpoint: string;
  private readonly tokens: GcsTokenProvider | undefined;

  constructor(
    private readonly uri: string,
    private readonly bucket: string,
    private readonly prefix: string,
    env: StorageEnv,
  ) {
    this.endpoint = gcsEndpoint(env);
    const credentials = env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
    this.tokens = credentials ? new GcsTokenProvider(uri, credentials) : undefined;
  }

  /** List every object under the prefix (paged with pageToken). */
  async list(signal: AbortSignal): Promise<RemoteObject[]> {
    const listed: ListedObject[] = [];
    let pageToken: string | undefined;
    const prefix = this.prefix.replace(/\/$/, '');
    do {
      const url = new URL(`${this.endpoint}/storage/v1/b/${encodeURIComponent(this.bucket)}/o`);
      if (prefix) url.searchParams.set('prefix', prefix);
      if (pageToken) url.searchParams.set('pageToken', pageToken);
      url.searchParams.set('fields', 'items(name,size,md5Hash,generation,etag),nextPageToken');
      const target = { uri: this.uri };
      const res = await fetchOrThrow(target, url, { headers: await this.headers(signal), signal });
      await throwForStatus(target, res, (code) => this.hint(code));
      const page = (await res.json()) as { items?: GcsItem[]; nextPageToken?: string };
      for (const item of page.items ?? []) {
        if (!item.name) continue;
        const size = item.size === undefined ? undefined : Number(item.size);
        listed.push({
          key: item.name,
          size: Number.isFinite(size) ? size : undefined,
          validator: item.generation ? `gen:${item.generation}` : item.etag,
          md5: item.md5Hash ? Buffer.from(item.md5Hash, 'base64').toString('hex') : undefined,
        });
      }
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);
    const objects = placeObjects(this.uri, this.prefix, listed);
    if (objects.length === 0) {
      throw new StorageError('NOT_FOUND', `no objects under prefix "${this.prefix}" in bucket ${this.bucket}`, {
        uri: this.uri,
      });
    }
    return objects;
  }

  /** Media download of the listed generation, from `offset` with a Range header. */
  async open(object: RemoteObject, offset: number, signal: AbortSignal): Promise<OpenedObject> {
    const url = new URL(
      `${this.endpoint}/storage/v1/b/${encodeURIComponent(this.bucket)}/o/${encodeURIComponent(object.key)}`,
    );
    url.searchParams.set('alt', 'media');
    if (object.validator?.startsWith('gen:')) url.searchParams.set('generation', object.validator.slice(4));
    const headers = await this.headers(signal);
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const target = { uri: this.uri, object: object.key };
    const res = await fetchOrThrow(target, url, { headers, signal });
    await throwForStatus(target, res, (code) => this.hint(code));
    return {
      body: responseBody(target, res),
      start: responseStart(res),
      size: responseSize(res),
      decoded: (res.headers.get('content-encoding') ?? 'identity') !== 'identity',
    };
  }

  private async headers(signal: AbortSignal): Promise<Record<string, string>> {
    if (!this.tokens) return {};
    return { authorization: `Bearer ${await this.tokens.get(signal)}` };
  }

  private hint(code: StorageErrorCode): string {
    if (code === 'NOT_FOUND') return `bucket ${this.bucket} or object does not exist`;
    if ((code === 'NO_CREDENTIALS' || code === 'ACCESS_DENIED') && !this.tokens) {
      return 'anonymous access; set GOOGLE_APPLICATION_CREDENTIALS to a service-account JSON';
    }
    return '';
  }
}
