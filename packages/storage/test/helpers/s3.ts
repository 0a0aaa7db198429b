import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { sleep } from '../../src/retry.js';
import { startServer, type TestServer } from './servers.js';

/** s3rver behind a counting node:http server on 127.0.0.1. */
export interface TestS3 extends TestServer {
  /** Uploads objects (credentials S3RVER/S3RVER). */
  client: S3Client;
  /** Env pointing servekit at this server. */
  env: Record<string, string>;
  /** Most requests in flight at once since the last reset. */
  maxInFlight: () => number;
  resetInFlight: () => void;
  /** Put a Buffer or a file (streamed) and wait until s3rver has it fully on disk. */
  put: (bucket: string, key: string, body: Buffer | { path: string; size: number }) => Promise<void>;
}

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
}

/** Start s3rver with `buckets`, storing data in `directory`. */
export async function startS3(directory: string, buckets: string[]): Promise<TestS3> {
  const s3rver = new S3rver({
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  await s3rver.configureBuckets();
  const handler = s3rver.callback();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = await startServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    handler(req, res);
  });
  const client = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const store = (s3rver as unknown as { store: S3rverStore }).store;
  return {
    ...server,
    client,
    env: {
      AWS_ENDPOINT_URL: server.url,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    },
    maxInFlight: () => maxInFlight,
    resetInFlight: () => {
      maxInFlight = 0;
    },
    put: async (bucket, key, body) => {
      const size = Buffer.isBuffer(body) ? body.length : body.size;
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: Buffer.isBuffer(body) ? body : createReadStream(body.path),
          ContentLength: size,
        }),
      );
      // s3rver answers before its write stream has flushed; wait for the bytes to land.
      const path = store.getResourcePath(bucket, key, 'object');
      for (let i = 0; i < 500 && (await stat(path)).size < size; i++) await sleep(10);
    },
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
