// RoI Align and RoI max pooling of the wasm backend: the js reference kernels (js/detection.ts) on copies
// of the storages. Their reads are irregular and data-dependent (a few bilinear samples or a window per
// output cell), and detection heads run them on a few hundred RoIs, so they are not worth SIMD kernels.

import type { Backend } from "../backend.js";
import { jsBackend } from "../js/index.js";
import type { WasmContext } from "./context.js";

export function createDetectionMethods(
  cx: WasmContext,
): Pick<Backend, "roiAlign" | "roiAlignBackward" | "roiPool" | "roiPoolBackward"> {
  return {
    roiAlign: (x, rois, g) => cx.viaJs([x, rois], ([xs, rs]) => jsBackend.roiAlign(xs, rs, g)),
    roiAlignBackward: (gy, rois, g) =>
      cx.viaJs([gy, rois], ([gs, rs]) => jsBackend.roiAlignBackward(gs, rs, g)),
    roiPool(x, rois, g) {
      const { y, argmax } = jsBackend.roiPool(cx.toJs(x), cx.toJs(rois), g);
      return { y: cx.fromJs(y), argmax: cx.fromJs(argmax) };
    },
    roiPoolBackward: (gy, argmax, rois, g) =>
      cx.viaJs([gy, argmax, rois], ([gs, as, rs]) => jsBackend.roiPoolBackward(gs, as, rs, g)),
  };
}
