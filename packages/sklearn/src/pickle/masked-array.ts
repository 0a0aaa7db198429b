/**
 * numpy.ma MaskedArray state (`MaskedArray.__setstate__`): (version, shape, dtype, is_fortran, data, mask bytes,
 * fill_value). Rebuilt as an inert NdArray whose `mask` holds the mask; nothing is constructed for real.
 */
import { PickleFormatError } from './errors.js';
import { arrayFromBytes, latin1, parseDTypeString, setArrayState } from './numpy.js';
import type { DType, NdArray, PyValue } from './py-types.js';
import { isDType } from './py-types.js';

/** Apply a MaskedArray's pickled state to `arr`; `checkShape` validates and charges the shape before allocation. */
export function setMaskedArrayState(
  arr: NdArray,
  state: PyValue,
  checkShape: (shape: PyValue[], dt: DType) => number[],
): void {
  if (!Array.isArray(state) || state.length !== 7) {
    throw new PickleFormatError(
      'numpy masked array state is not a 7-tuple (version, shape, dtype, order, data, mask, fill)',
    );
  }
  const [, shapeV, dtV, fortranV, raw, maskRaw] = state;
  if (!Array.isArray(shapeV) || !isDType(dtV)) throw new PickleFormatError('numpy masked array state is malformed');
  if (dtV.fields) throw new PickleFormatError('numpy masked arrays of a structured dtype are not supported');
  const shape = checkShape(shapeV, dtV);
  setArrayState(arr, [shapeV, dtV, fortranV ?? false, raw ?? null]);
  const maskBytes = maskRaw instanceof Uint8Array ? maskRaw : typeof maskRaw === 'string' ? latin1(maskRaw) : null;
  if (!maskBytes) throw new PickleFormatError('numpy masked array state has no mask bytes');
  const count = shape.reduce((a, b) => a * b, 1);
  if (maskBytes.byteLength !== count) {
    throw new PickleFormatError(
      `numpy masked array mask has ${maskBytes.byteLength} bytes for ${count} elements of shape [${shape.join(',')}]`,
    );
  }
  const fortran = fortranV === true || fortranV === 1;
  arr.mask = arrayFromBytes(parseDTypeString('|b1'), shape, maskBytes, fortran);
}
