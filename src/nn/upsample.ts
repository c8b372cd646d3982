// Upsampling layer (torch.nn.Upsample): a parameter-free module around F.interpolate, so that decoders and
// feature pyramids can put resampling in a Sequential.

import type { Tensor } from "../tensor/tensor.js";
import { interpolate, type InterpolateMode, type InterpolateOptions } from "../ops/interpolate.js";
import { Module } from "./module.js";
import { checkOptionKeys } from "../ops/util.js";

/**
 * Resamples the spatial dims (torch.nn.Upsample): nearest (default), linear or bilinear, to a fixed `size`
 * or by `scaleFactor` (exactly one of them); `alignCorners` for the linear modes.
 * Input [N, C, L] or [N, C, H, W].
 * @example new Upsample({ scaleFactor: 2, mode: "bilinear" }).forward(x) // [1, 64, 14, 14] -> [1, 64, 28, 28]
 */
export class Upsample extends Module {
  readonly size: number | readonly number[] | undefined;
  readonly scaleFactor: number | readonly number[] | undefined;
  readonly mode: InterpolateMode;
  readonly alignCorners: boolean | undefined;

  constructor(options: InterpolateOptions) {
    super();
    checkOptionKeys("Upsample", options, ["size", "scaleFactor", "mode", "alignCorners"]);
    const { size, scaleFactor, mode = "nearest", alignCorners } = options ?? {};
    if ((size === undefined) === (scaleFactor === undefined))
      throw new Error("Upsample: give exactly one of size and scaleFactor");
    if (mode !== "nearest" && mode !== "linear" && mode !== "bilinear")
      throw new Error(
        `Upsample: mode must be 'nearest', 'linear' or 'bilinear', got ${JSON.stringify(mode)}`,
      );
    if (mode === "nearest" && alignCorners !== undefined)
      throw new Error("Upsample: alignCorners can only be set with the linear modes, not 'nearest'");
    this.size = size;
    this.scaleFactor = scaleFactor;
    this.mode = mode;
    this.alignCorners = alignCorners;
  }

  forward(x: Tensor): Tensor {
    return interpolate(x, {
      size: this.size,
      scaleFactor: this.scaleFactor,
      mode: this.mode,
      alignCorners: this.alignCorners,
    });
  }

  override extraRepr(): string {
    const target =
      this.size !== undefined
        ? `size=${JSON.stringify(this.size)}`
        : `scaleFactor=${JSON.stringify(this.scaleFactor)}`;
    const corners = this.alignCorners === undefined ? "" : `, alignCorners=${this.alignCorners}`;
    return `${target}, mode="${this.mode}"${corners}`;
  }
}
