// topk of the wasm backend: the js reference kernels (js/topk.ts, a stable sort per row) on copies of the
// storages. A sort is branchy scalar code that SIMD would not speed up.

import type { Backend } from "../backend.js";
import { jsBackend } from "../js/index.js";
import type { WasmContext } from "./context.js";

export function createTopkMethods(cx: WasmContext): Pick<Backend, "topk" | "topkBackward"> {
  return {
    topk(x, g) {
      const { values, indices } = jsBackend.topk(cx.toJs(x), g);
      return { values: cx.fromJs(values), indices: cx.fromJs(indices) };
    },
    topkBackward: (gy, indices, g) =>
      cx.viaJs([gy, indices], ([gs, is]) => jsBackend.topkBackward(gs, is, g)),
  };
}
