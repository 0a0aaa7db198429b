/** Minimal logger; a pino logger or `console` fits. */
export interface StorageLogger {
  /** Progress and summary lines. */
  info(msg: string): void;
  /** Retries, stale caches, skipped entries. */
  warn(msg: string): void;
}

/** Environment variables read by the storage backends (KServe's names). */
export type StorageEnv = Record<string, string | undefined>;

/** Progress of a download, reported after every chunk written. */
export interface DownloadProgress {
  /** The storage URI being fetched. */
  uri: string;
  /** The object the last chunk belonged to. */
  object: string;
  /** Bytes written so far, over all objects. */
  bytesDone: number;
  /** Total bytes expected, when every object's size is known. */
  bytesTotal: number | undefined;
}

/** Options of `download` and `resolveModelDir`. */
export interface DownloadOptions {
  /** Environment to read credentials and endpoints from (default `process.env`). */
  env?: StorageEnv;
  /** Where progress lines, retries and warnings go (default: stderr). */
  logger?: StorageLogger;
  /** Objects downloaded at once (default 4). */
  concurrency?: number;
  /** Attempts per request on connection errors, timeouts and 5xx (default 3; `S3_MAX_ATTEMPTS` for s3://). */
  maxAttempts?: number;
  /** First retry backoff in ms, doubled per attempt with jitter (default 200). */
  retryBaseDelayMs?: number;
  /** A request fails with TIMEOUT when no byte arrives for this many ms (default 60000). */
  idleTimeoutMs?: number;
  /** Refuse archives unpacking to more than this many bytes (default 8 GiB). */
  maxUnpackedBytes?: number;
  /**
   * Refuse archives unpacking to more than this many times their own size, beyond the first 64 MiB
   * (default 50: model files compress 1-10×, gzip/zip bombs ~1000×).
   */
  maxUnpackRatio?: number;
  /** Refuse archives with more entries than this, checked up front for zip (default 10000). */
  maxArchiveEntries?: number;
  /** Unpack a single downloaded .tar/.tar.gz/.tgz/.zip into the model dir (default true). */
  unpackArchives?: boolean;
  /** Check http(s) Content-Type like KServe does (default true). */
  checkContentType?: boolean;
  /** Revalidate a cached download against the store before reusing it (default true). */
  revalidate?: boolean;
  /** Replace a non-empty destination not written by servekit (default false: refuse). */
  overwrite?: boolean;
  /** Draw a progress bar on this stream when it is a TTY (default `process.stderr`; false for none). */
  progressStream?: NodeJS.WritableStream | false;
  /** Called after every chunk written. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Cancels the download; the destination is left untouched. */
  signal?: AbortSignal;
  /** Where `pvc://<name>/<path>` is mounted: `<pvcRoot>/<name>/<path>` (default `/mnt/pvc`). */
  pvcRoot?: string;
}

/** What `download` did. */
export interface DownloadResult {
  /** The storage URI fetched. */
  uri: string;
  /** The local directory holding the model. */
  dir: string;
  /** True when a previous download was reused and nothing was fetched. */
  cached: boolean;
  /** Files in the model directory (after unpacking). */
  files: number;
  /** Bytes fetched from the store (0 on a cache hit). */
  bytesDownloaded: number;
  /** Fingerprint of the store's validators (ETag, generation, version, size); undefined when the store gave none. */
  fingerprint: string | undefined;
}

/** Options of `resolveModelDir`. */
export interface ResolveOptions extends DownloadOptions {
  /** Directory holding downloads of remote URIs, one subdirectory per URI (default `<tmpdir>/servekit-models`). */
  cacheDir?: string;
}
