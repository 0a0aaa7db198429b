export { type DownloadMarker, markerPath, removeStaleTempsIn } from './atomic-dir.js';
export { freeBytes } from './disk-space.js';
export {
  DEFAULT_MAX_ARCHIVE_ENTRIES,
  DEFAULT_MAX_UNPACK_RATIO,
  DEFAULT_MAX_UNPACKED_BYTES,
  download,
  fingerprintOf,
  UNPACK_FREE_BYTES,
  unpackCap,
} from './download.js';
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
