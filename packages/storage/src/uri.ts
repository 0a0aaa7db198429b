import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError } from './errors.js';

/** A storage URI taken apart. */
export type ParsedStorageUri =
  | { kind: 'local'; uri: string; path: string }
  | { kind: 'pvc'; uri: string; claim: string; path: string }
  | { kind: 's3'; uri: string; bucket: string; prefix: string }
  | { kind: 'gs'; uri: string; bucket: string; prefix: string }
  | { kind: 'http'; uri: string; url: URL };

/** Parse a storage URI: a local path, file://, pvc://, s3://, gs://, http:// or https://. */
export function parseStorageUri(uri: string): ParsedStorageUri {
  const trimmed = uri.trim();
  if (trimmed === '') throw new StorageError('INVALID_URI', 'the URI is empty', { uri });
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'local', uri, path: resolve(trimmed) };
  switch (scheme) {
    case 'file':
      try {
        return { kind: 'local', uri, path: fileURLToPath(trimmed) };
      } catch (err) {
        // file://relative/path is not a valid file URL; KServe strips the prefix and uses the rest as a path.
        const rest = trimmed.slice('file://'.length);
        if (rest === '') throw new StorageError('INVALID_URI', 'file:// needs a path', { uri, cause: err });
        return { kind: 'local', uri, path: resolve(decodeURIComponent(rest)) };
      }
    case 'pvc': {
      const { bucket, prefix } = splitBucket(uri, trimmed.slice('pvc://'.length));
      return { kind: 'pvc', uri, claim: bucket, path: prefix };
    }
    case 's3':
    case 'gs': {
      const { bucket, prefix } = splitBucket(uri, trimmed.slice(scheme.length + 3));
      return { kind: scheme, uri, bucket, prefix };
    }
    case 'http':
    case 'https': {
      let url: URL;
      try {
        url = new URL(trimmed);
      } catch (err) {
        throw new StorageError('INVALID_URI', 'not a valid URL', { uri, cause: err });
      }
      return { kind: 'http', uri, url };
    }
    default:
      throw new StorageError(
        'INVALID_URI',
        `unsupported scheme "${scheme}://" (supported: s3://, gs://, http://, https://, file://, pvc://, or a local path)`,
        { uri },
      );
  }
}

/** Split `bucket/some/prefix` into bucket and prefix; the bucket must not be empty. */
function splitBucket(uri: string, rest: string): { bucket: string; prefix: string } {
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw new StorageError('INVALID_URI', 'the bucket (or claim) name is empty', { uri });
  return { bucket, prefix };
}

/** Local directory of `pvc://claim/path` under the PVC mount root; refuses paths escaping the claim. */
export function pvcPath(uri: string, claim: string, path: string, pvcRoot: string): string {
  const claimDir = resolve(pvcRoot, claim);
  const full = resolve(claimDir, path);
  if (claim === '.' || claim === '..' || (full !== claimDir && !full.startsWith(`${claimDir}${sep}`))) {
    throw new StorageError('INVALID_URI', `the path escapes the volume mount ${claimDir}`, { uri });
  }
  return full;
}
