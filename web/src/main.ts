// The playground page: controls, charts (uPlot), grids and the drawing pad. It owns no tensors; the worker
// (worker.ts) trains and explains, and answers with numbers and RGBA pictures.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { spec } from "striate";
import {
  LENET_SPEC,
  TINY_SPEC,
  defaultConfig,
  formatLayerDefs,
  formatSpec,
  fromHash,
  toHash,
  type AugmentName,
  type Hyper,
  type OptimizerName,
  type PlaygroundConfig,
  type DatasetName,
} from "./config.js";
import { DrawingPad } from "./pad.js";
import type {
  Answer,
  FromWorker,
  GalleryItem,
  LayerInfo,
  LayerView,
  Picture,
  ToWorker,
  ValidationReport,
  WatchView,
} from "./protocol.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`playground: #${id} is missing from index.html`);
  return el as T;
};
const input = (id: string) => $<HTMLInputElement>(id);

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

let config: PlaygroundConfig = defaultConfig();
let zooModels: { name: string; inputSize: number[] }[] = [];
let classes: string[] = [];
let inputShape: number[] = [1, 28, 28];
let running = false;
let trainingSeconds = 0;
let runStarted = 0;
let reached95: number | null = null;
let questionId = 0;
let configureId = 0;
let answered = 0;

// ---- configuration <-> controls ----------------------------------------------------------------------

const PRESETS: Record<string, { label: string; text: () => string }> = {
  "spec:lenet5": { label: "LeNet-5 (JSON spec)", text: () => formatSpec(LENET_SPEC) },
  "convnetjs:mnist": {
    label: "ConvNetJS MNIST demo (layer_defs)",
    text: () => formatLayerDefs(spec.CONVNETJS_MNIST_LAYER_DEFS),
  },
  "convnetjs:cifar10": {
    label: "ConvNetJS CIFAR-10 demo (layer_defs)",
    text: () => formatLayerDefs(spec.CONVNETJS_CIFAR10_LAYER_DEFS),
  },
  "spec:tiny": {
    label: "Tiny conv net (JSON spec)",
    text: () => formatSpec(TINY_SPEC),
  },
};

function fillPresets(): void {
  const select = $<HTMLSelectElement>("preset");
  select.replaceChildren(new Option("— the text box below —", ""));
  for (const [value, p] of Object.entries(PRESETS)) select.append(new Option(p.label, value));
  const group = document.createElement("optgroup");
  group.label = "Zoo models that fit the data";
  for (const m of zooModels.filter((m) => m.inputSize.join() === inputShape.join()))
    group.append(new Option(`zoo: ${m.name}`, `zoo:${m.name}`));
  if (group.children.length > 0) select.append(group);
  select.value = config.zoo ? `zoo:${config.zoo}` : "";
}

function hyperFromControls(): Hyper {
  const augment = [...document.querySelectorAll<HTMLInputElement>('input[name="augment"]')]
    .filter((c) => c.checked)
    .map((c) => c.value as AugmentName);
  return {
    optimizer: $<HTMLSelectElement>("optimizer").value as OptimizerName,
    lr: Number(input("lr").value),
    momentum: Number(input("momentum").value),
    batchSize: Math.max(1, Math.round(Number(input("batch").value))),
    weightDecay: Number(input("wd").value),
    augment,
  };
}

function configFromControls(): PlaygroundConfig {
  return {
    dataset: $<HTMLSelectElement>("dataset").value as DatasetName,
    zoo: config.zoo,
    spec: $<HTMLTextAreaElement>("spec").value,
    hyper: hyperFromControls(),
    watchEvery: Math.max(1, Math.round(Number(input("watch-every").value))),
  };
}

function showConfig(c: PlaygroundConfig): void {
  $<HTMLSelectElement>("dataset").value = c.dataset;
  $<HTMLTextAreaElement>("spec").value = c.spec;
  $<HTMLTextAreaElement>("spec").disabled = c.zoo !== "";
  $<HTMLSelectElement>("optimizer").value = c.hyper.optimizer;
  input("lr").value = String(c.hyper.lr);
  input("momentum").value = String(c.hyper.momentum);
  input("batch").value = String(c.hyper.batchSize);
  input("wd").value = String(c.hyper.weightDecay);
  input("watch-every").value = String(c.watchEvery);
  for (const box of document.querySelectorAll<HTMLInputElement>('input[name="augment"]'))
    box.checked = c.hyper.augment.includes(box.value as AugmentName);
  $<HTMLSelectElement>("preset").value = c.zoo ? `zoo:${c.zoo}` : "";
}

function writeHash(): void {
  history.replaceState(null, "", `#${toHash(config)}`);
}

// ---- building and training ---------------------------------------------------------------------------

function configure(next: PlaygroundConfig): void {
  config = next;
  writeHash();
  $("model-error").hidden = true;
  $("train-error").hidden = true;
  $("model-note").textContent = "";
  configureId++;
  send({ type: "configure", id: configureId, config, keepRunning: true });
}

function resetCurves(): void {
  curve = { step: [], trainLoss: [], valLoss: [], trainAcc: [], valAcc: [] };
  trainingSeconds = 0;
  runStarted = running ? performance.now() : 0;
  reached95 = null;
  $("milestone").textContent = "";
  $("milestone").removeAttribute("data-seconds");
  drawCharts();
}

function setRunning(next: boolean): void {
  if (next && !running) runStarted = performance.now();
  if (!next && running) trainingSeconds += (performance.now() - runStarted) / 1000;
  running = next;
  $<HTMLButtonElement>("start").disabled = next;
  $<HTMLButtonElement>("pause").disabled = !next;
  $<HTMLButtonElement>("step-once").disabled = next;
}

function elapsedTraining(): number {
  return trainingSeconds + (running ? (performance.now() - runStarted) / 1000 : 0);
}

// ---- charts ------------------------------------------------------------------------------------------

let curve = {
  step: [] as number[],
  trainLoss: [] as (number | null)[],
  valLoss: [] as (number | null)[],
  trainAcc: [] as (number | null)[],
  valAcc: [] as (number | null)[],
};
let lossChart: uPlot | null = null;
let accChart: uPlot | null = null;

function makeChart(el: HTMLElement, title: string, names: [string, string], range?: [number, number]): uPlot {
  return new uPlot(
    {
      title,
      width: Math.max(320, el.clientWidth || 480),
      height: 200,
      scales: { x: { time: false }, y: range ? { range } : {} },
      axes: [{ label: "step" }, {}],
      series: [
        { label: "step" },
        { label: names[0], stroke: "#1f77b4", spanGaps: true, points: { show: false } },
        { label: names[1], stroke: "#d62728", spanGaps: true, width: 2 },
      ],
    },
    [[], [], []],
    el,
  );
}

function drawCharts(): void {
  lossChart ??= makeChart($("loss-chart"), "Loss", ["train", "validation"]);
  accChart ??= makeChart($("acc-chart"), "Accuracy", ["train", "validation"], [0, 1]);
  lossChart.setData([curve.step, curve.trainLoss, curve.valLoss] as uPlot.AlignedData);
  accChart.setData([curve.step, curve.trainAcc, curve.valAcc] as uPlot.AlignedData);
}

function addPoint(
  step: number,
  values: { trainLoss?: number; valLoss?: number; trainAcc?: number; valAcc?: number },
): void {
  const fin = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
  curve.step.push(step);
  curve.trainLoss.push(fin(values.trainLoss));
  curve.valLoss.push(fin(values.valLoss));
  curve.trainAcc.push(fin(values.trainAcc));
  curve.valAcc.push(fin(values.valAcc));
  drawCharts();
}

// ---- pictures, grids, bars ---------------------------------------------------------------------------

function paint(canvas: HTMLCanvasElement, pic: Picture): void {
  canvas.width = pic.width;
  canvas.height = pic.height;
  canvas
    .getContext("2d")!
    .putImageData(new ImageData(new Uint8ClampedArray(pic.data), pic.width, pic.height), 0, 0);
}

function pictureOf(pixels: Float32Array, shape: readonly number[]): HTMLCanvasElement {
  const [c, h, w] = shape;
  const data = new Uint8ClampedArray(4 * h * w);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) data[4 * i + k] = Math.round(255 * pixels[(c === 3 ? k : 0) * h * w + i]);
    data[4 * i + 3] = 255;
  }
  const canvas = document.createElement("canvas");
  paint(canvas, { width: w, height: h, data });
  canvas.className = "thumb";
  return canvas;
}

const fmt = (v: number) =>
  Number.isFinite(v) ? (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : v.toPrecision(3)) : "–";

function layerBlock(view: LayerView, extra = ""): HTMLElement {
  const div = document.createElement("div");
  div.className = "layer";
  const title = document.createElement("div");
  title.className = "layer-title";
  title.textContent = `${view.name} ${view.kind}${extra} · min ${fmt(view.min)} max ${fmt(view.max)}`;
  div.append(title);
  if (view.picture) {
    const canvas = document.createElement("canvas");
    canvas.dataset.layer = view.name;
    paint(canvas, view.picture);
    div.append(canvas);
  }
  return div;
}

let layerInfo: LayerInfo[] = [];

function showWatch(view: WatchView): void {
  $("watch-step").textContent = `(step ${view.step}, first validation image)`;
  const params = new Map(layerInfo.map((l) => [l.name, l.params]));
  const section = (title: string, views: LayerView[], cls: string) => {
    const box = document.createElement("div");
    box.className = `watch-group ${cls}`;
    const h = document.createElement("h3");
    h.textContent = title;
    box.append(
      h,
      ...views.map((v) =>
        layerBlock(v, params.get(v.name) ? ` · ${params.get(v.name)!.toLocaleString("en-US")} params` : ""),
      ),
    );
    return box;
  };
  $("layers").replaceChildren(
    section("Activations", view.activations, "activations"),
    section("Filters", view.filters, "filters"),
    section("Weight gradients", view.gradients, "gradients"),
  );
}

function bars(el: HTMLElement, probs: readonly number[]): void {
  const best = probs.indexOf(Math.max(...probs));
  el.dataset.class = String(best);
  el.dataset.name = classes[best] ?? String(best);
  el.replaceChildren(
    ...probs.map((p, k) => {
      const row = document.createElement("div");
      row.className = k === best ? "bar best" : "bar";
      row.innerHTML = `<span class="name"></span><span class="fill" style="width:${(100 * p).toFixed(1)}%"></span><span class="p">${(100 * p).toFixed(1)}%</span>`;
      row.querySelector(".name")!.textContent = classes[k] ?? String(k);
      return row;
    }),
  );
}

function galleryItem(item: GalleryItem): HTMLElement {
  const div = document.createElement("div");
  div.className = item.top3[0].cls === item.label ? "item" : "item wrong";
  div.title = `validation image ${item.index}: ${classes[item.label]}; click to question it`;
  div.append(pictureOf(item.pixels, inputShape));
  const list = document.createElement("div");
  list.className = "top3";
  for (const t of item.top3) {
    const row = document.createElement("div");
    row.className = t.cls === item.label ? "bar best" : "bar";
    row.innerHTML = `<span class="name"></span><span class="fill" style="width:${(100 * t.p).toFixed(0)}%"></span>`;
    row.querySelector(".name")!.textContent = classes[t.cls] ?? String(t.cls);
    list.append(row);
  }
  div.append(list);
  div.addEventListener("click", () => {
    pad.show(item.pixels, inputShape);
    ask(item.pixels);
  });
  return div;
}

function showValidation(r: ValidationReport): void {
  const acc = $("val-acc");
  acc.textContent = `${(100 * r.accuracy).toFixed(2)}% (loss ${r.loss.toFixed(3)}, step ${r.step})`;
  acc.dataset.acc = String(r.accuracy);
  acc.dataset.step = String(r.step);
  if (r.step > 0) addPoint(r.step, { valLoss: r.loss, valAcc: r.accuracy });
  if (reached95 === null && r.accuracy >= 0.95 && r.step > 0) {
    reached95 = elapsedTraining();
    const m = $("milestone");
    m.textContent = `≥ 95% after ${reached95.toFixed(1)} s of training (step ${r.step})`;
    m.dataset.seconds = String(reached95);
    m.dataset.step = String(r.step);
  }
  $("gallery").replaceChildren(...r.gallery.map(galleryItem));
  $("misclassified").replaceChildren(...r.misclassified.map(galleryItem));
  const table = $<HTMLTableElement>("confusion");
  const max = Math.max(1, ...r.confusion.flat());
  const head = `<tr><th>true \\ predicted</th>${classes.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
  const rows = r.confusion
    .map(
      (row, i) =>
        `<tr><th>${escapeHtml(classes[i] ?? String(i))}</th>${row
          .map(
            (n, j) =>
              `<td style="background:rgba(${i === j ? "31,119,180" : "214,39,40"},${(n / max).toFixed(3)})">${n}</td>`,
          )
          .join("")}</tr>`,
    )
    .join("");
  table.innerHTML = head + rows;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function showSummary(m: Extract<FromWorker, { type: "model" }>): void {
  layerInfo = m.layers;
  classes = m.classes;
  const shapeChanged = m.input.join() !== inputShape.join();
  inputShape = m.input;
  if (shapeChanged) fillPresets();
  $("data-info").textContent =
    `${m.trainSize.toLocaleString("en-US")} training / ${m.valSize.toLocaleString("en-US")} validation images [${m.input.join(", ")}], classes: ${m.classes.join(", ")}`;
  const rows = m.layers
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.name)}</td><td>${escapeHtml(l.kind)}</td><td>[${l.shape.join(", ")}]</td><td>${l.params.toLocaleString("en-US")}</td></tr>`,
    )
    .join("");
  const table = $<HTMLTableElement>("summary");
  table.innerHTML = `<tr><th>layer</th><th>type</th><th>output</th><th>params</th></tr>${rows}<tr><th colspan="3">total (${escapeHtml(m.source)})</th><th id="total-params">${m.total.toLocaleString("en-US")}</th></tr>`;
  table.dataset.total = String(m.total);
  document.body.dataset.ready = "1";
  resetCurves();
  if (!pad.empty) ask(pad.sample(inputShape));
}

// ---- questions ---------------------------------------------------------------------------------------

const pad = new DrawingPad($<HTMLCanvasElement>("pad"), () => ask(pad.sample(inputShape)));

function ask(image: Float32Array): void {
  questionId++;
  send({ type: "question", id: questionId, image, eps: Number(input("eps").value) }, []);
}

function showAnswer(a: Answer): void {
  if (a.id < questionId) return; // a newer drawing is on its way
  answered = a.id;
  $("question-error").hidden = true;
  bars($("prediction"), a.probs);
  $("prediction").dataset.answer = String(answered);
  const cam = $<HTMLCanvasElement>("gradcam");
  if (a.gradCam) paint(cam, a.gradCam);
  else cam.getContext("2d")!.clearRect(0, 0, cam.width, cam.height);
  $("cam-layer").textContent = a.gradCamLayer ? `(layer ${a.gradCamLayer})` : "(no conv layer)";
  paint($<HTMLCanvasElement>("saliency"), a.saliency);
  paint($<HTMLCanvasElement>("adversarial"), a.adversarial.picture);
  paint($<HTMLCanvasElement>("perturbation"), a.adversarial.perturbation);
  bars($("adv-prediction"), a.adversarial.probs);
  const clean = a.probs.indexOf(Math.max(...a.probs));
  const adv = a.adversarial.probs.indexOf(Math.max(...a.adversarial.probs));
  const name = (k: number) => classes[k] ?? String(k);
  $("adv-note").textContent =
    adv === clean
      ? `ε = ${a.adversarial.eps.toFixed(2)}: still ${name(clean)} (${(100 * a.adversarial.probs[clean]).toFixed(1)}%)`
      : `ε = ${a.adversarial.eps.toFixed(2)}: flips ${name(clean)} → ${name(adv)}`;
  $("question-layers").replaceChildren(...a.activations.map((v) => layerBlock(v)));
}

// ---- files -------------------------------------------------------------------------------------------

async function readFiles(list: FileList | null): Promise<{ name: string; bytes: Uint8Array }[]> {
  return Promise.all(
    [...(list ?? [])].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
  );
}

async function dropData(list: FileList | null): Promise<void> {
  const files = await readFiles(list);
  if (files.length === 0) return;
  send(
    { type: "files", files },
    files.map((f) => f.bytes.buffer),
  );
  const cifar = files.some((f) => f.name.endsWith(".bin"));
  $<HTMLSelectElement>("dataset").value = cifar ? "cifar10" : "fashion";
  configure(configFromControls());
}

function download(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- worker messages ---------------------------------------------------------------------------------

function showError(where: string, message: string): void {
  const id =
    where === "model" || where === "data"
      ? "model-error"
      : where === "train"
        ? "train-error"
        : where === "question"
          ? "question-error"
          : "file-error";
  const el = $(id);
  el.textContent = message;
  el.hidden = false;
  if (where === "train") setRunning(false);
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case "ready": {
      zooModels = m.zoo;
      const badge = $("threads");
      badge.textContent = `wasm · ${m.threads} thread${m.threads === 1 ? "" : "s"}${m.relaxedSimd ? " · relaxed SIMD" : ""}`;
      badge.dataset.threads = String(m.threads);
      fillPresets();
      showConfig(config);
      configure(config);
      break;
    }
    case "model":
      showSummary(m);
      break;
    case "spec-fitted":
      if (m.id !== configureId) break; // the text box has been applied again since
      config = { ...config, spec: m.spec };
      $<HTMLTextAreaElement>("spec").value = m.spec;
      $("model-note").textContent = m.note;
      writeHash();
      break;
    case "error":
      showError(m.where, m.message);
      break;
    case "progress": {
      const step = $("step");
      step.textContent = String(m.step);
      step.dataset.step = String(m.step);
      $("epoch").textContent = String(m.epoch);
      if (m.running) {
        $("rate").textContent =
          `${m.stepsPerSecond.toFixed(1)} steps/s · ${Math.round(m.imagesPerSecond)} img/s`;
        $("rate").dataset.stepsPerSecond = String(m.stepsPerSecond);
        if (Number.isFinite(m.loss)) addPoint(m.step, { trainLoss: m.loss, trainAcc: m.accuracy });
      }
      if (!m.running && running) setRunning(false);
      break;
    }
    case "validation":
      showValidation(m.report);
      break;
    case "watch":
      showWatch(m.view);
      break;
    case "answer":
      showAnswer(m.answer);
      break;
    case "saved":
      download(m.bytes, m.name);
      $("file-info").textContent = `saved ${m.name} (${m.bytes.length.toLocaleString("en-US")} bytes)`;
      break;
    case "restored":
      if (m.config) {
        config = m.config;
        showConfig(config);
        writeHash();
      }
      $("file-info").textContent = m.kind === "onnx" ? `loaded ONNX ${m.name}` : `restored ${m.name}`;
      break;
  }
};
worker.onerror = (e) => showError("train", `the training worker failed: ${e.message}`);

// ---- controls ----------------------------------------------------------------------------------------

function wire(): void {
  $("start").addEventListener("click", () => {
    setRunning(true);
    send({ type: "run" });
  });
  $("pause").addEventListener("click", () => {
    setRunning(false);
    send({ type: "pause" });
  });
  $("step-once").addEventListener("click", () => send({ type: "step", steps: 1 }));
  $("apply").addEventListener("click", () => configure(configFromControls()));
  $("dataset").addEventListener("change", () => configure({ ...configFromControls(), zoo: "" }));
  $("preset").addEventListener("change", () => {
    const value = $<HTMLSelectElement>("preset").value;
    const next = configFromControls();
    if (value.startsWith("zoo:")) next.zoo = value.slice(4);
    else {
      next.zoo = "";
      if (PRESETS[value]) next.spec = PRESETS[value].text();
    }
    showConfig(next);
    configure(next);
  });
  const onHyper = () => {
    const next = configFromControls();
    config = { ...config, hyper: next.hyper, watchEvery: next.watchEvery };
    writeHash();
    send({ type: "hyper", hyper: config.hyper, watchEvery: config.watchEvery });
  };
  for (const id of ["optimizer", "lr", "momentum", "batch", "wd", "watch-every"])
    $(id).addEventListener("change", onHyper);
  for (const box of document.querySelectorAll('input[name="augment"]'))
    box.addEventListener("change", onHyper);
  $("share").addEventListener("click", () => {
    writeHash();
    navigator.clipboard?.writeText(location.href).catch(() => undefined);
    $("file-info").textContent = "the link in the address bar reproduces this setup";
  });
  $("save").addEventListener("click", () => send({ type: "save" }));
  $("save-onnx").addEventListener("click", () => send({ type: "save-onnx" }));
  input("restore").addEventListener("change", async () => {
    const [file] = await readFiles(input("restore").files);
    if (file) send({ type: "restore", bytes: file.bytes, name: file.name }, [file.bytes.buffer]);
    input("restore").value = "";
  });
  input("onnx").addEventListener("change", async () => {
    const [file] = await readFiles(input("onnx").files);
    if (file) send({ type: "onnx", bytes: file.bytes, name: file.name }, [file.bytes.buffer]);
    input("onnx").value = "";
  });
  input("data-files").addEventListener("change", () => dropData(input("data-files").files));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => e.preventDefault());
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    void dropData(e.dataTransfer?.files ?? null);
  });
  $("clear").addEventListener("click", () => pad.clear());
  input("eps").addEventListener("input", () => {
    $("eps-value").textContent = Number(input("eps").value).toFixed(2);
    if (!pad.empty) ask(pad.sample(inputShape));
  });
}

function start(): void {
  if (location.hash.length > 1) {
    try {
      config = fromHash(location.hash);
    } catch (e) {
      showError("model", (e as Error).message);
    }
  }
  showConfig(config);
  wire();
  drawCharts();
  if (!globalThis.crossOriginIsolated) {
    const notice = $("notice");
    notice.hidden = false;
    notice.textContent =
      "This page is not cross-origin isolated (no COOP/COEP headers and no service worker), so training runs on 1 thread. Serve it with the headers (npm run playground does) or over HTTPS/localhost for threads.";
  }
  // `?threads=N` overrides the default (2 to 4 when isolated, by the cores; 1 otherwise).
  const asked = Number(new URLSearchParams(location.search).get("threads"));
  const threads = !globalThis.crossOriginIsolated
    ? 1
    : Number.isInteger(asked) && asked >= 1 && asked <= 64
      ? asked
      : Math.max(2, Math.min(navigator.hardwareConcurrency || 2, 4));
  send({ type: "init", baseUrl: new URL("./", location.href).href, threads });
}

start();
