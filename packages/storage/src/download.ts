import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { unpackArchive } from './archive/extract.js';
import { archiveKindOfName } from './archive/kind.js';
import {
  commitDir,
  type DownloadMarker,
  destinationState,
  readMarker,
  releaseTemp,
  removeStaleTemps,
  tempDirFor,
  writeMarker,
} from './atomic-dir.js';
import { ensureFreeSpace } from './disk-space.js';
import { causeText, StorageError } from './errors.js';
import { fetchObject } from './fetch-object.js';
import { stderrLogger } from './logger.js';
import { formatMB, ProgressReporter } from './progress.js';
import { mapLimit, type RetryPolicy, withRetry } from './retry.js';
import { createSource } from './sources/create.js';
import type { RemoteObject, Source } from './sources/source.js';
import type { DownloadOptions, DownloadResult, StorageLogger } from './types.js';
import { parseStorageUri } from './uri.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Default cap on what one archive unpacks to (`maxUnpackedBytes`, `--storage_max_unpacked_bytes`). */
export const DEFAULT_MAX_UNPACKED_BYTES = 8 * GiB;
/** Default cap on unpacked size relative to the archive's size (`maxUnpackRatio`, `--storage_max_unpack_ratio`). */
export const DEFAULT_MAX_UNPACK_RATIO = 50;
/** Unpacked bytes always allowed, whatever the ratio. */
export const UNPACK_FREE_BYTES = 64 * MiB;
/** Default cap on the entries of one archive (`maxArchiveEntries`, `--storage_max_entries`). */
export const DEFAULT_MAX_ARCHIVE_ENTRIES = 10_000;

/**
 * The most an archive of `archiveBytes` may unpack to: `maxUnpackedBytes` (default 8 GiB), and no more than
 * `maxUnpackRatio` (default 50) times the archive beyond the first 64 MiB. A 10 MB tar.gz bomb stops at 500 MB.
 */
export function unpackCap(
  archiveBytes: number,
  options: Pick<DownloadOptions, 'maxUnpackedBytes' | 'maxUnpackRatio'>,
): number {
  const absolute = options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  const ratio = options.maxUnpackRatio ?? DEFAULT_MAX_UNPACK_RATIO;
  return Math.min(absolute, Math.max(UNPACK_FREE_BYTES, archiveBytes * ratio));
}

/** Fingerprint of the listed objects' paths, sizes and validators; undefined when any object lacks a validator. */
export function fingerprintOf(objects: readonly RemoteObject[]): string | undefined {
  if (objects.some((o) => o.validator === undefined)) return undefined;
  const rows = objects
    .map((o) => [o.relPath, o.size ?? null, o.validator])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}

/** Number of regular files under a directory. */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) n++;
  return n;
}

/** The attempts for a URI: the option, else S3_MAX_ATTEMPTS for s3://, else 3. */
function attemptsFor(uri: string, options: DownloadOptions, env: Record<string, string | undefined>): number {
  if (options.maxAttempts !== undefined) return Math.max(1, Math.floor(options.maxAttempts));
  const fromEnv = Number(env.S3_MAX_ATTEMPTS);
  if (/^s3:\/\//i.test(uri.trim()) && Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return 3;
}

/**
 * Download everything at `uri` (s3://, gs://, http(s)://, file://, pvc:// or a local path) into `destDir`.
 * The download goes to a temp directory beside `destDir`, is verified (sizes, MD5s), unpacked when it is a
 * single .tar/.tar.gz/.tgz/.zip, and then renamed into place; `destDir` never holds a partial model.
 * A marker file `<destDir>.servekit-storage.json` records the store's validators, so a later call for the
 * same URI reuses the directory when the store still holds the same objects.
 */
export async function download(uri: string, destDir: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const env = options.env ?? process.env;
  const logger: StorageLogger = options.logger ?? stderrLogger;
  const signal = options.signal ?? new AbortController().signal;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const retry: RetryPolicy = {
    retries: attemptsFor(uri, options, env) - 1,
    backoffMs: options.retryBaseDelayMs ?? 200,
    maxBackoffMs: 10_000,
  };
  const dest = resolve(destDir);
  const parsed = parseStorageUri(uri);
  const source = await createSource(parsed, {
    env,
    idleTimeoutMs,
    checkContentType: options.checkContentType ?? true,
    pvcRoot: options.pvcRoot ?? '/mnt/pvc',
  });
  try {
    return await runDownload({ uri, dest, options, logger, signal, idleTimeoutMs, retry, source });
  } catch (err) {
    if (err instanceof StorageError) throw err;
    if (signal.aborted) throw new StorageError('ABORTED', causeText(signal.reason), { uri, cause: err });
    throw new StorageError('DESTINATION', `${dest}: ${causeText(err)}`, { uri, cause: err });
  } finally {
    source.close?.();
  }
}

/** Everything download() works with. */
interface Job {
  uri: string;
  dest: string;
  options: DownloadOptions;
  logger: StorageLogger;
  signal: AbortSignal;
  idleTimeoutMs: number;
  retry: RetryPolicy;
  source: Source;
}

async function runDownload(job: Job): Promise<DownloadResult> {
  const { uri, dest, options, logger, signal, retry, source } = job;
  await mkdir(dirname(dest), { recursive: true });
  await removeStaleTemps(dest);
  const marker = await readMarker(dest);
  const state = await destinationState(dest);
  const reusable = marker?.complete === true && marker.uri === uri && state === 'nonempty';
  const cached = (m: DownloadMarker): DownloadResult => ({
    uri,
    dir: dest,
    cached: true,
    files: m.files,
    bytesDownloaded: 0,
    fingerprint: m.fingerprint,
  });
  if (reusable && options.revalidate === false) {
    logger.info(`using cached ${uri} at ${dest} (not revalidated)`);
    return cached(marker);
  }

  let objects: RemoteObject[];
  try {
    objects = await withRetry(
      retry,
      () => source.list(signal),
      (err, attempt, delay) =>
        logger.warn(
          `listing ${uri} failed (attempt ${attempt}/${retry.retries + 1}), retrying in ${Math.round(delay)} ms: ${err.message}`,
        ),
      signal,
    );
  } catch (err) {
    if (reusable && err instanceof StorageError && err.retryable) {
      logger.warn(`cannot reach the store (${err.message}); using the cached copy at ${dest}`);
      return cached(marker);
    }
    throw err;
  }
  const fingerprint = fingerprintOf(objects);
  if (reusable && fingerprint !== undefined && marker.fingerprint === fingerprint) {
    logger.info(`using cached ${uri} at ${dest} (unchanged in the store)`);
    return cached(marker);
  }
  if (state === 'file' || (state === 'nonempty' && marker === undefined && !options.overwrite)) {
    throw new StorageError(
      'DESTINATION',
      `${dest} already exists and was not written by servekit; remove it, pick another directory, or pass overwrite`,
      { uri },
    );
  }

  const sizes = objects.map((o) => o.size);
  const total = sizes.every((s) => s !== undefined) ? sizes.reduce<number>((a, b) => a + (b ?? 0), 0) : undefined;
  logger.info(
    `fetching ${uri} into ${dest}: ${objects.length} object(s)${total !== undefined ? `, ${formatMB(total)}` : ''}`,
  );
  const progress = new ProgressReporter(
    uri,
    logger,
    total,
    options.progressStream ?? process.stderr,
    options.onProgress,
  );

  if (total !== undefined) await ensureFreeSpace(dirname(dest), total, `downloading ${uri}`, { uri });

  const temp = tempDirFor(dest);
  const modelDir = join(temp, 'model');
  try {
    await mkdir(modelDir, { recursive: true });
    const single = objects.length === 1 ? objects[0] : undefined;
    const archiveName = single ? (source.archiveHint?.(single) ?? single.relPath) : undefined;
    const isArchive =
      options.unpackArchives !== false && archiveName !== undefined && archiveKindOfName(archiveName) !== undefined;
    const fetchCtx = { uri, source, retry, idleTimeoutMs: job.idleTimeoutMs, progress, logger, signal };
    let files: number;
    if (isArchive && single && archiveName) {
      const archivePath = join(temp, 'archive', single.relPath.replace(/\//g, '_'));
      await fetchObject(fetchCtx, single, archivePath);
      logger.info(`unpacking ${archiveName}`);
      const unpacked = await unpackArchive(uri, archiveName, archivePath, modelDir, {
        maxBytes: unpackCap((await stat(archivePath)).size, options),
        maxEntries: options.maxArchiveEntries ?? DEFAULT_MAX_ARCHIVE_ENTRIES,
      });
      await rm(archivePath, { force: true });
      files = unpacked.files;
    } else {
      await mapLimit(
        objects,
        Math.max(1, options.concurrency ?? 4),
        (object, objectSignal) =>
          fetchObject({ ...fetchCtx, signal: objectSignal }, object, join(modelDir, object.relPath)),
        signal,
      );
      files = await countFiles(modelDir);
    }
    progress.finish(files);
    const done: DownloadMarker = {
      version: 1,
      uri,
      fingerprint,
      complete: false,
      files,
      bytes: progress.done,
      writtenAt: new Date().toISOString(),
    };
    if (signal.aborted) throw new StorageError('ABORTED', causeText(signal.reason), { uri });
    await writeMarker(dest, done);
    await commitDir(modelDir, dest, join(temp, 'previous'));
    await writeMarker(dest, { ...done, complete: true });
    return { uri, dir: dest, cached: false, files, bytesDownloaded: progress.done, fingerprint };
  } finally {
    await rm(temp, { recursive: true, force: true });
    releaseTemp(temp);
  }
}
