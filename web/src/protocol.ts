// Messages between the page (main.ts) and the training worker (worker.ts). Pictures travel as RGBA pixels
// (the explain module's Canvas via toImageData), so the worker never touches the DOM.
import type { Hyper, PlaygroundConfig } from "./config.js";

export interface Picture {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface FileBytes {
  name: string;
  bytes: Uint8Array;
}

export type ToWorker =
  | { type: "init"; baseUrl: string; threads: number }
  /** `id` counts the page's configure requests, so that a late answer to an older one is ignored. */
  | { type: "configure"; id: number; config: PlaygroundConfig; keepRunning: boolean }
  | { type: "hyper"; hyper: Hyper; watchEvery: number }
  | { type: "run" }
  | { type: "pause" }
  | { type: "step"; steps: number }
  | { type: "files"; files: FileBytes[] }
  | { type: "question"; id: number; image: Float32Array; eps: number }
  | { type: "save" }
  | { type: "save-onnx" }
  | { type: "restore"; bytes: Uint8Array; name: string }
  | { type: "onnx"; bytes: Uint8Array; name: string };

/** One layer of the model for the summary table and the watch grids. */
export interface LayerInfo {
  name: string;
  kind: string;
  shape: number[];
  params: number;
}

export interface LayerView {
  name: string;
  kind: string;
  min: number;
  max: number;
  picture: Picture | null;
}

export interface WatchView {
  step: number;
  activations: LayerView[];
  filters: LayerView[];
  gradients: LayerView[];
}

export interface GalleryItem {
  index: number;
  label: number;
  pixels: Float32Array;
  top3: { cls: number; p: number }[];
}

export interface ValidationReport {
  step: number;
  accuracy: number;
  loss: number;
  confusion: number[][];
  gallery: GalleryItem[];
  misclassified: GalleryItem[];
}

export interface Answer {
  id: number;
  probs: number[];
  activations: LayerView[];
  gradCam: Picture | null;
  gradCamLayer: string | null;
  saliency: Picture;
  adversarial: { eps: number; probs: number[]; picture: Picture; perturbation: Picture };
}

export type FromWorker =
  | {
      type: "ready";
      threads: number;
      isolated: boolean;
      relaxedSimd: boolean;
      zoo: { name: string; inputSize: number[] }[];
    }
  | {
      type: "model";
      layers: LayerInfo[];
      total: number;
      classes: string[];
      input: number[];
      trainSize: number;
      valSize: number;
      source: string;
    }
  /** The text-box model was changed to fit the data (input shape, number of classes). */
  | { type: "spec-fitted"; id: number; spec: string; note: string }
  | { type: "error"; where: "model" | "data" | "question" | "file" | "train"; message: string }
  | {
      type: "progress";
      step: number;
      epoch: number;
      loss: number;
      accuracy: number;
      running: boolean;
      stepsPerSecond: number;
      imagesPerSecond: number;
    }
  | { type: "validation"; report: ValidationReport }
  | { type: "watch"; view: WatchView }
  | { type: "answer"; answer: Answer }
  | { type: "saved"; bytes: Uint8Array; name: string }
  /** Weights or an ONNX file were loaded; `config` when the file carried the playground's configuration. */
  | { type: "restored"; config: PlaygroundConfig | null; name: string; kind: "weights" | "onnx" };
