// A streaming PNG row decoder for the one job pngjs cannot do cheaply: reading a large image that is resized
// down. pngjs decodes the whole image (about 16 bytes per pixel at its peak); here the image data is inflated
// in chunks and unfiltered one row at a time, and only the rows the bilinear resize reads are kept, as RGBA.
// It covers the common layout — 8-bit, non-interlaced, grey, grey+alpha, RGB, RGBA or palette — with the same
// output as pngjs; anything else (16-bit, low bit depths, interlacing, a transparent colour key) goes to pngjs.

import { createInflate } from "node:zlib";
import type { PngLayout } from "./image-header.js";

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** True when decodePngRows handles this PNG exactly as pngjs would. */
export function canStreamPng(layout: PngLayout): boolean {
  const keyed = (layout.colorType === 0 || layout.colorType === 2) && layout.trns !== undefined;
  const { plte, trns } = layout;
  const palette =
    layout.colorType !== 3 ||
    (plte !== undefined && plte.length % 3 === 0 && (trns === undefined || trns.length <= plte.length / 3));
  return layout.depth === 8 && !layout.interlaced && !keyed && palette;
}

/**
 * Decodes the rows of `layout` listed in `wanted` to RGBA bytes (row → width·4 bytes); the other rows are
 * unfiltered and dropped. The data's size was checked by checkPngData; a bad filter byte is an error.
 */
export function decodePngRows(
  path: string,
  layout: PngLayout,
  wanted: ReadonlySet<number>,
): Promise<Map<number, Uint8Array>> {
  const { width, height, colorType } = layout;
  const bpp = SAMPLES[colorType];
  const stride = width * bpp;
  let previous = new Uint8Array(stride);
  let current = new Uint8Array(stride);
  let filter = -1;
  let filled = 0;
  let y = 0;
  const rows = new Map<number, Uint8Array>();
  const toRgba = rgbaConverter(layout);
  return new Promise((resolve, reject) => {
    const inflate = createInflate();
    let failed = false;
    const fail = (message: string): void => {
      if (failed) return;
      failed = true;
      inflate.destroy();
      reject(new Error(`${path}: ${message}`));
    };
    inflate.on("data", (chunk: Buffer) => {
      for (let i = 0; i < chunk.length && !failed;) {
        if (filter < 0) {
          filter = chunk[i++];
          if (filter > 4) fail(`PNG row ${y} has an invalid filter type ${filter} (the file is corrupt)`);
          continue;
        }
        const n = Math.min(stride - filled, chunk.length - i);
        current.set(chunk.subarray(i, i + n), filled);
        filled += n;
        i += n;
        if (filled < stride) continue;
        unfilter(filter, current, previous, bpp);
        try {
          if (wanted.has(y)) rows.set(y, toRgba(current));
        } catch (error) {
          fail((error as Error).message);
        }
        [previous, current] = [current, previous];
        [filter, filled] = [-1, 0];
        y++;
      }
    });
    inflate.on("error", (error) => fail(`PNG image data is corrupt (${error.message})`));
    inflate.on("end", () => {
      if (failed) return;
      if (y !== height) fail(`PNG data holds ${y} rows but its header declares ${height}`);
      else resolve(rows);
    });
    for (const chunk of layout.idat) inflate.write(chunk);
    inflate.end();
  });
}

// PNG's five row filters, undone in place (W3C PNG §9): each byte was stored as a difference from its left
// neighbour (a), the byte above (b), their average, or the Paeth predictor of a, b and the upper-left (c).
function unfilter(filter: number, row: Uint8Array, above: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (filter) {
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i] + row[i - bpp]) & 255;
      break;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i] + above[i]) & 255;
      break;
    case 3:
      for (let i = 0; i < n; i++) row[i] = (row[i] + ((i >= bpp ? row[i - bpp] : 0) + above[i]) / 2) & 255;
      break;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const b = above[i];
        const c = i >= bpp ? above[i - bpp] : 0;
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        row[i] = (row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
      break;
  }
}

// One unfiltered row of samples → RGBA bytes, as pngjs outputs them (tRNS gives palette entries their alpha; an
// index past the palette's end is an error, as in pngjs).
function rgbaConverter(layout: PngLayout): (row: Uint8Array) => Uint8Array {
  const { width, colorType, plte, trns } = layout;
  return (row) => {
    const out = new Uint8Array(4 * width);
    for (let x = 0; x < width; x++) {
      const o = 4 * x;
      switch (colorType) {
        case 0:
          out.set([row[x], row[x], row[x], 255], o);
          break;
        case 4:
          out.set([row[2 * x], row[2 * x], row[2 * x], row[2 * x + 1]], o);
          break;
        case 2:
          out.set([row[3 * x], row[3 * x + 1], row[3 * x + 2], 255], o);
          break;
        case 6:
          out.set(row.subarray(4 * x, 4 * x + 4), o);
          break;
        default: {
          const index = row[x];
          const p = 3 * index;
          if (p + 3 > plte!.length) {
            throw new Error(`PNG palette index ${index} is outside the ${plte!.length / 3}-colour palette`);
          }
          out.set([plte![p], plte![p + 1], plte![p + 2], trns?.[index] ?? 255], o);
        }
      }
    }
    return out;
  };
}
