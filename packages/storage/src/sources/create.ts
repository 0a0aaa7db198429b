import type { StorageEnv } from '../types.js';
import type { ParsedStorageUri } from '../uri.js';
import { pvcPath } from '../uri.js';
import { GcsSource } from './gcs.js';
import { HttpSource } from './http.js';
import { LocalSource } from './local.js';
import { S3Source } from './s3.js';
import type { Source } from './source.js';

/** Settings the sources need. */
export interface SourceSettings {
  env: StorageEnv;
  idleTimeoutMs: number;
  checkContentType: boolean;
  pvcRoot: string;
}

/** The Source reading a parsed storage URI. */
export function createSource(parsed: ParsedStorageUri, settings: SourceSettings): Source {
  switch (parsed.kind) {
    case 'local':
      return new LocalSource(parsed.uri, parsed.path);
    case 'pvc':
      return new LocalSource(parsed.uri, pvcPath(parsed.uri, parsed.claim, parsed.path, settings.pvcRoot));
    case 's3':
      return new S3Source(parsed.uri, parsed.bucket, parsed.prefix, settings.env, settings.idleTimeoutMs);
    case 'gs':
      return new GcsSource(parsed.uri, parsed.bucket, parsed.prefix, settings.env);
    case 'http':
      return new HttpSource(parsed.uri, parsed.url, settings.env, settings.checkContentType);
  }
}
