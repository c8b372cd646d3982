// The playground's whole configuration (dataset, model, hyperparameters) and its URL-hash form, so that a
// link reproduces a setup: `#ds=mnist&opt=adam&lr=0.002&…&model=<spec text>`.

export const DATASETS = ["mnist", "synthetic", "fashion", "cifar10"] as const;
export type DatasetName = (typeof DATASETS)[number];
export const OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const AUGMENTS = ["translate", "flip", "cutout"] as const;
export type AugmentName = (typeof AUGMENTS)[number];

/** What the training loop reads each step; editable while it runs. */
export interface Hyper {
  optimizer: OptimizerName;
  lr: number;
  /** SGD and RMSprop momentum (ignored by Adam/AdamW, whose betas stay at PyTorch's defaults). */
  momentum: number;
  batchSize: number;
  weightDecay: number;
  augment: AugmentName[];
}

export interface PlaygroundConfig {
  dataset: DatasetName;
  /** A zoo model name (models.listModels()), or "" for the text box. */
  zoo: string;
  /** The text box: a JSON model spec or ConvNetJS layer_defs. */
  spec: string;
  hyper: Hyper;
  /** Refresh the activation, filter and gradient grids every this many steps. */
  watchEvery: number;
}

/** LeNet-5 as every course teaches it (ReLU, max pooling, 28x28), the same layers as models.getModel("lenet5"). */
export const LENET_SPEC = {
  name: "lenet5",
  input: [1, 28, 28],
  layers: [
    { type: "conv2d", outChannels: 6, kernelSize: 5, padding: 2 },
    { type: "relu" },
    { type: "maxpool2d", kernelSize: 2 },
    { type: "conv2d", outChannels: 16, kernelSize: 5 },
    { type: "relu" },
    { type: "maxpool2d", kernelSize: 2 },
    { type: "flatten" },
    { type: "linear", outFeatures: 120 },
    { type: "relu" },
    { type: "linear", outFeatures: 84 },
    { type: "relu" },
    { type: "linear", outFeatures: 10 },
  ],
};

/** A one-conv net that trains in seconds (7,890 parameters on 28x28 digits). */
export const TINY_SPEC = {
  input: [1, 28, 28],
  layers: [
    { type: "conv2d", outChannels: 4, kernelSize: 3, padding: 1 },
    { type: "relu" },
    { type: "maxpool2d", kernelSize: 2 },
    { type: "flatten" },
    { type: "linear", outFeatures: 10 },
  ],
};

/** Pretty-prints a spec with one layer per line (readable in the text box, short in the URL). */
export function formatSpec(spec: { layers: unknown[] } & Record<string, unknown>): string {
  const head = Object.entries(spec)
    .filter(([k]) => k !== "layers")
    .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  const layers = spec.layers.map(
    (l, i) => `    ${JSON.stringify(l)}${i < spec.layers.length - 1 ? "," : ""}`,
  );
  return ["{", ...head, '  "layers": [', ...layers, "  ]", "}"].join("\n");
}

/** Formats a ConvNetJS layer_defs array one layer per line. */
export function formatLayerDefs(defs: readonly unknown[]): string {
  return ["[", defs.map((d) => `  ${JSON.stringify(d)}`).join(",\n"), "]"].join("\n");
}

export function defaultConfig(): PlaygroundConfig {
  return {
    dataset: "mnist",
    zoo: "",
    spec: formatSpec(LENET_SPEC),
    hyper: { optimizer: "adam", lr: 0.002, momentum: 0.9, batchSize: 64, weightDecay: 0, augment: [] },
    watchEvery: 50,
  };
}

/** The configuration as a URL hash (without '#'). */
export function toHash(config: PlaygroundConfig): string {
  const p = new URLSearchParams();
  p.set("ds", config.dataset);
  p.set("opt", config.hyper.optimizer);
  p.set("lr", String(config.hyper.lr));
  p.set("mom", String(config.hyper.momentum));
  p.set("bs", String(config.hyper.batchSize));
  p.set("wd", String(config.hyper.weightDecay));
  p.set("aug", config.hyper.augment.join(","));
  p.set("watch", String(config.watchEvery));
  if (config.zoo) p.set("zoo", config.zoo);
  else p.set("model", config.spec);
  return p.toString();
}

function oneOf<T extends string>(key: string, value: string | null, allowed: readonly T[], fallback: T): T {
  if (value === null) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`URL hash: ${key} must be one of ${allowed.join(", ")}, got '${value}'`);
}

function numberIn(key: string, value: string | null, fallback: number, min: number, max: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= min && n <= max))
    throw new Error(`URL hash: ${key} must be a number in [${min}, ${max}], got '${value}'`);
  return n;
}

/** Reads a URL hash written by toHash; keys it leaves out keep their defaults; a bad value is an error naming it. */
export function fromHash(hash: string): PlaygroundConfig {
  const d = defaultConfig();
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const aug = p.get("aug");
  const augment = aug === null ? d.hyper.augment : aug.split(",").filter((a) => a !== "");
  for (const a of augment) oneOf("aug", a, AUGMENTS, "translate");
  return {
    dataset: oneOf("ds", p.get("ds"), DATASETS, d.dataset),
    zoo: p.get("zoo") ?? "",
    spec: p.get("model") ?? d.spec,
    hyper: {
      optimizer: oneOf("opt", p.get("opt"), OPTIMIZERS, d.hyper.optimizer),
      lr: numberIn("lr", p.get("lr"), d.hyper.lr, 0, 10),
      momentum: numberIn("mom", p.get("mom"), d.hyper.momentum, 0, 1),
      batchSize: Math.round(numberIn("bs", p.get("bs"), d.hyper.batchSize, 1, 4096)),
      weightDecay: numberIn("wd", p.get("wd"), d.hyper.weightDecay, 0, 1),
      augment: augment as AugmentName[],
    },
    watchEvery: Math.round(numberIn("watch", p.get("watch"), d.watchEvery, 1, 100000)),
  };
}
