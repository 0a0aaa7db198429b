import { attr } from '@servekit/onnx';
import { TfDtype } from '../../graph/dtypes.js';
import type { OpLowering } from '../context.js';
import { nchwOutput } from './conv.js';

/**
 * ResizeBilinear / ResizeNearestNeighbor as ONNX Resize on the NCHW tensor (axes [2, 3]). Coordinate modes as tf2onnx:
 * align_corners → `align_corners` (nearest rounds half up, as TF's `roundf`); half_pixel_centers → `half_pixel` (for
 * nearest with `round_prefer_ceil`, which is TF's floor((x + 0.5)·scale), i.e. `tf_half_pixel_for_nn`); otherwise
 * `asymmetric` (nearest: floor).
 */
const resize =
  (mode: 'linear' | 'nearest'): OpLowering =>
  (cx, _node, [x, size]) => {
    const alignCorners = cx.bool('align_corners', false);
    const halfPixel = cx.bool('half_pixel_centers', false);
    const transform = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
    const nearestMode = alignCorners || halfPixel ? 'round_prefer_ceil' : 'floor';
    const outType = mode === 'linear' ? TfDtype.DT_FLOAT : x!.dtype;
    const dt = x!.dtype === TfDtype.DT_DOUBLE ? x!.dtype : TfDtype.DT_FLOAT;
    const X = cx.cast(cx.refNchw(x!), x!.dtype, dt);
    const k = cx.known(size!);
    const hw = k === undefined ? [-1, -1] : cx.constNumbers(size!, 'size');
    const out = cx.op1('Resize', [X, '', '', cx.refInt64(size!)], {
      mode: attr.s(mode),
      coordinate_transformation_mode: attr.s(transform),
      ...(mode === 'nearest' ? { nearest_mode: attr.s(nearestMode) } : {}),
      axes: attr.ints([2, 3]),
    });
    const c = x!.shape?.length === 4 ? x!.shape[3]! : -1;
    const v = nchwOutput(x!, { nchwData: false, strides: [1, 1], dilations: [1, 1] }, out, x!.shape?.[0] ?? -1, c, hw);
    v.dtype = outType;
    v.nchw = cx.cast(out, dt, outType);
    return [v];
  };

/** ResizeBilinear, ResizeNearestNeighbor. */
export const resizeOps: Record<string, OpLowering> = {
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
};
