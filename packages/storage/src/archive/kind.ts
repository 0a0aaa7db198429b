/** Archive formats servekit unpacks. */
export type ArchiveKind = 'zip' | 'tar' | 'tar.gz';

/** The archive kind a file name announces (.zip, .tar, .tar.gz, .tgz), or undefined. */
export function archiveKindOfName(name: string): ArchiveKind | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  if (lower.endsWith('.tar')) return 'tar';
  return undefined;
}

/** The archive kind the first bytes of a file show (zip magic, gzip magic, ustar magic), or undefined. */
export function archiveKindOfBytes(head: Uint8Array): ArchiveKind | undefined {
  if (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 3 || head[2] === 5) &&
    (head[3] === 4 || head[3] === 6)
  ) {
    return 'zip';
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}
