import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { causeText, StorageError } from '../errors.js';
import { fetchOrThrow, throwForStatus } from '../http-client.js';

/** Scope asked for: read-only access to objects. */
export const GCS_READ_SCOPE = 'https://www.googleapis.com/auth/devstorage.read_only';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** The fields of a Google credentials JSON file that are used. */
interface CredentialsFile {
  type?: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  token_uri?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
}

/** base64url of a string or buffer. */
function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** An RS256-signed JWT asserting `client_email` for the token endpoint (Google's service-account flow). */
export function serviceAccountAssertion(
  creds: { client_email: string; private_key: string; private_key_id?: string },
  audience: string,
  nowSec: number,
): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(creds.private_key_id ? { kid: creds.private_key_id } : {}) };
  const claims = { iss: creds.client_email, scope: GCS_READ_SCOPE, aud: audience, iat: nowSec, exp: nowSec + 3600 };
  const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(creds.private_key);
  return `${unsigned}.${b64url(signature)}`;
}

/** Gets and caches OAuth2 access tokens from a GOOGLE_APPLICATION_CREDENTIALS file. */
export class GcsTokenProvider {
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly uri: string,
    private readonly credentialsPath: string,
  ) {}

  /** A valid bearer token (refreshed a minute before expiry). */
  async get(signal: AbortSignal): Promise<string> {
    if (this.token && Date.now() < this.token.expiresAt - 60_000) return this.token.value;
    this.pending ??= this.fetchToken(signal).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(signal: AbortSignal): Promise<string> {
    const creds = await this.readCredentials();
    const tokenUri = creds.token_uri || DEFAULT_TOKEN_URI;
    let form: URLSearchParams;
    if (creds.type === 'service_account') {
      if (!creds.client_email || !creds.private_key)
        throw this.invalid('service_account JSON lacks client_email or private_key');
      let assertion: string;
      try {
        assertion = serviceAccountAssertion(
          { client_email: creds.client_email, private_key: creds.private_key, private_key_id: creds.private_key_id },
          tokenUri,
          Math.floor(Date.now() / 1000),
        );
      } catch (err) {
        throw this.invalid(`cannot sign with its private_key: ${causeText(err)}`);
      }
      form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
    } else if (creds.type === 'authorized_user') {
      if (!creds.client_id || !creds.client_secret || !creds.refresh_token) {
        throw this.invalid('authorized_user JSON lacks client_id, client_secret or refresh_token');
      }
      form = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: creds.client_id,
        client_secret: creds.client_secret,
        refresh_token: creds.refresh_token,
      });
    } else {
      throw this.invalid(`unsupported credentials type "${creds.type}" (service_account or authorized_user)`);
    }
    const target = { uri: this.uri, object: `token endpoint ${tokenUri}` };
    const res = await fetchOrThrow(target, tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal,
    });
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      const text = (await res.text()).slice(0, 300);
      throw new StorageError(
        'NO_CREDENTIALS',
        `token endpoint rejected the credentials in ${this.credentialsPath} (HTTP ${res.status}): ${text}`,
        target,
      );
    }
    await throwForStatus(target, res);
    const body = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new StorageError('NO_CREDENTIALS', 'token endpoint returned no access_token', target);
    this.token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
    return body.access_token;
  }

  private async readCredentials(): Promise<CredentialsFile> {
    try {
      return JSON.parse(await readFile(this.credentialsPath, 'utf8')) as CredentialsFile;
    } catch (err) {
      throw this.invalid(`cannot read it: ${causeText(err)}`);
    }
  }

  private invalid(detail: string): StorageError {
    return new StorageError('NO_CREDENTIALS', `GOOGLE_APPLICATION_CREDENTIALS ${this.credentialsPath}: ${detail}`, {
      uri: this.uri,
    });
  }
}
