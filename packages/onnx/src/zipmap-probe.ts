/** The op type `ZipMap` as its UTF-8 bytes appear in a NodeProto's op_type field. */
const ZIPMAP = Buffer.from('ZipMap');

/**
 * Whether an ONNX file's bytes may hold a ZipMap node: they contain the op type's name. False means none (an op
 * type is stored as plain UTF-8), so the protobuf decode that `stripZipMap` needs is skipped for such files.
 */
export function mayHoldZipMap(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(ZIPMAP);
}
