import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { causeText, codeForHttpStatus, networkCodeOf, StorageError, type StorageErrorCode } from '../errors.js';
import type { StorageEnv } from '../types.js';
import { md5FromEtag } from './etag.js';
import { type ListedObject, placeObjects } from './prefix.js';
import { s3ClientConfig } from './s3-config.js';
import type { OpenedObject, RemoteObject, Source } from './source.js';

/** Objects under `s3://bucket/prefix`, read with @aws-sdk/client-s3. */
export class S3Source implements Source {
  private readonly client: S3Client;

  constructor(
    private readonly uri: string,
    private readonly bucket: string,
    private readonly prefix: string,
    env: StorageEnv,
    idleTimeoutMs: number,
  ) {
    this.client = new S3Client(s3ClientConfig(uri, env, idleTimeoutMs));
  }

  /** List every object under the prefix (paged). */
  async list(signal: AbortSignal): Promise<RemoteObject[]> {
    const listed: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(undefined, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix.replace(/\/$/, '') || undefined,
            ContinuationToken: token,
          }),
          { abortSignal: signal },
        ),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        listed.push({ key: o.Key, size: o.Size, validator: o.ETag ?? (o.LastModified?.toISOString() || undefined) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const objects = placeObjects(this.uri, this.prefix, listed);
    if (objects.length === 0) {
      throw new StorageError('NOT_FOUND', `no objects under prefix "${this.prefix}" in bucket ${this.bucket}`, {
        uri: this.uri,
      });
    }
    return objects;
  }

  /** GetObject from `offset` (Range + If-Match on the listed ETag). */
  async open(object: RemoteObject, offset: number, signal: AbortSignal): Promise<OpenedObject> {
    const out: GetObjectCommandOutput = await this.call(object.key, () =>
      this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: object.key,
          Range: offset > 0 ? `bytes=${offset}-` : undefined,
          IfMatch: object.validator?.startsWith('"') ? object.validator : undefined,
        }),
        { abortSignal: signal },
      ),
    );
    const body = out.Body as AsyncIterable<Uint8Array> | undefined;
    if (body === undefined)
      throw new StorageError('SERVER_ERROR', 'GetObject returned no body', { uri: this.uri, object: object.key });
    const start = out.ContentRange ? Number(/bytes (\d+)-/.exec(out.ContentRange)?.[1] ?? 0) : 0;
    const kms = out.ServerSideEncryption?.startsWith('aws:kms') || out.SSECustomerAlgorithm !== undefined;
    const total = out.ContentRange ? Number(out.ContentRange.split('/')[1]) : out.ContentLength;
    return {
      body,
      start,
      size: Number.isFinite(total) ? total : undefined,
      md5: kms || out.ContentRange ? undefined : md5FromEtag(out.ETag),
    };
  }

  /** Release the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  /** Run an SDK call, turning its failures into StorageErrors that name the bucket/object and cause. */
  private async call<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.translate(key, err);
    }
  }

  private translate(key: string | undefined, err: unknown): StorageError {
    const init = { uri: this.uri, object: key, cause: err };
    if (err instanceof StorageError) return err;
    const name = (err as { name?: unknown }).name;
    if (err instanceof S3ServiceException || typeof (err as { $metadata?: unknown }).$metadata === 'object') {
      const e = err as S3ServiceException;
      const status = e.$metadata?.httpStatusCode ?? 0;
      const s3code = String(e.name ?? '');
      const byName: Record<string, StorageErrorCode> = {
        NoSuchBucket: 'NOT_FOUND',
        NoSuchKey: 'NOT_FOUND',
        NotFound: 'NOT_FOUND',
        InvalidAccessKeyId: 'NO_CREDENTIALS',
        SignatureDoesNotMatch: 'NO_CREDENTIALS',
        ExpiredToken: 'NO_CREDENTIALS',
        InvalidToken: 'NO_CREDENTIALS',
        AccessDenied: 'ACCESS_DENIED',
        AllAccessDisabled: 'ACCESS_DENIED',
        PreconditionFailed: 'INTEGRITY',
      };
      const code: StorageErrorCode | undefined = byName[s3code] ?? (status ? codeForHttpStatus(status) : undefined);
      if (code !== undefined) {
        const what = s3code === 'NoSuchBucket' ? `bucket ${this.bucket} does not exist` : `${s3code} (HTTP ${status})`;
        return new StorageError(code, `${what}: ${e.message}`, {
          ...init,
          retryable: code === 'INTEGRITY' ? true : undefined,
        });
      }
    }
    if (name === 'CredentialsProviderError') {
      return new StorageError(
        'NO_CREDENTIALS',
        `no AWS credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or awsAnonymousCredential=true): ${causeText(err)}`,
        init,
      );
    }
    if (name === 'AbortError' || name === 'TimeoutError') {
      return new StorageError(name === 'TimeoutError' ? 'TIMEOUT' : 'ABORTED', causeText(err), init);
    }
    const net = networkCodeOf(err);
    return new StorageError(net ?? 'NETWORK', causeText(err), init);
  }
}
