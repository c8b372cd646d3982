// Parsers for the binary versions of CIFAR-10 and CIFAR-100 (browser-safe: bytes in, arrays out). A CIFAR-10
// record is 1 label byte then 3072 pixel bytes; a CIFAR-100 record is 2 label bytes (coarse, fine) then 3072.
// The pixels are channel-major — the 1024 red values of the 32×32 image row by row, then green, then blue — which
// is already CHW, so a record copies straight into an [N,3,32,32] array.

import type { ImageDataset } from "./dataset.js";

const PIXELS = 3 * 32 * 32;

/** Records in each published CIFAR-10 batch file (data_batch_1..5, test_batch). */
export const CIFAR10_RECORDS_PER_FILE = 10000;

/** The 10 CIFAR-10 class names in label order (airplane … truck). */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** The 20 CIFAR-100 superclass names in label order. */
export const CIFAR100_COARSE_CLASSES = [
  "aquatic_mammals",
  "fish",
  "flowers",
  "food_containers",
  "fruit_and_vegetables",
  "household_electrical_devices",
  "household_furniture",
  "insects",
  "large_carnivores",
  "large_man-made_outdoor_things",
  "large_natural_outdoor_scenes",
  "large_omnivores_and_herbivores",
  "medium_mammals",
  "non-insect_invertebrates",
  "people",
  "reptiles",
  "small_mammals",
  "trees",
  "vehicles_1",
  "vehicles_2",
];

// Fine labels are numbered in alphabetical order of these names.
/** The 100 CIFAR-100 class names in label order. */
export const CIFAR100_FINE_CLASSES = (
  "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can " +
  "castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin " +
  "elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster " +
  "man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck " +
  "pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk " +
  "skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger " +
  "tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split(" ");

/** One CIFAR file's bytes with its name (for error messages). */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/**
 * Parses CIFAR-10 binary batch files into one dataset [N,3,32,32] with pixels in [0, 1].
 *
 * @example const train = parseCifar10([{ name: "data_batch_1.bin", bytes }]);
 */
export function parseCifar10(files: readonly NamedBytes[]): ImageDataset {
  return parseRecords(files, 1, 0, CIFAR10_CLASSES);
}

/** Options of `parseCifar100`. */
export interface Cifar100Options {
  /** Which label to use: the 100 fine classes (default) or the 20 superclasses. */
  label?: "fine" | "coarse";
}

/** Parses CIFAR-100 binary files (train.bin, test.bin) into a dataset [N,3,32,32] with pixels in [0, 1]. */
export function parseCifar100(files: readonly NamedBytes[], options: Cifar100Options = {}): ImageDataset {
  const coarse = options.label === "coarse";
  return parseRecords(files, 2, coarse ? 0 : 1, coarse ? CIFAR100_COARSE_CLASSES : CIFAR100_FINE_CLASSES);
}

function parseRecords(
  files: readonly NamedBytes[],
  labelBytes: number,
  labelOffset: number,
  classes: readonly string[],
): ImageDataset {
  const recordSize = labelBytes + PIXELS;
  let total = 0;
  for (const { name, bytes } of files) {
    if (bytes.length === 0 || bytes.length % recordSize !== 0) {
      throw new Error(
        `${name}: ${bytes.length} bytes is not a whole number of ${recordSize}-byte records ` +
          `(${labelBytes} label byte${labelBytes > 1 ? "s" : ""} + ${PIXELS} pixels)`,
      );
    }
    total += bytes.length / recordSize;
  }
  const images = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let n = 0;
  for (const { name, bytes } of files) {
    for (let r = 0; r < bytes.length; r += recordSize, n++) {
      const label = bytes[r + labelOffset];
      if (label >= classes.length) {
        throw new Error(
          `${name}: record ${r / recordSize} has label ${label}, expected 0..${classes.length - 1}`,
        );
      }
      labels[n] = label;
      const out = n * PIXELS;
      for (let p = 0; p < PIXELS; p++) images[out + p] = bytes[r + labelBytes + p] / 255;
    }
  }
  return { images, labels, shape: [3, 32, 32], classes: [...classes] };
}
