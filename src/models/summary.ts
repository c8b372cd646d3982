// summary(): one forward pass with a global forward hook records, for every module call, its output shape,
// parameters and multiply-accumulates (MACs), like torchinfo / Keras' model.summary(). Build the model on
// the `meta` backend (`{ backend: 'meta' }`) to get the shapes of a 224x224 VGG without computing anything.
// MACs follow the fixtures' definition (test/fixtures/torch/README.md): Conv2d = output elements ·
// inChannels/groups · kH · kW, Linear = output elements · inFeatures; biases, batch norm, activations,
// pooling, additions and concatenations are not counted. A module may define `countMacs(inputs, output)`
// for its own rule (e.g. LeNet's sparse C3).

import { Tensor, zeros } from "../tensor/tensor.js";
import { formatShape } from "../tensor/shape.js";
import { enableGrad } from "../autograd/engine.js";
import { Module, Conv2d, Linear, registerGlobalForwardHook } from "../nn/index.js";

export interface SummaryRow {
  /** Dotted module name, as in state_dict keys ('layer1.0.conv1'). */
  name: string;
  /** Class name ('Conv2d', 'BatchNorm2d', 'Bottleneck', …). */
  type: string;
  outputShape: number[];
  /** Parameters of this module and its descendants. */
  params: number;
  /** MACs of this call (for containers: the sum over their Conv2d/Linear descendants in this call). */
  macs: number;
  /** True for modules without children. */
  leaf: boolean;
}

export interface ModelSummary {
  rows: SummaryRow[];
  inputShape: number[];
  /** Output shape, or one shape per key for models returning several tensors (GoogLeNet in training). */
  outputShape: number[] | Record<string, number[]>;
  totalParams: number;
  trainableParams: number;
  totalMacs: number;
  convMacs: number;
  linearMacs: number;
  /** Conv2d/Linear layers on the longest input→output path (gating branches such as SE excluded). */
  depth: number;
}

export interface SummaryOptions {
  /** Run in training mode (e.g. to include GoogLeNet's auxiliary classifiers). Default: eval mode. */
  training?: boolean;
}

interface MacCounter {
  countMacs(inputs: readonly Tensor[], output: Tensor): number;
}

function hasMacCounter(m: Module): m is Module & MacCounter {
  return typeof (m as Partial<MacCounter>).countMacs === "function";
}

/** MACs of one call of a layer (0 for layers without multiply-accumulates). */
export function layerMacs(module: Module, inputs: readonly Tensor[], output: Tensor): number {
  if (hasMacCounter(module)) return module.countMacs(inputs, output);
  if (module instanceof Conv2d) {
    const [kH, kW] = module.kernelSize;
    return output.size * (module.inChannels / module.groups) * kH * kW;
  }
  if (module instanceof Linear) return output.size * module.inFeatures;
  return 0;
}

function shapeOf(output: unknown): number[] | Record<string, number[]> {
  if (output instanceof Tensor) return [...output.shape];
  if (output && typeof output === "object") {
    return Object.fromEntries(
      Object.entries(output)
        .filter(([, v]) => v instanceof Tensor)
        .map(([k, v]) => [k, [...(v as Tensor).shape]]),
    );
  }
  throw new Error(`summary: the model returned ${String(output)}, not a tensor or an object of tensors`);
}

/** Longest chain of counted layers behind `root`, walking the autograd graph (iteratively: ResNet-152). */
function longestPath(roots: readonly Tensor[], counted: ReadonlySet<Tensor>): number {
  const depth = new Map<Tensor, number>();
  const started = new Set<Tensor>();
  const stack: { t: Tensor; expanded: boolean }[] = roots.map((t) => ({ t, expanded: false }));
  while (stack.length > 0) {
    const top = stack.pop()!;
    const inputs = top.t.gradFn?.inputs ?? [];
    if (top.expanded) {
      // In a DAG every input finished before this marker resurfaced.
      const below = Math.max(0, ...inputs.map((i) => depth.get(i) ?? 0));
      depth.set(top.t, below + (counted.has(top.t) ? 1 : 0));
      continue;
    }
    if (started.has(top.t)) continue;
    started.add(top.t);
    stack.push({ t: top.t, expanded: true });
    for (const input of inputs) if (!started.has(input)) stack.push({ t: input, expanded: false });
  }
  return Math.max(0, ...roots.map((r) => depth.get(r) ?? 0));
}

/**
 * Runs one forward pass of `model` on zeros of `inputShape` (on the model's backend) and reports every
 * module call: output shape, parameters, MACs; plus totals and depth. The model's train/eval mode is
 * restored afterwards.
 * @example
 * const s = summary(getModel("resnet50", { backend: "meta" }), [1, 3, 224, 224]);
 * s.totalParams; // 25557032
 * s.totalMacs; // 4089184256
 * console.log(formatSummary(s));
 */
export function summary(
  model: Module<[input: Tensor], unknown>,
  inputShape: readonly number[],
  options: SummaryOptions = {},
): ModelSummary {
  const firstParam = model.parameters()[0];
  const input = zeros(inputShape, {
    dtype: firstParam?.dtype ?? "float32",
    backend: firstParam?.backend.name,
    requiresGrad: true,
  });
  const names = new Map<Module, string>();
  const gates = new Set<string>();
  for (const [name, m] of model.namedModules()) {
    names.set(m, name);
    if ((m as { excludeFromDepth?: boolean }).excludeFromDepth) gates.add(name);
  }
  const underGate = (name: string) => [...gates].some((g) => name === g || name.startsWith(`${g}.`));
  const calls: { module: Module; output: Tensor; macs: number; order: number }[] = [];
  const counted = new Set<Tensor>();
  const wasTraining = model.training;
  model.train(options.training ?? false);
  const handle = registerGlobalForwardHook((module, inputs, output) => {
    if (module === model || !names.has(module) || !(output instanceof Tensor)) return;
    const tensors = inputs.filter((i): i is Tensor => i instanceof Tensor);
    const macs = layerMacs(module, tensors, output);
    calls.push({ module, output, macs, order: calls.length });
    if ((module instanceof Conv2d || module instanceof Linear) && !underGate(names.get(module)!))
      counted.add(output);
  });
  let output: unknown;
  try {
    output = enableGrad(() => model.forward(input));
  } finally {
    handle.remove();
    model.train(wasTraining);
  }
  // A container's MACs are those of the layers it called: sum the leaf calls under its name.
  const rows: SummaryRow[] = calls.map(({ module, output: out }) => {
    const name = names.get(module)!;
    const leaf = module.children().length === 0;
    const macs = calls
      .filter((c) => c.module.children().length === 0)
      .filter((c) => {
        const n = names.get(c.module)!;
        return n === name || n.startsWith(`${name}.`);
      })
      .reduce((s, c) => s + c.macs, 0);
    return {
      name,
      type: module.constructor.name,
      outputShape: [...out.shape],
      params: module.numParameters(),
      macs,
      leaf,
    };
  });
  // Parents finish after their children; list rows in definition order instead (torchinfo's order).
  const position = new Map([...names.values()].map((n, i) => [n, i]));
  rows.sort((a, b) => position.get(a.name)! - position.get(b.name)!);
  const leafCalls = calls.filter((c) => c.module.children().length === 0);
  const sumWhere = (pred: (m: Module) => boolean) =>
    leafCalls.filter((c) => pred(c.module)).reduce((s, c) => s + c.macs, 0);
  const convMacs = sumWhere((m) => m instanceof Conv2d);
  const linearMacs = sumWhere((m) => m instanceof Linear);
  const outputs =
    output instanceof Tensor ? [output] : Object.values(output as object).filter((v) => v instanceof Tensor);
  return {
    rows,
    inputShape: [...inputShape],
    outputShape: shapeOf(output),
    totalParams: model.numParameters(),
    trainableParams: model.numParameters(true),
    totalMacs: sumWhere(() => true),
    convMacs,
    linearMacs,
    depth: longestPath(outputs as Tensor[], counted),
  };
}

const thousands = (n: number) => n.toLocaleString("en-US");

/** Millions/billions with 2 decimals: 25.56M, 4.09G. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export interface FormatSummaryOptions {
  /** Show modules down to this nesting level (1 = direct children only). Default: all. */
  maxDepth?: number;
}

/**
 * The summary as a printable table: one line per module call (indented by nesting), then the totals.
 * @example console.log(formatSummary(summary(new LeNet5(), [1, 1, 28, 28])));
 */
export function formatSummary(s: ModelSummary, options: FormatSummaryOptions = {}): string {
  const maxDepth = options.maxDepth ?? Infinity;
  const lines = s.rows
    .filter((r) => r.name.split(".").length <= maxDepth)
    .map((r) => {
      const indent = "  ".repeat(r.name.split(".").length - 1);
      return [
        `${indent}${r.name.split(".").pop()} (${r.type})`,
        formatShape(r.outputShape),
        thousands(r.params),
        thousands(r.macs),
      ];
    });
  const header = ["Layer (type)", "Output shape", "Params", "MACs"];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("   ");
  const rule = "-".repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  const out =
    typeof s.outputShape === "object" && !Array.isArray(s.outputShape)
      ? Object.entries(s.outputShape)
          .map(([k, v]) => `${k} ${formatShape(v)}`)
          .join(", ")
      : formatShape(s.outputShape);
  return [
    row(header),
    rule,
    ...lines.map(row),
    rule,
    `Input: ${formatShape(s.inputShape)}   Output: ${out}`,
    `Total params: ${thousands(s.totalParams)} (${formatCount(s.totalParams)})`,
    `Trainable params: ${thousands(s.trainableParams)}`,
    `MACs: ${thousands(s.totalMacs)} (${formatCount(s.totalMacs)}; conv ${thousands(s.convMacs)}, linear ${thousands(s.linearMacs)})`,
    `Depth (conv/linear layers on the longest path): ${s.depth}`,
  ].join("\n");
}
