/**** Resolving a model URI to a local directory ****/

export { cacheKey, defaultCacheDir, resolveModelDir } from './resolve.js';
export { type ParsedStorageUri, parseStorageUri } from './uri.js';

/**** Downloading ****/

export { download } from './download.js';
export type {
  DownloadOptions,
  DownloadProgress,
  DownloadResult,
  ResolveOptions,
  StorageEnv,
  StorageLogger,
} from './types.js';

/**** Errors ****/

export { StorageError, type StorageErrorCode, type StorageErrorInit } from './errors.js';
