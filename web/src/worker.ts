// The playground's engine, in a Web Worker so the page never freezes: it starts the wasm backend (2+
// threads when the page is cross-origin isolated), loads the dataset, builds the model from the text box
// (JSON spec or ConvNetJS layer_defs) or the zoo, trains it in slices of ~150 ms between which it answers
// the page (pause, hyperparameters, questions), and draws activations, filters, gradients and explanations
// with striate/explain. Everything goes through the package's public API.
import {
  F,
  Rng,
  Tensor,
  data,
  getNumThreads,
  exportOnnx,
  importOnnx,
  initWasm,
  io,
  models,
  nn,
  noGrad,
  optim,
  scope,
  spec,
  tensor,
} from "striate";
import {
  GradCam,
  Saliency,
  captureActivations,
  featureMapGrid,
  fgsm,
  filterGrid,
  heatmapToCanvas,
  imageToCanvas,
  overlayHeatmap,
  toImageData,
  type Canvas,
} from "striate/explain";
import type { Hyper, PlaygroundConfig } from "./config.js";
import { loadDataset, type Split } from "./datasets.js";
import { fitSpecToData } from "./fit-spec.js";
import type {
  FileBytes,
  FromWorker,
  GalleryItem,
  LayerInfo,
  LayerView,
  Picture,
  ToWorker,
  ValidationReport,
} from "./protocol.js";

type Module = nn.Module;

const SLICE_MS = 150;
const VALIDATE_EVERY_MS = 2000;
const GALLERY_SIZE = 24;
const MISCLASSIFIED_SIZE = 16;
const MAX_WATCHED_LAYERS = 24;
/** Metadata key of the playground's configuration in a saved safetensors file. */
const CONFIG_KEY = "striate.playground.config";

interface Session {
  config: PlaygroundConfig;
  model: Module;
  source: string;
  optimizer: optim.Optimizer | null;
  split: Split;
  shape: [number, number, number];
  classes: string[];
  step: number;
  epoch: number;
  order: Int32Array;
  cursor: number;
  rng: Rng;
  transform: data.Transform | null;
  hyper: Hyper;
  watchEvery: number;
  probe: Tensor;
}

let baseUrl = "";
let session: Session | null = null;
let running = false;
let dropped: FileBytes[] = [];
let datasetCache: { name: string; split: Split } | null = null;
let lastValidation = 0;
let rate = { since: 0, steps: 0, images: 0 };
let recent = { loss: 0, correct: 0, seen: 0 };

function post(message: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(message, transfer);
}

function forward(model: Module, x: Tensor): Tensor {
  const out = (model as unknown as { forward(x: Tensor): unknown }).forward(x);
  if (!(out instanceof Tensor)) throw new Error("the model must return a tensor of logits [N, classes]");
  return out;
}

function picture(canvas: Canvas): Picture {
  const image = toImageData(canvas);
  return { width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) };
}

function range(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return { min, max };
}

// ---- model -------------------------------------------------------------------------------------------

/** Builds the model the configuration names; errors are the library's own (spec, layer_defs, zoo). */
function buildModel(config: PlaygroundConfig, shape: readonly number[], numClasses: number): Module {
  if (config.zoo) return models.getModel(config.zoo, { numClasses, inChannels: shape[0] });
  let value: unknown;
  try {
    value = JSON.parse(config.spec);
  } catch (e) {
    throw new Error(`model text: not valid JSON (${(e as Error).message})`);
  }
  if (spec.isConvNetJsLayerDefs(value)) return spec.fromConvNetJs(value).model;
  if (spec.isModelSpec(value)) return spec.buildFromSpec(value).model;
  if (Array.isArray(value)) return spec.fromConvNetJs(value as spec.ConvNetJsLayerDef[]).model;
  return spec.buildFromSpec(value as spec.ModelSpec).model;
}

/** The leaf layers (no children) a summary and the watch grids show. */
function leaves(model: Module): [string, Module][] {
  return model.namedModules().filter(([name, m]) => name !== "" && m.namedChildren().length === 0);
}

function convLayers(model: Module): [string, nn.Conv2d][] {
  return model.namedModules().filter((e): e is [string, nn.Conv2d] => e[1] instanceof nn.Conv2d);
}

/**
 * The layers' outputs for x; empty when the model does not run its layers as modules (an imported ONNX
 * graph holds its weights in modules but calls the ops itself), so there is nothing to look into.
 */
function capture(model: Module, x: Tensor, layers: [string, Module][]): Map<string, Tensor> {
  if (layers.length === 0) return new Map();
  try {
    return captureActivations(
      model,
      x,
      layers.map(([n]) => n),
    );
  } catch (e) {
    if (/did not run/.test((e as Error).message)) return new Map();
    throw e;
  }
}

/** Each leaf layer's output shape on one sample, and its parameter count. */
function describeLayers(model: Module, probe: Tensor): LayerInfo[] {
  const layers = leaves(model);
  const acts = scope(() => capture(model, probe, layers));
  return layers.map(([name, m]) => ({
    name,
    kind: m.constructor.name,
    shape: acts.get(name)?.shape.slice(1) ?? [],
    params: m.numParameters(),
  }));
}

/** Checks the model turns a batch of the data's images into one logit per class. */
function checkOutput(model: Module, shape: readonly number[], numClasses: number): void {
  noGrad(() =>
    scope(() => {
      model.eval();
      const out = forward(model, tensor(new Float32Array(2 * shape[0] * shape[1] * shape[2]), [2, ...shape]));
      model.train();
      if (out.ndim !== 2 || out.shape[1] !== numClasses)
        throw new Error(
          `the model gives [${out.shape.join(", ")}] for a batch [2, ${shape.join(", ")}] of the data; it needs [2, ${numClasses}] (one logit per class)`,
        );
    }),
  );
}

function makeOptimizer(model: Module, h: Hyper): optim.Optimizer | null {
  const params = model.parameters();
  if (params.length === 0) return null;
  switch (h.optimizer) {
    case "sgd":
      return new optim.SGD(params, { lr: h.lr, momentum: h.momentum, weightDecay: h.weightDecay });
    case "adam":
      return new optim.Adam(params, { lr: h.lr, weightDecay: h.weightDecay });
    case "adamw":
      return new optim.AdamW(params, { lr: h.lr, weightDecay: h.weightDecay });
    case "rmsprop":
      return new optim.RMSprop(params, { lr: h.lr, momentum: h.momentum, weightDecay: h.weightDecay });
  }
}

function makeTransform(h: Hyper, shape: readonly number[]): data.Transform | null {
  const list: data.Transform[] = [];
  if (h.augment.includes("translate"))
    list.push(data.randomTranslate(Math.max(1, Math.round(shape[2] / 14))));
  if (h.augment.includes("flip")) list.push(data.randomHorizontalFlip());
  if (h.augment.includes("cutout")) list.push(data.cutout(Math.round(shape[2] / 4)));
  return list.length === 0 ? null : data.compose(list);
}

/** Applies hyperparameters while training runs: the optimizer keeps its state unless its kind changes. */
function applyHyper(s: Session, h: Hyper, watchEvery: number): void {
  if (s.optimizer && h.optimizer !== s.hyper.optimizer) s.optimizer = makeOptimizer(s.model, h);
  else if (s.optimizer)
    for (const group of s.optimizer.paramGroups as unknown as Record<string, unknown>[]) {
      group.lr = h.lr;
      if ("momentum" in group) group.momentum = h.momentum;
      if ("weightDecay" in group) group.weightDecay = h.weightDecay;
    }
  s.hyper = { ...h, augment: [...h.augment] };
  s.transform = makeTransform(h, s.shape);
  s.watchEvery = watchEvery;
}

async function datasetFor(config: PlaygroundConfig): Promise<Split> {
  if (datasetCache?.name === config.dataset) return datasetCache.split;
  const split = await loadDataset(config.dataset, baseUrl, dropped);
  datasetCache = { name: config.dataset, split };
  return split;
}

function newSession(config: PlaygroundConfig, split: Split, model: Module, source: string): Session {
  const shape = [...split.train.shape] as [number, number, number];
  const size = shape[0] * shape[1] * shape[2];
  const probe = tensor(split.val.images.slice(0, size), [1, ...shape]).keep();
  const s: Session = {
    config,
    model,
    source,
    optimizer: makeOptimizer(model, config.hyper),
    split,
    shape,
    classes: split.train.classes,
    step: 0,
    epoch: 0,
    order: new Int32Array(0),
    cursor: 0,
    rng: new Rng(1),
    transform: null,
    hyper: config.hyper,
    watchEvery: config.watchEvery,
    probe,
  };
  applyHyper(s, config.hyper, config.watchEvery);
  newEpoch(s);
  return s;
}

function announce(s: Session): void {
  const layers = describeLayers(s.model, s.probe);
  post({
    type: "model",
    layers,
    total: s.model.numParameters(),
    classes: s.classes,
    input: s.shape,
    trainSize: s.split.train.labels.length,
    valSize: s.split.val.labels.length,
    source: s.source,
  });
}

async function configure(id: number, config: PlaygroundConfig, keepRunning: boolean): Promise<void> {
  const wasRunning = running;
  running = false;
  let split: Split;
  try {
    split = await datasetFor(config);
  } catch (e) {
    post({ type: "error", where: "data", message: (e as Error).message });
    return;
  }
  if (!config.zoo) {
    const fitted = fitSpecToData(config.spec, split.train.shape, split.train.classes.length);
    if (fitted.note !== null) {
      config = { ...config, spec: fitted.text };
      post({ type: "spec-fitted", id, spec: fitted.text, note: fitted.note });
    }
  }
  let model: Module;
  try {
    model = buildModel(config, split.train.shape, split.train.classes.length);
    checkOutput(model, split.train.shape, split.train.classes.length);
  } catch (e) {
    post({ type: "error", where: "model", message: (e as Error).message });
    running = wasRunning;
    if (running) schedule();
    return;
  }
  session = newSession(config, split, model, config.zoo ? `zoo: ${config.zoo}` : "text box");
  resetRate();
  announce(session);
  report();
  validate(session);
  watch(session);
  if (keepRunning && wasRunning) start();
}

// ---- training ----------------------------------------------------------------------------------------

function newEpoch(s: Session): void {
  const n = s.split.train.labels.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(s.rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  s.order = order;
  s.cursor = 0;
}

function nextBatch(s: Session): data.RawBatch {
  const n = Math.min(s.hyper.batchSize, s.order.length);
  if (s.cursor + n > s.order.length) {
    s.epoch++;
    newEpoch(s);
  }
  const size = s.shape[0] * s.shape[1] * s.shape[2];
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  const indices = s.order.slice(s.cursor, s.cursor + n);
  s.cursor += n;
  indices.forEach((idx, i) => {
    x.set(s.split.train.images.subarray(idx * size, (idx + 1) * size), i * size);
    y[i] = s.split.train.labels[idx];
  });
  const batch: data.RawBatch = { x, shape: [n, ...s.shape], y, numClasses: s.classes.length, indices };
  return s.transform ? s.transform(batch, s.rng) : batch;
}

function trainStep(s: Session): void {
  if (!s.optimizer) throw new Error("this model has no trainable parameters here; it can only be questioned");
  const optimizer = s.optimizer;
  const batch = nextBatch(s);
  const [loss, correct] = scope(() => {
    const x = tensor(batch.x, batch.shape);
    const y = tensor(batch.y, [batch.y.length]);
    optimizer.zeroGrad();
    const logits = forward(s.model, x);
    const l = F.crossEntropy(logits, y);
    l.backward();
    optimizer.step();
    const pred = logits.argmax(1).toArray();
    let right = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === batch.y[i]) right++;
    return [l.item(), right];
  });
  if (!Number.isFinite(loss))
    throw new Error(
      `the loss became ${loss} at step ${s.step + 1}: lower the learning rate and rebuild the model`,
    );
  s.step++;
  rate.steps++;
  rate.images += batch.y.length;
  recent.loss += loss * batch.y.length;
  recent.correct += correct;
  recent.seen += batch.y.length;
  if (s.step % s.watchEvery === 0) watch(s);
}

function resetRate(): void {
  rate = { since: performance.now(), steps: 0, images: 0 };
  recent = { loss: 0, correct: 0, seen: 0 };
}

function report(): void {
  if (!session) return;
  const seconds = (performance.now() - rate.since) / 1000;
  post({
    type: "progress",
    step: session.step,
    epoch: session.epoch,
    loss: recent.seen > 0 ? recent.loss / recent.seen : NaN,
    accuracy: recent.seen > 0 ? recent.correct / recent.seen : NaN,
    running,
    stepsPerSecond: seconds > 0 ? rate.steps / seconds : 0,
    imagesPerSecond: seconds > 0 ? rate.images / seconds : 0,
  });
  recent = { loss: 0, correct: 0, seen: 0 };
}

function tick(): void {
  if (!running || !session) return;
  const t0 = performance.now();
  try {
    while (running && performance.now() - t0 < SLICE_MS) trainStep(session);
  } catch (e) {
    running = false;
    post({ type: "error", where: "train", message: (e as Error).message });
  }
  report();
  if (performance.now() - lastValidation > VALIDATE_EVERY_MS) validate(session);
  schedule();
}

function schedule(): void {
  setTimeout(tick, 0);
}

function start(): void {
  if (running || !session) return;
  running = true;
  resetRate();
  schedule();
}

// ---- watching ----------------------------------------------------------------------------------------

function top3(probs: ArrayLike<number>): { cls: number; p: number }[] {
  return Array.from(probs, (p, cls) => ({ cls, p }))
    .sort((a, b) => b.p - a.p)
    .slice(0, 3);
}

/** Accuracy, loss, confusion matrix, a gallery with top-3 and the misclassified images on the validation set. */
function validate(s: Session): void {
  lastValidation = performance.now();
  const { images, labels } = s.split.val;
  const k = s.classes.length;
  const size = s.shape[0] * s.shape[1] * s.shape[2];
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const gallery: GalleryItem[] = [];
  const misclassified: GalleryItem[] = [];
  let lossSum = 0;
  let right = 0;
  s.model.eval();
  try {
    for (let start = 0; start < labels.length; start += 500) {
      const end = Math.min(labels.length, start + 500);
      const [probs, loss] = noGrad(() =>
        scope(() => {
          const x = tensor(images.slice(start * size, end * size), [end - start, ...s.shape]);
          const y = tensor(labels.slice(start, end), [end - start]);
          const logits = forward(s.model, x);
          return [logits.softmax(1).toArray(), F.crossEntropy(logits, y).item()] as const;
        }),
      );
      lossSum += loss * (end - start);
      for (let i = start; i < end; i++) {
        const p = probs.subarray((i - start) * k, (i - start + 1) * k);
        const best = top3(p);
        confusion[labels[i]][best[0].cls]++;
        if (best[0].cls === labels[i]) right++;
        const item = () => ({
          index: i,
          label: labels[i],
          pixels: images.slice(i * size, (i + 1) * size),
          top3: best,
        });
        if (gallery.length < GALLERY_SIZE) gallery.push(item());
        if (best[0].cls !== labels[i] && misclassified.length < MISCLASSIFIED_SIZE)
          misclassified.push(item());
      }
    }
  } finally {
    s.model.train();
  }
  const report: ValidationReport = {
    step: s.step,
    accuracy: right / labels.length,
    loss: lossSum / labels.length,
    confusion,
    gallery,
    misclassified,
  };
  post({ type: "validation", report });
}

/** Every leaf layer's output for one input, as feature-map grids (images) or a strip (vectors). */
function activationViews(model: Module, x: Tensor): LayerView[] {
  const layers = leaves(model).slice(0, MAX_WATCHED_LAYERS);
  const acts = capture(model, x, layers);
  return layers.flatMap(([name, m]): LayerView[] => {
    const act = acts.get(name);
    if (!act) return [];
    const values = act.toArray();
    const { min, max } = range(values);
    let pic: Picture | null = null;
    if (act.ndim === 4 && act.shape[1] <= 256) {
      pic = picture(featureMapGrid(act, { scale: act.shape[2] <= 8 ? 4 : 2 }));
    } else if (act.ndim === 2 && act.shape[1] <= 512) {
      const columns = Math.min(act.shape[1], 64);
      const rows = Math.ceil(act.shape[1] / columns);
      const padded = new Float32Array(rows * columns);
      padded.set(values.subarray(0, act.shape[1]));
      pic = picture(
        heatmapToCanvas({ data: padded, shape: [rows, columns] }, { scale: 5, colormap: "viridis" }),
      );
    }
    return [{ name, kind: m.constructor.name, min, max, picture: pic }];
  });
}

function filterViews(model: Module, gradients: boolean): LayerView[] {
  return convLayers(model)
    .slice(0, 4)
    .map(([name, conv]) => {
      const w = gradients ? conv.weight.grad : conv.weight;
      if (!w) return { name, kind: "Conv2d", min: NaN, max: NaN, picture: null };
      const { min, max } = range(w.toArray());
      const cells = w.shape[0] * (w.shape[1] === 3 ? 1 : w.shape[1]);
      return {
        name,
        kind: "Conv2d",
        min,
        max,
        picture: cells <= 1024 ? picture(filterGrid(w, { scale: w.shape[2] <= 3 ? 6 : 4 })) : null,
      };
    });
}

function watch(s: Session): void {
  const view = scope(() => {
    s.model.eval();
    try {
      return {
        step: s.step,
        activations: activationViews(s.model, s.probe),
        filters: filterViews(s.model, false),
        gradients: filterViews(s.model, true),
      };
    } finally {
      s.model.train();
    }
  });
  post({ type: "watch", view });
}

// ---- questions: prediction, Grad-CAM, saliency, FGSM ----------------------------------------------------

function question(id: number, image: Float32Array, eps: number): void {
  const s = session;
  if (!s) throw new Error("no model yet");
  const answer = scope(() => {
    s.model.eval();
    try {
      const x = tensor(image, [1, ...s.shape]);
      const probs = Array.from(noGrad(() => forward(s.model, x).softmax(1).toArray()));
      const pred = probs.indexOf(Math.max(...probs));
      // The last conv layer that runs as a module (an imported ONNX graph has none).
      const camLayer = [...capture(s.model, x, convLayers(s.model)).keys()].at(-1) ?? null;
      const gradCam =
        camLayer === null
          ? null
          : picture(
              overlayHeatmap(
                x,
                new GradCam(s.model, { layer: camLayer }).attribute(x, { target: pred, upsample: true }),
                {
                  alpha: 0.55,
                  scale: 6,
                  colormap: "turbo",
                },
              ),
            );
      const sal = new Saliency(s.model).attribute(x, { target: pred, reduce: "max" });
      const saliency = picture(overlayHeatmap(x, sal, { alpha: 0.7, scale: 6, colormap: "turbo" }));
      const adv = fgsm(s.model, x, tensor(Int32Array.of(pred), [1]), { eps });
      const advProbs = Array.from(noGrad(() => forward(s.model, adv).softmax(1).toArray()));
      const delta = adv.sub(x).slice(1, 0, 1);
      return {
        id,
        probs,
        activations: activationViews(s.model, x),
        gradCam,
        gradCamLayer: camLayer,
        saliency,
        adversarial: {
          eps,
          probs: advProbs,
          picture: picture(imageToCanvas(adv, { scale: 6 })),
          perturbation: picture(
            heatmapToCanvas(delta, {
              scale: 6,
              colormap: "diverging",
              range: [-Math.max(eps, 1e-6), Math.max(eps, 1e-6)],
            }),
          ),
        },
      };
    } finally {
      s.model.train();
    }
  });
  post({ type: "answer", answer });
}

// ---- save, restore, ONNX -----------------------------------------------------------------------------

function save(): void {
  const s = session;
  if (!s) throw new Error("no model to save yet");
  const bytes = io.serializeWeights(s.model, {
    format: "pt",
    [CONFIG_KEY]: JSON.stringify(s.config),
    "striate.playground.step": String(s.step),
  });
  post({ type: "saved", bytes, name: `striate-playground-step${s.step}.safetensors` }, [bytes.buffer]);
}

/** The model as an ONNX file (traced on the probe image, batch dimension left symbolic). */
function saveOnnx(): void {
  const s = session;
  if (!s) throw new Error("no model to export yet");
  s.model.eval();
  let bytes: Uint8Array;
  try {
    bytes = exportOnnx(s.model, s.probe);
  } finally {
    s.model.train();
  }
  post({ type: "saved", bytes, name: `striate-playground-step${s.step}.onnx` }, [bytes.buffer]);
}

/**
 * Restores a model saved by the playground (its configuration is in the file's metadata), or loads the
 * weights of any safetensors file (a checkpoint's model.safetensors, a PyTorch state_dict) into a fresh
 * copy of the current model, whose state-dict names and shapes it must match (loadWeights says which not).
 */
async function restore(bytes: Uint8Array, name: string): Promise<void> {
  const meta = io.readSafetensorsMetadata(bytes, { source: name });
  const text = meta[CONFIG_KEY];
  if (text === undefined && !session)
    throw new Error(`${name}: build a model first; the weights are loaded into it`);
  const config = text === undefined ? session!.config : (JSON.parse(text) as PlaygroundConfig);
  const split = await datasetFor(config);
  const model = buildModel(config, split.train.shape, split.train.classes.length);
  io.loadWeights(model, bytes, { source: name });
  running = false;
  session = newSession(config, split, model, `restored from ${name}`);
  session.step = Number(meta["striate.playground.step"] ?? 0);
  post({ type: "restored", config: text === undefined ? null : config, name, kind: "weights" });
  announce(session);
  report();
  validate(session);
  watch(session);
}

function loadOnnx(bytes: Uint8Array, name: string): void {
  const s = session;
  if (!s) throw new Error("load a dataset first: the ONNX model is questioned and validated on it");
  const model = importOnnx(bytes);
  checkOutput(model, s.shape, s.classes.length);
  running = false;
  session = newSession(s.config, s.split, model, `ONNX ${name}`);
  post({ type: "restored", config: null, name, kind: "onnx" });
  announce(session);
  report();
  validate(session);
  watch(session);
}

// ---- messages ----------------------------------------------------------------------------------------

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case "init": {
      baseUrl = m.baseUrl;
      const backend = await initWasm({
        kernelBaseUrl: new URL("kernels/", m.baseUrl).href,
        threads: m.threads,
      });
      post({
        type: "ready",
        threads: getNumThreads(),
        isolated: globalThis.crossOriginIsolated === true,
        relaxedSimd: backend.runtime.relaxed,
        zoo: models
          .listModels()
          .filter((i) => i.task === "classification")
          .map((i) => ({ name: i.name, inputSize: [...i.inputSize] })),
      });
      return;
    }
    case "configure":
      return configure(m.id, m.config, m.keepRunning);
    case "hyper":
      if (session) applyHyper(session, m.hyper, m.watchEvery);
      return;
    case "run":
      return start();
    case "pause":
      running = false;
      report();
      if (session) validate(session);
      return;
    case "step":
      if (!session || running) return;
      for (let i = 0; i < m.steps; i++) trainStep(session);
      report();
      validate(session);
      watch(session);
      return;
    case "files":
      dropped = [...dropped.filter((d) => !m.files.some((f) => f.name === d.name)), ...m.files];
      datasetCache = null;
      return;
    case "question":
      return question(m.id, m.image, m.eps);
    case "save":
      return save();
    case "save-onnx":
      return saveOnnx();
    case "restore":
      return restore(m.bytes, m.name);
    case "onnx":
      return loadOnnx(m.bytes, m.name);
  }
}

const WHERE: Partial<Record<ToWorker["type"], "model" | "data" | "question" | "file" | "train">> = {
  question: "question",
  restore: "file",
  onnx: "file",
  save: "file",
  "save-onnx": "file",
  step: "train",
  init: "data",
};

let queue = Promise.resolve();
self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  // Handled one at a time in order (a restore finishes before the question that follows it).
  queue = queue.then(() =>
    handle(m).catch((error: unknown) =>
      post({
        type: "error",
        where: WHERE[m.type] ?? "model",
        message: (error as Error).message ?? String(error),
      }),
    ),
  );
};
