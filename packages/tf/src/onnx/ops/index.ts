import type { OpLowering } from '../context.js';
import { basicOps } from './basic.js';
import { convOps } from './conv.js';
import { binaryOps, unaryOps } from './elementwise.js';
import { matmulOps } from './matmul.js';
import { poolOps } from './pool.js';
import { reduceOps } from './reduce.js';
import { resizeOps } from './resize.js';
import { shapeOps } from './shape.js';

/** Every TF op type with an ONNX lowering (Placeholder and Const are handled by the walk). */
export const OP_TABLE: Readonly<Record<string, OpLowering>> = {
  ...basicOps,
  ...binaryOps,
  ...unaryOps,
  ...matmulOps,
  ...convOps,
  ...poolOps,
  ...reduceOps,
  ...resizeOps,
  ...shapeOps,
};
