// CIFAR-10 and CIFAR-100 from disk (Node), in the published binary format. The archives cannot be downloaded
// here, so a missing folder or file is reported with the list of file names to put there. The folder may be the
// one holding the files or its parent (cifar-10-batches-bin/, cifar-100-binary/ as the tarballs extract).

import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { TensorDataset } from "../../data/dataset.js";
import { parseCifar10, parseCifar100, type Cifar100Options, type NamedBytes } from "../../data/cifar.js";
import { findFiles, isDirectory } from "./files.js";

/** File names of a CIFAR-10 split. */
export function cifar10FileNames(split: "train" | "test"): string[] {
  return split === "train" ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ["test_batch.bin"];
}

/** File names of a CIFAR-100 split. */
export function cifar100FileNames(split: "train" | "test"): string[] {
  return [split === "train" ? "train.bin" : "test.bin"];
}

/**
 * Loads a CIFAR-10 split (train: 50,000 images from data_batch_1..5.bin; test: 10,000 from test_batch.bin) as a
 * dataset [N,3,32,32] with pixels in [0, 1].
 *
 * @example const train = await loadCifar10("./data/cifar-10-batches-bin", "train");
 */
export async function loadCifar10(dir: string, split: "train" | "test" = "train"): Promise<TensorDataset> {
  const files = await readAll(
    "loadCifar10",
    dir,
    "cifar-10-batches-bin",
    cifar10FileNames(checkSplit("loadCifar10", split)),
  );
  return TensorDataset.fromImages(parseCifar10(files));
}

/**
 * Loads a CIFAR-100 split (train.bin: 50,000 images; test.bin: 10,000) as a dataset [N,3,32,32] with pixels in
 * [0, 1], labelled with the 100 fine classes or, with `{ label: "coarse" }`, the 20 superclasses.
 *
 * @example const test = await loadCifar100("./data/cifar-100-binary", "test");
 */
export async function loadCifar100(
  dir: string,
  split: "train" | "test" = "train",
  options: Cifar100Options = {},
): Promise<TensorDataset> {
  const files = await readAll(
    "loadCifar100",
    dir,
    "cifar-100-binary",
    cifar100FileNames(checkSplit("loadCifar100", split)),
  );
  return TensorDataset.fromImages(parseCifar100(files, options));
}

function checkSplit(what: string, split: string): "train" | "test" {
  if (split !== "train" && split !== "test")
    throw new Error(`${what}: split must be 'train' or 'test', got '${split}'`);
  return split;
}

async function readAll(
  what: string,
  dir: string,
  archiveFolder: string,
  names: string[],
): Promise<NamedBytes[]> {
  const nested = join(dir, archiveFolder);
  const folder = (await isDirectory(nested)) ? nested : dir;
  const paths = await findFiles(what, folder, names, false);
  return Promise.all(
    paths.map(async (path, i) => ({ name: names[i], bytes: new Uint8Array(await readFile(path)) })),
  );
}
