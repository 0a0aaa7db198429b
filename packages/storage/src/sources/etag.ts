// No imports: shared by the HTTP and S3 sources without loading either's dependencies (the AWS SDK).

/** The MD5 (lowercase hex) an ETag names: a plain (single-part, not KMS-encrypted) S3 ETag is the object's MD5. */
export function md5FromEtag(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/^W\//, '').replace(/"/g, '');
  return bare && /^[0-9a-f]{32}$/i.test(bare) ? bare.toLowerCase() : undefined;
}
