// Bilinear resampling of CHW images (browser-safe), shared by the image-folder loader and the resizing
// augmentations. It follows PyTorch's F.interpolate(mode="bilinear", align_corners=False) without antialiasing:
// output pixel centres map to source coordinates (i + 0.5)·scale − 0.5, clamped to the edge.

/** A rectangle of a source plane: rows top..top+height-1, columns left..left+width-1. */
export interface Region {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Resizes a [C, H, W] image to [C, outH, outW] with bilinear interpolation (align_corners = false).
 *
 * @example const small = resizeBilinear(rgb, 3, 64, 48, 32, 32); // Float32Array(3·32·32)
 */
export function resizeBilinear(
  src: Float32Array,
  channels: number,
  height: number,
  width: number,
  outH: number,
  outW: number,
): Float32Array {
  if (src.length !== channels * height * width) {
    throw new Error(
      `resizeBilinear: ${src.length} values do not make an image [${channels},${height},${width}]`,
    );
  }
  if (!(outH > 0 && outW > 0) || !Number.isInteger(outH) || !Number.isInteger(outW)) {
    throw new Error(`resizeBilinear: output size must be positive integers, got ${outH}×${outW}`);
  }
  const out = new Float32Array(channels * outH * outW);
  const region = { top: 0, left: 0, height, width };
  for (let c = 0; c < channels; c++) {
    resizeRegion(src, c * height * width, width, region, out, c * outH * outW, outH, outW);
  }
  return out;
}

/**
 * Resamples `region` of one plane (row stride `srcW`, starting at `srcOffset`) into an outH×outW plane of
 * `dst` at `dstOffset`. Equivalent to cropping the region and then resizing it.
 */
export function resizeRegion(
  src: Float32Array,
  srcOffset: number,
  srcW: number,
  region: Region,
  dst: Float32Array,
  dstOffset: number,
  outH: number,
  outW: number,
): void {
  const ys = axisWeights(region.height, outH);
  const xs = axisWeights(region.width, outW);
  for (let oy = 0; oy < outH; oy++) {
    const row0 = srcOffset + (region.top + ys.i0[oy]) * srcW + region.left;
    const row1 = srcOffset + (region.top + ys.i1[oy]) * srcW + region.left;
    const wy = ys.frac[oy];
    const o = dstOffset + oy * outW;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = xs.i0[ox];
      const x1 = xs.i1[ox];
      const wx = xs.frac[ox];
      const top = src[row0 + x0] + (src[row0 + x1] - src[row0 + x0]) * wx;
      const bottom = src[row1 + x0] + (src[row1 + x1] - src[row1 + x0]) * wx;
      dst[o + ox] = top + (bottom - top) * wy;
    }
  }
}

/** For each output index along one axis: the two source indices and the weight of the second. */
export function axisWeights(
  inSize: number,
  outSize: number,
): { i0: Int32Array; i1: Int32Array; frac: Float32Array } {
  const scale = inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const frac = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const s = Math.max(0, (o + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(s), inSize - 1);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    frac[o] = s - lo;
  }
  return { i0, i1, frac };
}
