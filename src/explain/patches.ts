// The dataset patches that most activate a unit (Zeiler & Fergus 2014, "Visualizing and understanding
// convolutional networks", figure 2): the dataset is run through the model, and for each channel of a layer
// the k images whose strongest activation of that channel is largest are kept, each with the crop of the
// input that the strongest unit can see — its receptive field.
//
// The receptive field is computed from the layers' geometry, traced during a forward pass: every leaf
// module with a kernel (convolutions, pooling) maps a unit's box in its output to a box in its input
// (start - padding, stride × jump, size + (kernel - 1) × dilation × jump); shape-preserving modules (ReLU,
// batch norm, dropout) leave it unchanged; anything that changes the spatial size in another way (adaptive
// and global pooling) sees the whole image. Tensors produced by functional ops between modules (a residual
// addition) get the union of the fields of the module outputs at the same resolution seen so far: in a
// ResNet block that is the main path's field (it contains the shortcut's). This can only over-estimate.

import { Module } from "../nn/module.js";
import { registerGlobalForwardHook } from "../nn/module.js";
import { Tensor, tensor } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { noGrad } from "../autograd/engine.js";
import type { BatchSource } from "../train/fit.js";
import { resolveLayer, type LayerRef } from "./layers.js";
import { checkImageBatch, forwardOf } from "./model-calls.js";
import { canvasGrid, imageToCanvas, type Canvas } from "./pictures.js";

/**
 * Where a unit of a layer looks in the input, per axis [y, x]: unit u covers input positions
 * [u · jump + start, u · jump + start + size - 1] (possibly reaching into the padding).
 */
export interface ReceptiveField {
  size: [number, number];
  jump: [number, number];
  start: [number, number];
}

interface Geometry {
  kernelSize: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation?: [number, number];
}

function geometryOf(module: Module): Geometry | undefined {
  const m = module as unknown as Partial<Geometry>;
  if (Array.isArray(m.kernelSize) && Array.isArray(m.stride) && Array.isArray(m.padding))
    return m as Geometry;
  return undefined;
}

function spatial(t: Tensor): [number, number] | undefined {
  return t.ndim === 4 ? [t.shape[2], t.shape[3]] : undefined;
}

/** The field of a module's output from the field of its input. */
function through(
  module: Module,
  field: ReceptiveField,
  input: Tensor,
  output: Tensor,
  image: [number, number],
): ReceptiveField {
  const g = geometryOf(module);
  const [inSize, outSize] = [spatial(input), spatial(output)];
  if (g && inSize && outSize) {
    const axis = (a: 0 | 1) => ({
      size: field.size[a] + (g.kernelSize[a] - 1) * (g.dilation?.[a] ?? 1) * field.jump[a],
      jump: field.jump[a] * g.stride[a],
      start: field.start[a] - g.padding[a] * field.jump[a],
    });
    const [y, x] = [axis(0), axis(1)];
    return { size: [y.size, x.size], jump: [y.jump, x.jump], start: [y.start, x.start] };
  }
  if (inSize && outSize && inSize[0] === outSize[0] && inSize[1] === outSize[1]) return field;
  return { size: [...image], jump: [...image], start: [0, 0] };
}

/** The smallest field containing all of `fields` (which share a resolution): a sum of branches sees all. */
function union(fields: readonly ReceptiveField[]): ReceptiveField {
  const axis = (a: 0 | 1) => {
    const start = Math.min(...fields.map((f) => f.start[a]));
    const end = Math.max(...fields.map((f) => f.start[a] + f.size[a]));
    return { start, size: end - start, jump: Math.max(...fields.map((f) => f.jump[a])) };
  };
  const [y, x] = [axis(0), axis(1)];
  return { size: [y.size, x.size], jump: [y.jump, x.jump], start: [y.start, x.start] };
}

/**
 * Runs `model` on x, tracing the receptive field of every tensor a leaf module outputs, and returns the
 * field of `layer`'s output (and that output).
 */
export function traceReceptiveField(
  model: Module,
  x: Tensor,
  layer: LayerRef,
): { field: ReceptiveField; output: Tensor } {
  checkImageBatch(x, "receptiveField");
  const target = resolveLayer(model, layer, "receptiveField");
  const image: [number, number] = [x.shape[2], x.shape[3]];
  const fields = new Map<Tensor, ReceptiveField>([[x, { size: [1, 1], jump: [1, 1], start: [0, 0] }]]);
  const recent: { shape: [number, number]; field: ReceptiveField }[] = [
    { shape: image, field: fields.get(x)! },
  ];
  const lookup = (t: Tensor): ReceptiveField => {
    const known = fields.get(t);
    if (known) return known;
    const s = spatial(t);
    const same = s ? recent.filter((r) => r.shape[0] === s[0] && r.shape[1] === s[1]) : [];
    return same.length > 0
      ? union(same.map((r) => r.field))
      : { size: [...image], jump: [...image], start: [0, 0] };
  };
  let output: Tensor | undefined;
  const handle = registerGlobalForwardHook((module, inputs, out) => {
    if (!(out instanceof Tensor)) return;
    if (module === target.module) output = out;
    const input = inputs[0];
    if (module.children().length > 0 || !(input instanceof Tensor)) return;
    const field = through(module, lookup(input), input, out, image);
    fields.set(out, field);
    const s = spatial(out);
    if (s) recent.push({ shape: s, field });
  });
  try {
    noGrad(() => forwardOf(model)(x));
  } finally {
    handle.remove();
  }
  if (!output)
    throw new Error(`receptiveField: layer '${target.name}' did not run in the model's forward pass`);
  return { field: lookup(output), output };
}

/** One kept patch: the image, where its strongest unit is, and the input crop that unit sees. */
export interface Patch {
  /** The activation (the channel's maximum over positions in this image). */
  value: number;
  /** Index of the image in the dataset (the loader's `indices` when it yields them, else the running count). */
  index: number;
  /** Position [y, x] of the strongest unit in the layer's maps. */
  position: [number, number];
  /** The receptive field's box in the input, [y0, x0, y1, x1] (end-exclusive; may extend past the image). */
  box: [number, number, number, number];
  /** The input inside the box [C, size_y, size_x], zeros outside the image. */
  crop: Tensor;
}

/** What {@link topActivatingPatches} returns. */
export interface TopPatches {
  layer: string;
  field: ReceptiveField;
  /** Per unit (channel), its patches, strongest first. */
  units: { unit: number; patches: Patch[] }[];
}

/** Options of {@link topActivatingPatches}. */
export interface TopPatchesOptions {
  /** The layer (module or dotted name). */
  layer: LayerRef;
  /** Patches kept per unit. Default 9. */
  k?: number;
  /** Channels to keep patches for; default all. */
  units?: readonly number[];
}

function crop(
  image: ArrayLike<number>,
  shape: readonly number[],
  box: [number, number, number, number],
): Float32Array {
  const [c, h, w] = shape;
  const [y0, x0, y1, x1] = box;
  const out = new Float32Array(c * (y1 - y0) * (x1 - x0));
  let i = 0;
  for (let ch = 0; ch < c; ch++)
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++, i++)
        if (y >= 0 && y < h && x >= 0 && x < w) out[i] = image[(ch * h + y) * w + x];
  return out;
}

/** Keeps the k largest by value (a short sorted list; k is small). */
function keep(list: Patch[], patch: Patch, k: number): void {
  if (list.length === k && patch.value <= list[k - 1].value) return;
  list.push(patch);
  list.sort((a, b) => b.value - a.value);
  if (list.length > k) list.pop();
}

/**
 * Scans `data` (a loader of { x, y } batches, or one batch [N, C, H, W]) and keeps, for each channel of
 * `layer`, the k images with the strongest activation, each with the receptive-field crop around its
 * strongest unit (Zeiler & Fergus 2014). A [N, K] layer (a Linear) has the whole image as its field.
 * @example const top = await topActivatingPatches(model, testLoader, { layer: "conv2", k: 9 });
 *          writeImagePng("conv2.png", patchGrid(top));
 */
export async function topActivatingPatches(
  model: Module,
  data: BatchSource | Tensor,
  options: TopPatchesOptions,
): Promise<TopPatches> {
  const k = options.k ?? 9;
  if (!(Number.isInteger(k) && k >= 1))
    throw new Error(`topActivatingPatches: k must be an integer ≥ 1, got ${k}`);
  const { name } = resolveLayer(model, options.layer, "topActivatingPatches");
  const batches: AsyncIterable<{ x: Tensor; indices?: Int32Array }> | Iterable<{ x: Tensor }> =
    data instanceof Tensor ? [{ x: data }] : (data as AsyncIterable<{ x: Tensor; indices?: Int32Array }>);
  const wasTraining = model.training;
  model.eval();
  let field: ReceptiveField | undefined;
  let lists: Map<number, Patch[]> | undefined;
  let seen = 0;
  try {
    for await (const batch of batches) {
      const x = batch.x;
      const traced = traceReceptiveField(model, x, options.layer);
      field = traced.field;
      const out = traced.output;
      if (out.ndim !== 4 && out.ndim !== 2)
        throw new Error(
          `topActivatingPatches: layer '${name}' gives ${formatShape(out.shape)}; expected [N, C, H, W] or [N, K]`,
        );
      const channels = out.shape[1];
      const units = options.units ?? Array.from({ length: channels }, (_, i) => i);
      for (const u of units)
        if (!(Number.isInteger(u) && u >= 0 && u < channels))
          throw new Error(
            `topActivatingPatches: unit ${u} is out of range for layer '${name}' with ${channels} channels`,
          );
      lists ??= new Map(units.map((u) => [u, []]));
      const [h, w] = out.ndim === 4 ? [out.shape[2], out.shape[3]] : [1, 1];
      const values = out.toArray();
      const images = x.toArray();
      const imageShape = x.shape.slice(1);
      const imageSize = imageShape.reduce((a, b) => a * b);
      const indices = (batch as { indices?: Int32Array }).indices;
      for (let n = 0; n < x.shape[0]; n++) {
        for (const u of units) {
          const base = (n * channels + u) * h * w;
          let best = 0;
          for (let i = 1; i < h * w; i++) if (values[base + i] > values[base + best]) best = i;
          const position: [number, number] = [Math.floor(best / w), best % w];
          const box: [number, number, number, number] =
            out.ndim === 2
              ? [0, 0, imageShape[1], imageShape[2]]
              : [
                  position[0] * field.jump[0] + field.start[0],
                  position[1] * field.jump[1] + field.start[1],
                  position[0] * field.jump[0] + field.start[0] + field.size[0],
                  position[1] * field.jump[1] + field.start[1] + field.size[1],
                ];
          const list = lists.get(u)!;
          const value = values[base + best];
          if (list.length === k && value <= list[k - 1].value) continue;
          const pixels = crop(images.subarray(n * imageSize, (n + 1) * imageSize), imageShape, box);
          keep(
            list,
            {
              value,
              index: indices ? indices[n] : seen + n,
              position,
              box,
              crop: tensor(pixels, [imageShape[0], box[2] - box[0], box[3] - box[1]]),
            },
            k,
          );
        }
      }
      seen += x.shape[0];
    }
  } finally {
    model.train(wasTraining);
  }
  if (!field || !lists) throw new Error("topActivatingPatches: the data yielded no images");
  return { layer: name, field, units: [...lists.entries()].map(([unit, patches]) => ({ unit, patches })) };
}

/**
 * The patches as a picture: a row per unit, its k crops left to right (each scaled to [0, 1] by the
 * dataset's pixel range [0, 1] unless `normalize`).
 */
export function patchGrid(
  top: TopPatches,
  options: { scale?: number; normalize?: boolean; title?: string } = {},
): Canvas {
  const k = Math.max(...top.units.map((u) => u.patches.length));
  const pictures: Canvas[] = [];
  const labels: string[] = [];
  for (const { unit, patches } of top.units) {
    for (let i = 0; i < k; i++) {
      const p = patches[i];
      pictures.push(
        p
          ? imageToCanvas(p.crop, { scale: options.scale ?? 3, normalize: options.normalize })
          : imageToCanvas(tensor([0], [1, 1, 1])),
      );
      labels.push(i === 0 ? `${unit}` : "");
    }
  }
  return canvasGrid(pictures, {
    columns: k,
    labels,
    title: options.title ?? `${top.layer}: top ${k} patches per unit`,
  });
}
