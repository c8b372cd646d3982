// Fits a text-box model to the data: a JSON spec's `input` and its last linear layer's `outFeatures`, or
// ConvNetJS layer_defs' input size and `num_classes`, are set to the dataset's image shape and class count,
// so switching MNIST -> CIFAR-10 -> the 4-class synthetic set keeps the network and says what changed.
import { formatLayerDefs, formatSpec } from "./config.js";

export interface FittedSpec {
  text: string;
  /** What was changed, for the page; null when the text already fits. */
  note: string | null;
}

type Json = Record<string, unknown>;

function fitModelSpec(spec: Json & { layers: Json[] }, shape: readonly number[], k: number): string[] {
  const changes: string[] = [];
  if (JSON.stringify(spec.input) !== JSON.stringify(shape)) {
    changes.push(`input ${JSON.stringify(spec.input)} → [${shape.join(",")}]`);
    spec.input = [...shape];
  }
  const last = spec.layers.at(-1);
  if (last?.type === "linear" && last.outFeatures !== k) {
    changes.push(`last layer's outFeatures ${String(last.outFeatures)} → ${k}`);
    last.outFeatures = k;
  }
  return changes;
}

function fitLayerDefs(defs: Json[], shape: readonly number[], k: number): string[] {
  const changes: string[] = [];
  const [c, h, w] = shape;
  const input = defs[0];
  if (input?.type === "input" && (input.out_depth !== c || input.out_sy !== h || input.out_sx !== w)) {
    changes.push(
      `input ${String(input.out_sx)}x${String(input.out_sy)}x${String(input.out_depth)} → ${w}x${h}x${c}`,
    );
    Object.assign(input, { out_sx: w, out_sy: h, out_depth: c });
  }
  const last = defs.at(-1);
  if ((last?.type === "softmax" || last?.type === "svm") && last.num_classes !== k) {
    changes.push(`num_classes ${String(last.num_classes)} → ${k}`);
    last.num_classes = k;
  }
  return changes;
}

/** Returns the text fitted to images of `shape` [C, H, W] and `k` classes (unparseable text is returned as is). */
export function fitSpecToData(text: string, shape: readonly number[], k: number): FittedSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { text, note: null };
  }
  const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
  let changes: string[] = [];
  let out = text;
  if (isObject(value) && Array.isArray(value.layers) && value.layers.every(isObject)) {
    changes = fitModelSpec(value as Json & { layers: Json[] }, shape, k);
    if (changes.length > 0) out = formatSpec(value as Json & { layers: Json[] });
  } else if (Array.isArray(value) && value.every(isObject)) {
    changes = fitLayerDefs(value, shape, k);
    if (changes.length > 0) out = formatLayerDefs(value);
  }
  return { text: out, note: changes.length > 0 ? `fitted to the data: ${changes.join(", ")}` : null };
}
