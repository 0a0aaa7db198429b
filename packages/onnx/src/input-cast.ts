import { type InferTensor, InvalidInput, type TensorMetadata } from '@servekit/core';
import { isBigIntDatatype } from '@servekit/core/wire';

const INT_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Check a request tensor against the model input and convert its datatype where that keeps the values:
 * - FP64 → FP32: accepted and rounded to float32 (JSON numbers carry no width; float32 is what the model uses);
 * - FP32 → FP64 and any integer → FP32/FP64: widened;
 * - a narrower integer → INT64, and INT64 → INT32 when every value fits;
 * anything else is a 400 naming the input, the expected and the received datatype. Rank and fixed dims are
 * checked too; with `rowByRow` (every input of the model has batch dim 1) more rows are accepted and run one by one.
 */
export function castInput(t: InferTensor, meta: TensorMetadata, rowByRow = false): InferTensor {
  if (meta.shape.length > 0 && t.shape.length !== meta.shape.length) {
    throw new InvalidInput(
      `Input "${t.name}": expected rank ${meta.shape.length} ${JSON.stringify(meta.shape)}, got shape ${JSON.stringify(t.shape)}.`,
    );
  }
  for (let i = 0; i < meta.shape.length; i++) {
    const d = meta.shape[i]!;
    if (d > 0 && t.shape[i] !== d && !(i === 0 && rowByRow)) {
      throw new InvalidInput(
        `Input "${t.name}": dim ${i} must be ${d} (model shape ${JSON.stringify(meta.shape)}), got shape ${JSON.stringify(t.shape)}.`,
      );
    }
  }
  if (t.datatype === meta.datatype) return t;
  const from = t.datatype;
  const to = meta.datatype;
  const mismatch = (): never => {
    throw new InvalidInput(`Input "${t.name}": model expects ${to}, got ${from}.`);
  };
  if (Array.isArray(t.data) || from === 'FP16' || from === 'BF16' || from === 'BOOL') return mismatch();
  const src = t.data;
  const numbers = (): number[] | Float64Array =>
    isBigIntDatatype(from) ? Array.from(src as BigInt64Array, Number) : (src as Float64Array);
  switch (to) {
    case 'FP32':
      if (from === 'FP64' || INT_TYPES.has(from)) return { ...t, datatype: to, data: Float32Array.from(numbers()) };
      break;
    case 'FP64':
      if (from === 'FP32' || INT_TYPES.has(from)) return { ...t, datatype: to, data: Float64Array.from(numbers()) };
      break;
    case 'INT64':
      if (INT_TYPES.has(from) && from !== 'UINT64') {
        return { ...t, datatype: to, data: BigInt64Array.from(Array.from(src as Int32Array, (v) => BigInt(v))) };
      }
      break;
    case 'INT32':
      if (from === 'INT64' || from === 'INT16' || from === 'INT8' || from === 'UINT8' || from === 'UINT16') {
        const values = numbers();
        for (const v of values) {
          if (v < INT32_MIN || v > INT32_MAX) {
            throw new InvalidInput(`Input "${t.name}": value ${v} does not fit the model's INT32 input.`);
          }
        }
        return { ...t, datatype: to, data: Int32Array.from(values) };
      }
      break;
  }
  return mismatch();
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * onnxruntime-node takes string tensors as JS strings and hands them to C++ as NUL-terminated UTF-8, so a
 * BYTES element that is not UTF-8 text or holds a NUL would reach the model changed (U+FFFD, truncated).
 * Refuse such an element with a 400 naming the input and the element index instead.
 */
export function checkOnnxStrings(t: InferTensor): void {
  const data = t.data as Array<Uint8Array | string>;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    let text: string;
    if (typeof v === 'string') {
      if (!(v as string & { isWellFormed(): boolean }).isWellFormed()) {
        throw new InvalidInput(
          `Input "${t.name}": element ${i} is not valid Unicode text (a lone surrogate); ONNX string tensors carry UTF-8 text only.`,
        );
      }
      text = v;
    } else {
      try {
        text = strictUtf8.decode(v);
      } catch {
        throw new InvalidInput(
          `Input "${t.name}": element ${i} is not valid UTF-8; ONNX string tensors carry UTF-8 text only (send the bytes to a model that takes UINT8, or encode them, e.g. base64).`,
        );
      }
    }
    if (text.includes('\u0000')) {
      throw new InvalidInput(
        `Input "${t.name}": element ${i} holds a NUL byte, which ONNX string tensors cannot carry (onnxruntime would cut the string there).`,
      );
    }
  }
}
