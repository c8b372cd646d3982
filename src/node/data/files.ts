// File helpers shared by the Node dataset loaders: finding a dataset's files (raw or .gz) in a folder and
// reading them as bytes, gunzipping when the gzip signature is present. Errors list every expected file name,
// because the data cannot be downloaded by the library and the user has to put the files in place.

import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { isGzip } from "../../data/idx.js";

/** Reads a file, decompressing it when it is gzip data. */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(path));
  if (!isGzip(bytes)) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (error) {
    throw new Error(`${path}: gzip data could not be decompressed (${(error as Error).message})`);
  }
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
