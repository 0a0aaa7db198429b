import { createHash, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { startServer, type TestServer } from './servers.js';

/** A stored object of the fake GCS. */
interface FakeObject {
  data: Buffer;
  generation: string;
}

/** A GCS JSON API subset (objects.list with paging, alt=media with Range, OAuth token endpoint). */
export interface FakeGcs extends TestServer {
  /** Add or replace an object (new generation). */
  put(bucket: string, name: string, data: Buffer): void;
  /** Cut the next `times` media downloads of `name` after half their bytes. */
  cut(name: string, times: number): void;
  /** Media downloads served per object name. */
  mediaGets: Map<string, number>;
}

/** Read a request body. */
async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/**
 * Start the fake GCS. Buckets in `privateBuckets` need a bearer token issued by POST /token, which checks
 * the RS256 JWT assertion against `publicKeyPem` and `clientEmail`.
 */
export async function startFakeGcs(options: {
  publicKeyPem: string;
  clientEmail: string;
  privateBuckets: string[];
  pageSize: number;
}): Promise<FakeGcs> {
  const buckets = new Map<string, Map<string, FakeObject>>();
  const tokens = new Set<string>();
  const cuts = new Map<string, number>();
  const mediaGets = new Map<string, number>();
  let generation = 1000;
  let url = '';
  const json = (res: import('node:http').ServerResponse, status: number, value: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));

  const server = await startServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && u.pathname === '/token') {
      const form = new URLSearchParams(await body(req));
      const [h, c, s] = (form.get('assertion') ?? '').split('.');
      const claims = JSON.parse(Buffer.from(c ?? '', 'base64url').toString() || '{}') as {
        iss?: string;
        aud?: string;
        exp?: number;
        scope?: string;
      };
      const ok =
        form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
        s !== undefined &&
        verify('RSA-SHA256', Buffer.from(`${h}.${c}`), options.publicKeyPem, Buffer.from(s, 'base64url')) &&
        claims.iss === options.clientEmail &&
        claims.aud === `${url}/token` &&
        (claims.exp ?? 0) > Date.now() / 1000 &&
        claims.scope?.includes('devstorage');
      if (!ok) return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      return json(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
    }
    const m = /^\/storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(u.pathname);
    if (!m || req.method !== 'GET') return json(res, 404, { error: { code: 404, message: 'Not Found' } });
    const bucketName = decodeURIComponent(m[1]);
    if (options.privateBuckets.includes(bucketName)) {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer '))
        return json(res, 401, {
          error: { code: 401, message: 'Anonymous caller does not have storage.objects.list access.' },
        });
      if (!tokens.has(auth.slice(7))) return json(res, 401, { error: { code: 401, message: 'Invalid Credentials' } });
    }
    const bucket = buckets.get(bucketName);
    if (!bucket) return json(res, 404, { error: { code: 404, message: 'The specified bucket does not exist.' } });
    if (m[2] === undefined) {
      const prefix = u.searchParams.get('prefix') ?? '';
      const names = [...bucket.keys()].filter((n) => n.startsWith(prefix)).sort();
      const start = Number(u.searchParams.get('pageToken') ?? 0);
      const page = names.slice(start, start + options.pageSize);
      const items = page.map((name) => {
        const o = bucket.get(name)!;
        return {
          kind: 'storage#object',
          name,
          bucket: bucketName,
          size: String(o.data.length),
          md5Hash: createHash('md5').update(o.data).digest('base64'),
          generation: o.generation,
          etag: `CK${o.generation}=`,
        };
      });
      const next = start + options.pageSize < names.length ? { nextPageToken: String(start + options.pageSize) } : {};
      return json(res, 200, { kind: 'storage#objects', items, ...next });
    }
    const name = decodeURIComponent(m[2]);
    const object = bucket.get(name);
    if (!object || u.searchParams.get('alt') !== 'media')
      return json(res, 404, { error: { code: 404, message: `No such object: ${bucketName}/${name}` } });
    const gen = u.searchParams.get('generation');
    if (gen && gen !== object.generation)
      return json(res, 404, { error: { code: 404, message: 'No such object generation' } });
    mediaGets.set(name, (mediaGets.get(name) ?? 0) + 1);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(object.data.length - start),
      'x-goog-generation': object.generation,
    };
    if (range) headers['content-range'] = `bytes ${start}-${object.data.length - 1}/${object.data.length}`;
    res.writeHead(range ? 206 : 200, headers);
    const left = cuts.get(name) ?? 0;
    if (left > 0) {
      cuts.set(name, left - 1);
      res.write(object.data.subarray(start, start + Math.floor((object.data.length - start) / 2)), () => res.destroy());
      return;
    }
    res.end(object.data.subarray(start));
  });
  url = server.url;
  return {
    ...server,
    mediaGets,
    put: (bucket, name, data) => {
      if (!buckets.has(bucket)) buckets.set(bucket, new Map());
      buckets.get(bucket)!.set(name, { data, generation: String(++generation) });
    },
    cut: (name, times) => void cuts.set(name, times),
  };
}
