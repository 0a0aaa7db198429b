import type { StorageEnv } from '../types.js';
import type { ParsedStorageUri } from '../uri.js';
import { pvcPath } from '../uri.js';
import { HttpSource } from './http.js';
import { LocalSource } from './local.js';
import type { Source } from './source.js';

/** Settings the sources need. */
export interface SourceSettings {
  env: StorageEnv;
  idleTimeoutMs: number;
  checkContentType: boolean;
  pvcRoot: string;
}

/**
 * The Source reading a parsed storage URI. The S3 and GCS sources are imported only when such a URI is resolved:
 * serving a local folder never loads the AWS SDK.
 */
export async function createSource(parsed: ParsedStorageUri, settings: SourceSettings): Promise<Source> {
  switch (parsed.kind) {
    case 'local':
      return new LocalSource(parsed.uri, parsed.path);
    case 'pvc':
      return new LocalSource(parsed.uri, pvcPath(parsed.uri, parsed.claim, parsed.path, settings.pvcRoot));
    case 's3': {
      const { S3Source } = await import('./s3.js');
      return new S3Source(parsed.uri, parsed.bucket, parsed.prefix, settings.env, settings.idleTimeoutMs);
    }
    case 'gs': {
      const { GcsSource } = await import('./gcs.js');
      return new GcsSource(parsed.uri, parsed.bucket, parsed.prefix, settings.env);
    }
    case 'http':
      return new HttpSource(parsed.uri, parsed.url, settings.env, settings.checkContentType);
  }
}
