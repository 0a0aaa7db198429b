/** One object (file) of a store, as listed. */
export interface RemoteObject {
  /** Name in the store: object key, file path or URL. */
  key: string;
  /** Path inside the model directory, `/`-separated, already checked with safeRelativePath. */
  relPath: string;
  /** Size in bytes when the listing gives it. */
  size?: number;
  /** Opaque version of the object (ETag, generation, version id, mtime) for the cache; undefined when unknown. */
  validator?: string;
  /** Expected MD5 (hex) of the content when the store gives one. */
  md5?: string;
}

/** An object body being read, from `start` on. */
export interface OpenedObject {
  /** The bytes. */
  body: AsyncIterable<Uint8Array>;
  /** Offset of the first byte of `body` (0 when the store ignored the range). */
  start: number;
  /** Total size of the object when the response tells it. */
  size?: number;
  /** Expected MD5 (hex) learnt from the response, when the listing had none. */
  md5?: string;
  /** True when the body was transparently decoded (Content-Encoding), so sizes cannot be compared. */
  decoded?: boolean;
}

/** A place objects are listed and read from. */
export interface Source {
  /** The objects under the URI; throws StorageError NOT_FOUND when there are none. */
  list(signal: AbortSignal): Promise<RemoteObject[]>;
  /** Read an object from byte `offset` (a source may ignore the offset and start at 0). */
  open(object: RemoteObject, offset: number, signal: AbortSignal): Promise<OpenedObject>;
  /** Name of a single downloaded file whose format tells whether it is an archive (defaults to relPath). */
  archiveHint?(object: RemoteObject): string;
  /** Release sockets. */
  close?(): void;
}
