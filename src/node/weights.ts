// Writing a model's weights as a safetensors file PyTorch loads (torchvision key names), without ever
// overwriting or writing through something the user has: the bytes go to a new temporary file in the target
// folder (created exclusively, so not through a symlink), are flushed, and are renamed into place.

import { open, rename, rm, lstat, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Module } from "../nn/module.js";
import { serializeWeights } from "../io/safetensors.js";

/** Options of `saveWeights`. */
export interface SaveWeightsOptions {
  /** Replace an existing regular file at `path` (default false: an existing path is an error). */
  overwrite?: boolean;
  /** The safetensors `__metadata__` (default { format: "pt" }, as safetensors.torch writes). */
  metadata?: Record<string, string>;
}

/**
 * Saves `model`'s state_dict to `path` as safetensors (F32 floats, I64 integer buffers, torch names), which
 * `safetensors.torch.load_file` reads into the matching torchvision model. Refuses to replace an existing
 * file unless `overwrite: true`, and never replaces a directory or a symlink.
 * @example await saveWeights(model, "resnet18.safetensors");
 */
export async function saveWeights(
  model: Module,
  path: string,
  options: SaveWeightsOptions = {},
): Promise<void> {
  const existing = await lstat(path).catch(() => null);
  if (existing && !(options.overwrite && existing.isFile())) {
    const what = existing.isSymbolicLink() ? "a symlink" : existing.isDirectory() ? "a directory" : "a file";
    throw new Error(
      `saveWeights: ${path} already exists (${what}); nothing was written` +
        (existing.isFile() ? " (pass { overwrite: true } to replace it)" : ""),
    );
  }
  const folder = dirname(path);
  const parent = await stat(folder).catch(() => null);
  if (!parent?.isDirectory()) {
    // As torch.save: the folder is not created on the user's behalf (a typo would scatter files).
    throw new Error(
      `saveWeights: the folder ${folder} ${parent ? "is not a directory" : "does not exist"}; nothing was written (create it first)`,
    );
  }
  const bytes = serializeWeights(model, options.metadata);
  const temp = join(folder, `.${basename(path)}.tmp-${randomBytes(6).toString("hex")}`);
  const handle = await open(temp, "wx").catch((error: Error) => {
    throw new Error(`saveWeights: cannot create a file in ${folder} (${error.message}); nothing was written`);
  });
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw new Error(
      `saveWeights: writing ${path} failed (${(error as Error).message}); nothing was replaced`,
    );
  }
  await handle.close();
  await rename(temp, path);
}
