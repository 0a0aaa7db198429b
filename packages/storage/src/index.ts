export { type DownloadMarker, markerPath } from './atomic-dir.js';
export { download, fingerprintOf } from './download.js';
export { StorageError, type StorageErrorCode, type StorageErrorInit } from './errors.js';
export { cacheKey, defaultCacheDir, resolveModelDir } from './resolve.js';
export { safeRelativePath } from './safe-path.js';
export { gcsEndpoint } from './sources/gcs.js';
export { serviceAccountAssertion } from './sources/gcs-auth.js';
export { contentTypeProblem, hostHeaders } from './sources/http.js';
export { s3ClientConfig, s3Endpoint } from './sources/s3-config.js';
export type {
  DownloadOptions,
  DownloadProgress,
  DownloadResult,
  ResolveOptions,
  StorageEnv,
  StorageLogger,
} from './types.js';
export { type ParsedStorageUri, parseStorageUri, pvcPath } from './uri.js';
