export { type ConstData, constFromHost } from './const.js';
export { type UnsupportedOp, UnsupportedTfOps } from './errors.js';
export { LOWERING_OPSET } from './ir.js';
export { type LoweredGraph, type LoweredTensor, type LowerOptions, lowerFrozenGraph, unmappedOps } from './lower.js';
export { OP_TABLE } from './ops/index.js';
