import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { causeText, StorageError } from '../errors.js';
import type { StorageEnv } from '../types.js';

/** True for "true"/"1"/"yes" (any case). */
export function envFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

/** The S3 endpoint from AWS_ENDPOINT_URL, or S3_ENDPOINT (+ S3_USE_HTTPS, default https); undefined for AWS. */
export function s3Endpoint(env: StorageEnv): string | undefined {
  const url = env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim();
  if (url) return url;
  const host = env.S3_ENDPOINT?.trim();
  if (!host) return undefined;
  if (/^https?:\/\//i.test(host)) return host;
  return `${envFlag(env.S3_USE_HTTPS) === false ? 'http' : 'https'}://${host}`;
}

/**
 * S3 client configuration from KServe's environment variables: endpoint, region, static or anonymous
 * credentials, path-style addressing for custom endpoints, TLS verification and CA bundle.
 * Retries are done by the caller (so the SDK's are off).
 */
export function s3ClientConfig(uri: string, env: StorageEnv, idleTimeoutMs: number): S3ClientConfig {
  const endpoint = s3Endpoint(env);
  const virtual = envFlag(env.S3_USER_VIRTUAL_BUCKET);
  const config: S3ClientConfig = {
    region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1',
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    forcePathStyle: endpoint !== undefined ? virtual !== true : virtual === false,
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (envFlag(env.S3_USE_ACCELERATE) === true) config.useAccelerateEndpoint = true;

  if (envFlag(env.awsAnonymousCredential) === true) {
    config.credentials = { accessKeyId: '', secretAccessKey: '' };
    config.signer = { sign: async (request) => request };
  } else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    config.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }

  const verify = envFlag(env.S3_VERIFY_SSL);
  const caPath = env.AWS_CA_BUNDLE?.trim();
  let ca: Buffer | undefined;
  if (caPath && verify !== false) {
    try {
      ca = readFileSync(caPath);
    } catch (err) {
      throw new StorageError('NO_CREDENTIALS', `cannot read AWS_CA_BUNDLE ${caPath}: ${causeText(err)}`, { uri });
    }
  }
  const httpsAgent =
    verify === false || ca !== undefined
      ? new HttpsAgent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: verify !== false, ...(ca ? { ca } : {}) })
      : undefined;
  config.requestHandler = {
    requestTimeout: idleTimeoutMs,
    connectionTimeout: Math.min(idleTimeoutMs, 30_000),
    ...(httpsAgent ? { httpsAgent } : {}),
  };
  return config;
}
