// Writes docs/coverage.md, the op × backend × forward/backward matrix, from the code: it runs one sample of
// every primitive (the `Primitive` union makes the sample table exhaustive: a new primitive does not compile
// until it has one) forward and backward on the js and the wasm backend, records which Backend kernels each
// pass called, checks that the wasm results match the js reference, and reads the ONNX export table.
// test/docs/coverage.test.ts fails when the file in docs/ differs from what this renders.
//   node --import tsx scripts/gen-coverage.ts

import { writeFileSync } from "node:fs";
import * as prettier from "prettier";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as F from "../src/ops/index.js";
import type { Primitive } from "../src/ops/primitives.js";
import { primitiveNames } from "../src/autograd/primitive.js";
import { getBackend } from "../src/backend/registry.js";
import { initWasm } from "../src/backend/wasm/index.js";
import { EXPORTED_PRIMITIVES } from "../src/io/onnx/export.js";
import { tensor, type Tensor } from "../src/tensor/tensor.js";

export const COVERAGE_PATH = fileURLToPath(new URL("../docs/coverage.md", import.meta.url));

/**
 * Makes a float tensor of `shape` with fixed values on the backend being covered: a leaf that requires a
 * gradient unless `grad` is false, values in about [-1, 1] or, `positive`, in [0.5, 1.5].
 */
type Make = (shape: readonly number[], options?: { grad?: boolean; positive?: boolean }) => Tensor;

/** Prepares the inputs (not recorded) and returns the call of the op that records the primitive. */
type Sample = (make: Make) => () => Tensor;

/** A constant (not a leaf) on the backend of `like`. */
const constant = (like: Tensor, values: number[][]) =>
  tensor(values, undefined, { backend: like.backend.name });

/** A sample per primitive: the public op that records it, on small inputs. */
const SAMPLES: { readonly [P in Primitive]: Sample } = {
  add: (m) => binary(m, F.add),
  sub: (m) => binary(m, F.sub),
  mul: (m) => binary(m, F.mul),
  div: (m) => {
    const [a, b] = [m([2, 3]), m([2, 3], { positive: true })];
    return () => F.div(a, b);
  },
  maximum: (m) => binary(m, F.maximum),
  minimum: (m) => binary(m, F.minimum),
  neg: (m) => unary(m, F.neg),
  exp: (m) => unary(m, F.exp),
  log: (m) => unary(m, F.log, true),
  sqrt: (m) => unary(m, F.sqrt, true),
  abs: (m) => unary(m, F.abs),
  square: (m) => unary(m, F.square),
  powScalar: (m) => unary(m, (x) => F.pow(x, 1.5), true),
  erf: (m) => unary(m, F.erf),
  clamp: (m) => unary(m, (x) => F.clamp(x, -0.5, 0.5)),
  compare: (m) => binary(m, (a, b) => F.recordedCompare("gt", a, b)),
  relu: (m) => unary(m, F.relu),
  relu6: (m) => unary(m, F.relu6),
  leakyRelu: (m) => unary(m, (x) => F.leakyRelu(x)),
  elu: (m) => unary(m, (x) => F.elu(x)),
  gelu: (m) => unary(m, (x) => F.gelu(x)),
  sigmoid: (m) => unary(m, F.sigmoid),
  tanh: (m) => unary(m, F.tanh),
  sign: (m) => unary(m, (x) => F.sign(x)),
  step: (m) => unary(m, (x) => F.step(x)),
  hardswish: (m) => unary(m, F.hardswish),
  softplus: (m) => unary(m, (x) => F.softplus(x)),
  sum: (m) => unary(m, (x) => F.sum(x, 1)),
  max: (m) => unary(m, (x) => F.max(x, 1)),
  min: (m) => unary(m, (x) => F.min(x, 1)),
  reshape: (m) => unary(m, (x) => F.reshape(x, [3, 2])),
  permute: (m) => {
    const x = m([2, 3, 2]);
    return () => F.permute(x, [2, 0, 1]);
  },
  expand: (m) => {
    const x = m([2, 1]);
    return () => F.expand(x, [2, 3]);
  },
  slice: (m) => {
    const x = m([4, 3]);
    return () => F.slice(x, 0, 1, 3);
  },
  pad: (m) => {
    const x = m([1, 1, 2, 3]);
    return () => F.pad(x, [1, 1, 1, 1]);
  },
  concat: (m) => {
    const [a, b] = [m([2, 3]), m([1, 3])];
    return () => F.concat([a, b], 0);
  },
  where: (m) => {
    const [a, b] = [m([2, 3]), m([2, 3])];
    const condition = F.compare("gt", m([2, 3], { grad: false }), 0);
    return () => F.where(condition, a, b);
  },
  gemm: (m) => {
    const [a, b] = [m([2, 3]), m([3, 4])];
    return () => F.gemm(a, b);
  },
  conv2d: (m) => {
    const [x, w, bias] = [m([1, 2, 5, 5]), m([3, 2, 3, 3]), m([3])];
    return () => F.conv2d(x, w, bias);
  },
  convTranspose2d: (m) => {
    const [x, w, bias] = [m([1, 2, 3, 3]), m([2, 3, 3, 3]), m([3])];
    return () => F.convTranspose2d(x, w, bias, { stride: 2 });
  },
  maxPool2d: (m) => {
    const x = m([1, 2, 4, 4]);
    return () => F.maxPool2d(x, 2);
  },
  avgPool2d: (m) => {
    const x = m([1, 2, 4, 4]);
    return () => F.avgPool2d(x, 2);
  },
  adaptiveAvgPool2d: (m) => {
    const x = m([1, 2, 5, 5]);
    return () => F.adaptiveAvgPool2d(x, 2);
  },
  batchNorm: (m) => {
    const [x, weight, bias] = [m([4, 3, 2, 2]), m([3]), m([3])];
    return () => F.batchNorm(x, { weight, bias });
  },
  softmaxCrossEntropy: (m) => {
    const logits = m([4, 3]);
    const target = F.softmax(m([4, 3], { grad: false }), 1);
    return () => F.crossEntropy(logits, target, { reduction: "none" });
  },
  roiAlign: (m) => {
    const x = m([1, 2, 6, 6]);
    const rois = constant(x, [[0, 0.5, 0.5, 4.5, 3.5]]);
    return () => F.roiAlign(x, rois, 2);
  },
  roiPool: (m) => {
    const x = m([1, 2, 6, 6]);
    const rois = constant(x, [[0, 0, 0, 4, 3]]);
    return () => F.roiPool(x, rois, 2);
  },
  topk: (m) => {
    const x = m([2, 5]);
    return () => F.topk(x, 2).values;
  },
};

function unary(m: Make, op: (x: Tensor) => Tensor, positive = false): () => Tensor {
  const x = m([2, 3], { positive });
  return () => op(x);
}

function binary(m: Make, op: (a: Tensor, b: Tensor) => Tensor): () => Tensor {
  const [a, b] = [m([2, 3]), m([2, 3])];
  return () => op(a, b);
}

/** Copies between the backend and JavaScript arrays: an op that uses them computes in a host loop. */
const HOST = new Set(["toArray", "fromArray"]);
const HOST_LOOP = "(host loop)";

/** Backend members that move data or manage memory rather than compute an op. */
const BOOKKEEPING = new Set([
  "name",
  "supports",
  "full",
  "cast",
  "scope",
  "keep",
  "pin",
  "free",
  "startStep",
  "memory",
  "runtime",
  "storages",
]);

interface Run {
  forward: Set<string>;
  backward: Set<string>;
  output: Float64Array;
  gradients: Float64Array[];
}

/** Runs `sample` on `backend` with every kernel call recorded, forward then backward. */
function runSample(backendName: string, sample: Sample): Run {
  const backend = getBackend(backendName) as unknown as Record<string, unknown>;
  const forward = new Set<string>();
  const backward = new Set<string>();
  const preparing = new Set<string>();
  let phase = preparing;
  const originals = new Map<string, unknown>();
  for (const [key, value] of Object.entries(backend)) {
    if (BOOKKEEPING.has(key) || typeof value !== "function") continue;
    originals.set(key, value);
    backend[key] = (...args: unknown[]) => {
      phase.add(HOST.has(key) ? HOST_LOOP : key);
      return (value as (...a: unknown[]) => unknown).apply(backend, args);
    };
  }
  try {
    let seed = 0;
    const leaves: Tensor[] = [];
    const make: Make = (shape, { grad = true, positive = false } = {}) => {
      const n = shape.reduce((a, b) => a * b, 1);
      seed += 1;
      // Distinct, irregular values (no ties, so max/min and pooling have one winner).
      const values = Array.from({ length: n }, (_, i) => {
        const v = Math.sin(1.7 * (i + 1) + 0.9 * seed);
        return positive ? 1 + v / 2 : v;
      });
      const t = tensor(values, shape, { backend: backendName, requiresGrad: grad });
      if (grad) leaves.push(t);
      return t;
    };
    const run = sample(make);
    phase = forward;
    const output = run();
    phase = preparing;
    // An uneven upstream gradient, made before recording the backward.
    const upstream = F.add(F.abs(output.detach()), 0.5);
    phase = backward;
    if (output.requiresGrad) output.backward(upstream);
    phase = preparing;
    return {
      forward,
      backward,
      output: Float64Array.from(output.toArray()),
      gradients: leaves.map((l) => Float64Array.from(l.grad?.toArray() ?? [])),
    };
  } finally {
    for (const [key, value] of originals) backend[key] = value;
  }
}

function close(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= 1e-4 * Math.max(1, Math.abs(b[i])));
}

/** "✓" when the wasm pass matches the js reference, otherwise what differed. */
function agreement(js: Run, wasm: Run): { forward: string; backward: string } {
  const grads = js.gradients.every((g, i) => close(wasm.gradients[i], g));
  return { forward: close(wasm.output, js.output) ? "✓" : "differs", backward: grads ? "✓" : "differs" };
}

/** The kernels a pass called; a host loop only when it called none. */
function kernels(names: Set<string>): string {
  const compute = [...names].filter((n) => n !== HOST_LOOP).sort();
  if (compute.length > 0) return compute.map((n) => `\`${n}\``).join(", ");
  return names.has(HOST_LOOP) ? "host loop" : "—";
}

/** The markdown of docs/coverage.md. */
export async function renderCoverage(): Promise<string> {
  await initWasm({ setDefault: false, threads: 1 });
  const exported = new Set<string>(EXPORTED_PRIMITIVES);
  const names = (Object.keys(SAMPLES) as Primitive[]).sort((a, b) => a.localeCompare(b));
  const missing = [...primitiveNames].filter((n) => !(n in SAMPLES));
  if (missing.length > 0) throw new Error(`gen-coverage: primitives without a sample: ${missing.join(", ")}`);
  const rows = names.map((name) => {
    const js = runSample("js", SAMPLES[name]);
    const wasm = runSample("wasm", SAMPLES[name]);
    const same = agreement(js, wasm);
    return (
      `| \`${name}\` | ${kernels(js.forward)} | ${kernels(js.backward)} | ` +
      `${same.forward} | ${same.backward} | ${exported.has(name) ? "✓" : "—"} |`
    );
  });
  const markdown = [
    "# Op coverage",
    "",
    "<!-- Generated by `node --import tsx scripts/gen-coverage.ts` from the code; test/docs/coverage.test.ts fails when it is stale. -->",
    "",
    `Every primitive (${names.length}: the \`Primitive\` union, src/ops/primitives.ts), run forward and backward on`,
    "the js and wasm backends by scripts/gen-coverage.ts. The kernels columns list the `Backend` methods each pass called",
    "(the same on every backend: ops call the `Backend` interface, and a backend missing a method does not",
    "compile). js runs float32, float64 and int32; wasm runs float32 (int32 arithmetic through the js kernels).",
    '"—": no kernel (the gradient passes through unchanged, or is zero); "host loop": computed in JavaScript',
    "over the values. The wasm columns say whether its results matched the js reference (within 1e-4,",
    "relative). Composite ops (softmax, most losses, layer norm, …) are functions of these and get their",
    "gradients from them.",
    "",
    "| primitive | forward kernels | backward kernels | wasm forward = js | wasm backward = js | ONNX export |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
  // Formatted as `prettier --check .` wants it, so the file passes the suite's format check as written.
  const config = (await prettier.resolveConfig(COVERAGE_PATH)) ?? {};
  return prettier.format(markdown, { ...config, filepath: COVERAGE_PATH });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(COVERAGE_PATH, await renderCoverage());
  console.log("wrote docs/coverage.md");
}
