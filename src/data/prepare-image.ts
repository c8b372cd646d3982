// Fitting an arbitrary picture to a classifier's input the way its training images were made (browser-safe;
// `striate predict` uses it). MNIST digits are light strokes on a dark background, their ink scaled to fit a
// 20×20 box (aspect ratio kept) and placed in the 28×28 image so that the centre of mass sits at the
// centre (LeCun et al.'s preprocessing). A drawing is usually the opposite: dark ink on white paper, any
// size, any aspect ratio. prepareImage inverts such a picture (detected from its border, which is
// background), and for single-channel models redoes MNIST's fit-and-centre; for colour models a non-square
// picture is letterboxed (fitted whole, padded with its border colour) instead of stretched.

/** How prepareImage treats the picture's polarity. */
export type InvertMode = "auto" | "yes" | "no";

/** Options of prepareImage (`striate predict --invert`). */
export interface PrepareImageOptions {
  /**
   * "auto" (default): invert a single-channel picture whose border is light (dark ink on light paper),
   * since MNIST-style models were trained on light ink on black; colour pictures are never inverted.
   * "yes"/"no": always/never invert.
   */
  invert?: InvertMode;
}

/** A picture made ready for a model's input, with what was done to it (printed as notes by the CLI). */
export interface PreparedImage {
  /** [C, H, W] in [0, 1], the model's input size. */
  image: Float32Array;
  inverted: boolean;
  /**
   * "as-is": the picture already had the input's size; "mnist": ink cropped, fitted into the 20/28 box and
   * centred by mass; "letterbox": fitted whole, aspect ratio kept, padded; "resize": a square picture
   * resized to a square input.
   */
  layout: "as-is" | "mnist" | "letterbox" | "resize";
  /** Plain sentences saying what was done and why, for the user (empty when nothing notable happened). */
  notes: string[];
}

/** Pixels darker than this (after inversion, in [0, 1]) count as background when cropping to the ink. */
const INK_THRESHOLD = 0.2;
/** MNIST's digits fill a 20-pixel box of the 28-pixel image. */
const MNIST_BOX_FRACTION = 20 / 28;

/** Mean brightness of the picture's outer frame (about 5 % of the shorter side, at least one pixel). */
export function borderMean(plane: Float32Array, height: number, width: number): number {
  const frame = Math.max(1, Math.round(Math.min(height, width) / 20));
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const edgeRow = y < frame || y >= height - frame;
    for (let x = 0; x < width; x++) {
      if (edgeRow || x < frame || x >= width - frame) {
        sum += plane[y * width + x];
        count++;
      }
    }
  }
  return sum / count;
}

/**
 * Resizes one plane by area averaging: each output pixel is the mean of the source area it covers
 * (fractional pixels weighted), so thin strokes survive a large reduction, where bilinear sampling skips
 * them. For enlargement it degrades to nearest-neighbour blocks, which is fine for the sizes used here.
 */
export function resizeArea(
  plane: Float32Array,
  height: number,
  width: number,
  outH: number,
  outW: number,
): Float32Array {
  const out = new Float32Array(outH * outW);
  const sy = height / outH;
  const sx = width / outW;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += plane[y * width + x] * wx * wy;
        }
      }
      out[oy * outW + ox] = sum / (sy * sx);
    }
  }
  return out;
}

/** The rows and columns holding ink (pixels above INK_THRESHOLD), or null for a blank picture. */
function inkBox(plane: Float32Array, height: number, width: number) {
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (plane[y * width + x] > INK_THRESHOLD) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  return bottom < 0 ? null : { top, left, height: bottom - top + 1, width: right - left + 1 };
}

function crop(
  plane: Float32Array,
  width: number,
  box: { top: number; left: number; height: number; width: number },
) {
  const out = new Float32Array(box.height * box.width);
  for (let y = 0; y < box.height; y++) {
    const from = (box.top + y) * width + box.left;
    out.set(plane.subarray(from, from + box.width), y * box.width);
  }
  return out;
}

/**
 * MNIST's layout for one light-on-dark plane: the ink's bounding box scaled (aspect kept) so its longer
 * side is 20/28 of the output, then pasted so the centre of mass lands on the output's centre.
 */
export function mnistLayout(plane: Float32Array, height: number, width: number, outH: number, outW: number) {
  const box = inkBox(plane, height, width) ?? { top: 0, left: 0, height, width };
  const fit = Math.max(1, Math.round(MNIST_BOX_FRACTION * Math.min(outH, outW)));
  const scale = fit / Math.max(box.height, box.width);
  const h = Math.max(1, Math.round(box.height * scale));
  const w = Math.max(1, Math.round(box.width * scale));
  const digit = resizeArea(crop(plane, width, box), box.height, box.width, h, w);
  let mass = 0;
  let cy = 0;
  let cx = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = digit[y * w + x];
      mass += v;
      cy += v * (y + 0.5);
      cx += v * (x + 0.5);
    }
  }
  const top = Math.round(outH / 2 - (mass > 0 ? cy / mass : h / 2));
  const left = Math.round(outW / 2 - (mass > 0 ? cx / mass : w / 2));
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < h; y++) {
    const oy = top + y;
    if (oy < 0 || oy >= outH) continue;
    for (let x = 0; x < w; x++) {
      const ox = left + x;
      if (ox >= 0 && ox < outW) out[oy * outW + ox] = digit[y * w + x];
    }
  }
  return out;
}

/** Fits a [C, H, W] picture whole into [C, outH, outW], aspect kept, centred, padded with `fill` per channel. */
export function letterbox(
  image: Float32Array,
  channels: number,
  height: number,
  width: number,
  outH: number,
  outW: number,
  fill: readonly number[],
): Float32Array {
  const scale = Math.min(outH / height, outW / width);
  const h = Math.max(1, Math.round(height * scale));
  const w = Math.max(1, Math.round(width * scale));
  const top = Math.floor((outH - h) / 2);
  const left = Math.floor((outW - w) / 2);
  const out = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    const plane = resizeArea(
      image.subarray(c * height * width, (c + 1) * height * width),
      height,
      width,
      h,
      w,
    );
    const o = c * outH * outW;
    out.fill(fill[c], o, o + outH * outW);
    for (let y = 0; y < h; y++) out.set(plane.subarray(y * w, (y + 1) * w), o + (top + y) * outW + left);
  }
  return out;
}

/**
 * Prepares a decoded picture [C, H, W] in [0, 1] (C = the model's channels) for a model whose input is of
 * shape [C, outH, outW]. It inverts dark-on-light single-channel pictures (see `invert`), then lays it out —
 * unchanged when it already has the input's size; single-channel: MNIST's crop, 20/28 box and centring by
 * mass; colour: letterboxed when its aspect ratio differs from the input's, else resized (area averaging).
 * @example
 * const { image, notes } = prepareImage(pixels, 1, 400, 300, [1, 28, 28]); // a photo of a drawn digit
 */
export function prepareImage(
  image: Float32Array,
  channels: number,
  height: number,
  width: number,
  input: readonly [number, number, number],
  options: PrepareImageOptions = {},
): PreparedImage {
  const [c, outH, outW] = input;
  if (channels !== c || image.length !== c * height * width) {
    throw new Error(
      `prepareImage: ${image.length} values with ${channels} channels do not make a [${c},${height},${width}] picture for the input [${input.join(",")}]`,
    );
  }
  const mode = options.invert ?? "auto";
  if (mode !== "auto" && mode !== "yes" && mode !== "no") {
    throw new Error(`prepareImage: invert must be 'auto', 'yes' or 'no', got '${String(mode)}'`);
  }
  const notes: string[] = [];
  const border = c === 1 ? borderMean(image, height, width) : 0;
  const inverted = mode === "yes" || (mode === "auto" && c === 1 && border > 0.5);
  let pixels = image;
  if (inverted) {
    pixels = image.map((v) => 1 - v);
    if (mode === "auto") {
      notes.push(
        `dark on light (border brightness ${border.toFixed(2)}): inverted to light ink on black, as MNIST's digits are (--invert no keeps it)`,
      );
    }
  }
  if (height === outH && width === outW) return { image: pixels, inverted, layout: "as-is", notes };
  const shape = `${width}×${height}${height === width ? "" : " (not square)"}`;
  if (c === 1) {
    notes.push(
      `${shape}: ink cropped, fitted into a ${Math.round(MNIST_BOX_FRACTION * Math.min(outH, outW))}-pixel box keeping its aspect ratio and centred by mass in ${outW}×${outH}, as MNIST's digits were`,
    );
    return { image: mnistLayout(pixels, height, width, outH, outW), inverted, layout: "mnist", notes };
  }
  if (height * outW !== width * outH) {
    const fill = Array.from({ length: c }, (_, k) =>
      borderMean(pixels.subarray(k * height * width, (k + 1) * height * width), height, width),
    );
    notes.push(
      `${shape}: letterboxed into ${outW}×${outH} (aspect ratio kept, padded with its border colour), not stretched`,
    );
    return {
      image: letterbox(pixels, c, height, width, outH, outW, fill),
      inverted,
      layout: "letterbox",
      notes,
    };
  }
  const out = new Float32Array(c * outH * outW);
  for (let k = 0; k < c; k++) {
    out.set(
      resizeArea(pixels.subarray(k * height * width, (k + 1) * height * width), height, width, outH, outW),
      k * outH * outW,
    );
  }
  return { image: out, inverted, layout: "resize", notes };
}
