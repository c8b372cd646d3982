// File helpers shared by the Node dataset loaders: finding a dataset's files (raw or .gz) in a folder and
// reading them as bytes, gunzipping when the gzip signature is present. Decompression is streamed and bounded:
// it stops at the size the file's own header declares (or `maxBytes`), so a gzip bomb fails after a few
// kilobytes instead of filling memory. Errors list every expected file name, because the data cannot be
// downloaded by the library and the user has to put the files in place.

import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { isGzip } from "../../data/idx.js";

/** Default cap on a decompressed dataset file: 1 GiB (MNIST's largest file is 47 MB). */
export const MAX_DECOMPRESSED_BYTES = 2 ** 30;

// Deflate cannot expand data more than 1032:1; a header declaring more than this (plus slack for the gzip
// framing) is lying about the file, whatever the data turns out to be.
const MAX_DEFLATE_RATIO = 1032;

/** Options of `readMaybeGzip`. */
export interface ReadMaybeGzipOptions {
  /** Largest decompressed size accepted, in bytes (default {@link MAX_DECOMPRESSED_BYTES}). */
  maxBytes?: number;
  /**
   * The total size the decompressed data declares in its first bytes, or null while too few bytes are in;
   * decompression stops with an error once the data passes it. Throws when the first bytes are not valid.
   */
  declaredLength?: (head: Uint8Array, name: string) => number | null;
}

/** Reads a file, decompressing it (streamed, bounded by `options`) when it is gzip data. */
export async function readMaybeGzip(path: string, options: ReadMaybeGzipOptions = {}): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(path));
  if (!isGzip(bytes)) return bytes;
  return gunzipBounded(bytes, path, options);
}

/** The header-bearing prefix the declaredLength callbacks look at: IDX headers are at most 1 KB. */
const HEAD_BYTES = 1024;

function gunzipBounded(
  compressed: Uint8Array,
  name: string,
  options: ReadMaybeGzipOptions,
): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? MAX_DECOMPRESSED_BYTES;
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let total = 0;
    let limit = maxBytes;
    let limitFromHeader = false;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      reject(error);
    };
    const checkHeader = (): void => {
      const head = Buffer.concat(chunks).subarray(0, HEAD_BYTES);
      const declared = options.declaredLength!(head, name);
      if (declared === null) return;
      limitFromHeader = true;
      if (declared > maxBytes) {
        throw new Error(
          `${name}: its header declares ${declared} bytes, over the limit of ${maxBytes} (raise it with maxBytes)`,
        );
      }
      if (declared > MAX_DEFLATE_RATIO * compressed.length + HEAD_BYTES) {
        throw new Error(
          `${name}: its header declares ${declared} bytes, more than ${compressed.length} bytes of gzip can hold; the file is corrupt`,
        );
      }
      limit = declared;
    };
    gunzip.on("data", (chunk: Buffer) => {
      if (settled) return;
      chunks.push(chunk);
      total += chunk.length;
      try {
        if (options.declaredLength && !limitFromHeader) checkHeader();
      } catch (error) {
        fail(error as Error);
        return;
      }
      if (total > limit) {
        const what = limitFromHeader ? "its header declares" : "allowed (raise it with maxBytes)";
        fail(new Error(`${name}: decompresses to more than the ${limit} bytes ${what}`));
      }
    });
    gunzip.on("error", (error) =>
      fail(new Error(`${name}: gzip data could not be decompressed (${error.message})`)),
    );
    gunzip.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(new Uint8Array(Buffer.concat(chunks, total)));
    });
    gunzip.end(compressed);
  });
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds each of `names` in `dir`, as given or with `.gz` appended when `gzipOk`. Throws one error naming the
 * folder, the missing files and every expected name.
 */
export async function findFiles(
  what: string,
  dir: string,
  names: readonly string[],
  gzipOk: boolean,
): Promise<string[]> {
  const expected = names.map((n) => (gzipOk ? `${n}[.gz]` : n)).join(", ");
  if (!(await isDirectory(dir))) {
    throw new Error(`${what}: folder ${dir} does not exist; expected it to contain ${expected}`);
  }
  const found: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const candidates = gzipOk ? [name, `${name}.gz`] : [name];
    let hit: string | null = null;
    for (const candidate of candidates) {
      if (await isFile(join(dir, candidate))) {
        hit = join(dir, candidate);
        break;
      }
    }
    if (hit) found.push(hit);
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(`${what}: ${dir} is missing ${missing.join(", ")}; expected files: ${expected}`);
  }
  return found;
}
