// Fuzzing JSON model specs: fields replaced by wrong types, non-finite or huge numbers and deep nesting,
// renamed (misspelt) or deleted. A spec must either fail with a plain Error naming the spec (and the layer), or
// build a model whose forward pass gives the output shape the builder promised.

import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFromSpec, type ModelSpec } from "../../src/spec/spec.js";
import { zeros } from "../../src/index.js";
import {
  FUZZ_TIMEOUT,
  assertClean,
  deepNest,
  fuzz,
  FUZZ_CASES,
  mutateJson,
  type FuzzRng,
} from "./harness.js";

const SEEDS: ModelSpec[] = [
  {
    name: "lenet-ish",
    input: [1, 12, 12],
    layers: [
      { type: "conv2d", outChannels: 4, kernelSize: 3, padding: 1 },
      { type: "relu" },
      { type: "maxpool2d", kernelSize: 2 },
      { type: "conv2d", outChannels: 6, kernelSize: [3, 3], stride: 1, biasInit: 0.1 },
      { type: "leakyrelu", negativeSlope: 0.1 },
      { type: "flatten" },
      { type: "linear", outFeatures: 8 },
      { type: "dropout", p: 0.2 },
      { type: "linear", outFeatures: 3, bias: false },
    ],
  },
  {
    input: [3, 8, 8],
    layers: [
      { type: "conv2d", outChannels: 4, kernelSize: 3, padding: 1, bias: false },
      { type: "batchnorm2d", eps: 1e-5, momentum: 0.1 },
      { type: "lrn", size: 3, alpha: 1e-4, beta: 0.75, k: 2 },
      { type: "elu", alpha: 1 },
      { type: "avgpool2d", kernelSize: 2, stride: 2, ceilMode: true },
      { type: "maxout", pieces: 2 },
      { type: "adaptiveavgpool2d", outputSize: [2, 2] },
      { type: "dropout2d", p: 0.1 },
      { type: "flatten" },
      { type: "batchnorm1d" },
      { type: "linear", outFeatures: 5 },
    ],
  },
];

function mutate(rng: FuzzRng): { spec: unknown; what: string } {
  let { value, what } = mutateJson(rng, rng.pick(SEEDS));
  if (rng.next() < 0.3) ({ value, what } = { ...mutateJson(rng, value), what: `${what}, then more` });
  if (rng.next() < 0.05) {
    const layers = (value as { layers?: unknown }).layers;
    if (Array.isArray(layers) && layers.length > 0) {
      const layer = layers[rng.int(layers.length)] as Record<string, unknown> | null;
      if (typeof layer === "object" && layer !== null) {
        const key = rng.pick(Object.keys(layer));
        layer[key] = deepNest(100_000);
        what += `, '${key}' nested 100000 deep`;
      }
    }
  }
  return { spec: value, what };
}

test(
  `JSON specs: ${FUZZ_CASES} mutated specs give clean errors naming the spec or a model that runs`,
  FUZZ_TIMEOUT,
  async () => {
    const result = await fuzz("JSON specs", FUZZ_CASES, 9005, (rng) => {
      const { spec, what } = mutate(rng);
      return {
        name: /^model spec/,
        what,
        run: () => {
          const { model, shapes } = buildFromSpec(spec as ModelSpec);
          const input = (spec as ModelSpec).input;
          model.eval();
          const y = model.forward(zeros([2, ...input]));
          assert.deepEqual(y.shape, [2, ...(shapes.at(-1) ?? input)]);
        },
      };
    });
    assertClean(result);
  },
);
