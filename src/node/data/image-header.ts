// What an image file says about itself, read before anything is decoded: the format (from the signature, not
// the file extension), the width and height (PNG's IHDR chunk, JPEG's SOF segment), and for PNG whether the
// compressed data holds exactly the bytes those dimensions need. Decoders allocate from the header's
// dimensions, so a 90-byte file declaring 20000×20000 must be refused here, by a pixel limit, and a PNG whose
// data holds fewer rows than its header claims would otherwise decode with silent zeros.

import * as zlib from "node:zlib";
import { createInflate } from "node:zlib";

// zlib.crc32 arrived in Node 20.15; on older 20.x the CRCs are left to pngjs.
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** Default `maxPixels`: 40 megapixels (about 7300×5500, larger than most camera photos). */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/** The format and size an image file declares. */
export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** PNG colour type → samples per pixel. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function hexStart(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ") || "(empty)";
}

/**
 * Reads an image's format and dimensions from its first bytes and checks them against `maxPixels`. Throws,
 * naming `path`, for a file that is neither PNG nor JPEG, a truncated or malformed header, or too many pixels.
 */
export function readImageHeader(
  path: string,
  bytes: Uint8Array,
  maxPixels = DEFAULT_MAX_PIXELS,
): ImageHeader {
  let header: ImageHeader;
  if (startsWith(bytes, PNG_SIGNATURE)) header = { format: "png", ...pngSize(path, bytes) };
  else if (startsWith(bytes, [0xff, 0xd8, 0xff])) header = { format: "jpeg", ...jpegSize(path, bytes) };
  else throw new Error(`${path}: not a PNG or JPEG image (it starts with ${hexStart(bytes)})`);
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new Error(
      `${path}: ${header.format.toUpperCase()} of ${header.width}×${header.height} = ${pixels} pixels exceeds maxPixels ${maxPixels} (raise it with the maxPixels option)`,
    );
  }
  // Every 8×8 luma block costs at least one bit of entropy-coded data (its DC difference code, in baseline
  // and progressive JPEG alike), so a file smaller than pixels/512 bytes cannot hold its declared size; the
  // decoder would allocate for the full size before finding out.
  if (header.format === "jpeg" && bytes.length < Math.floor(pixels / 512)) {
    throw new Error(
      `${path}: JPEG of ${bytes.length} bytes is too small to hold ${header.width}×${header.height} pixels (truncated, or a corrupt header)`,
    );
  }
  return header;
}

function checkSize(path: string, format: string, width: number, height: number): void {
  if (width === 0 || height === 0 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1) {
    throw new Error(`${path}: ${format} header declares an invalid size ${width}×${height}`);
  }
}

function pngSize(path: string, bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.length < 33 ||
    view.getUint32(8) !== 13 ||
    String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR"
  ) {
    throw new Error(`${path}: PNG is truncated or lacks its IHDR header chunk`);
  }
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  checkSize(path, "PNG", width, height);
  return { width, height };
}

// Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are other segments.
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegSize(path: string, bytes: Uint8Array): { width: number; height: number } {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`${path}: JPEG is corrupt (no segment marker at byte ${at})`);
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // scan data or end before any frame header
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (SOF.has(marker)) {
      if (at + 9 > bytes.length) break;
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      checkSize(path, "JPEG", width, height);
      return { width, height };
    }
    if (length < 2) throw new Error(`${path}: JPEG is corrupt (segment length ${length} at byte ${at})`);
    at += 2 + length;
  }
  throw new Error(`${path}: JPEG is truncated or has no frame header (SOF) giving its size`);
}

/** Bytes of filtered, decompressed PNG data that a width×height image needs (1 filter byte per row). */
function pngDataBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number): number =>
    w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  if (!interlaced) return rows(width, height);
  // Adam7: seven passes, each a sub-image on its own grid (x0, y0, dx, dy).
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  return passes.reduce(
    (sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)),
    0,
  );
}

/** A PNG's header fields and the chunks a decoder needs, after checkPngData. */
export interface PngLayout {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
  /** The compressed image data, one entry per IDAT chunk. */
  idat: Uint8Array[];
  /** The palette (PLTE) and transparency (tRNS) chunks' data, when present. */
  plte?: Uint8Array;
  trns?: Uint8Array;
}

/**
 * Checks a PNG's chunks (lengths within the file, CRCs) and that its image data (the IDAT chunks, inflated and
 * counted, not kept) holds exactly the bytes its header's size, bit depth and colour type need. Streamed, so
 * memory stays small whatever the header says. Returns the layout for a decoder.
 */
export async function checkPngData(path: string, bytes: Uint8Array): Promise<PngLayout> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const channels = PNG_CHANNELS[bytes[25]];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new Error(`${path}: PNG has an invalid colour type ${bytes[25]} or bit depth ${depth}`);
  }
  if (bytes[26] !== 0 || bytes[27] !== 0 || bytes[28] > 1) {
    throw new Error(
      `${path}: PNG header has an unknown compression (${bytes[26]}), filter (${bytes[27]}) or interlace (${bytes[28]}) method`,
    );
  }
  const layout: PngLayout = {
    width,
    height,
    depth,
    colorType: bytes[25],
    interlaced: bytes[28] === 1,
    idat: [],
  };
  const expected = pngDataBytes(width, height, channels * depth, layout.interlaced);
  let ended = false;
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) {
      throw new Error(
        `${path}: PNG is truncated (chunk '${type}' of ${length} bytes runs past the end of the file)`,
      );
    }
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32 && crc32(bytes.subarray(at + 4, at + 8 + length)) >>> 0 !== view.getUint32(at + 8 + length)) {
      throw new Error(`${path}: PNG chunk '${type}' at byte ${at} has a bad CRC (the file is corrupt)`);
    }
    if (type === "IDAT") layout.idat.push(data);
    else if (type === "PLTE") layout.plte = data;
    else if (type === "tRNS") layout.trns = data;
    else if (type === "IEND") {
      ended = true;
      const trailing = bytes.length - (at + 12 + length);
      if (trailing > 0) throw new Error(`${path}: PNG has ${trailing} bytes after its IEND chunk`);
      break;
    } else if (type !== "IHDR" && (bytes[at + 4] & 0x20) === 0) {
      throw new Error(`${path}: PNG has an unknown critical chunk '${type}' at byte ${at}`);
    }
    at += 12 + length;
  }
  if (!ended) throw new Error(`${path}: PNG is truncated (no IEND chunk)`);
  const found = await inflatedLength(path, layout.idat, expected);
  if (found !== expected) {
    const holds = found > expected ? `more than ${expected}` : `${found}`;
    throw new Error(
      `${path}: PNG data holds ${holds} bytes but its ${width}×${height} header needs ${expected} (truncated or corrupt)`,
    );
  }
  return layout;
}

// Inflates the chunks, counting the output; stops as soon as it passes `limit` (returns limit + 1 then).
function inflatedLength(path: string, chunks: Uint8Array[], limit: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const inflate = createInflate();
    let total = 0;
    let done = false;
    inflate.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit && !done) {
        done = true;
        inflate.destroy();
        resolve(total);
      }
    });
    inflate.on("error", (error) => {
      if (done) return;
      done = true;
      reject(new Error(`${path}: PNG image data is corrupt (${error.message})`));
    });
    inflate.on("end", () => {
      if (done) return;
      done = true;
      resolve(total);
    });
    for (const chunk of chunks) inflate.write(chunk);
    inflate.end();
  });
}
