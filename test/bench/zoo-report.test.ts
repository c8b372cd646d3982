// The zoo report behind docs/models.md's measured section and accuracy-against-operations chart: every
// ImageNet model of the registry is in the chart data with the MACs its summary computes, every torchvision
// one has a published top-1 with a source, the published figures belong to the same architectures (the
// parameter counts torchvision states equal ours), and the generated section shows what a bench run holds.
// No timing is asserted: the bench file below is made up to exercise the formatting.

import { test } from "node:test";
import assert from "node:assert/strict";
import { getModel, listModels, summary } from "../../src/models/index.js";
import {
  IMAGENET_TOP1_JSON,
  SECTION_BEGIN,
  SECTION_END,
  type PublishedTop1File,
  type ZooBenchEntry,
  type ZooBenchFile,
  type ZooTraining,
  chartData,
  chartSvg,
  isImageNetModel,
  measuredTable,
  readJson,
  zooFigures,
  zooSection,
} from "../../bench/zoo-report.js";

const published = readJson<PublishedTop1File>(IMAGENET_TOP1_JSON);
const infos = listModels();
const imagenet = infos.filter(isImageNetModel);
const chart = chartData(infos, published);

test("every ImageNet zoo model is in the chart data with the MACs and parameters of its summary", () => {
  assert.ok(imagenet.length >= 20, `only ${imagenet.length} ImageNet models`);
  assert.deepEqual(
    chart.map((e) => e.name),
    imagenet.map((i) => i.name),
  );
  for (const info of imagenet) {
    const s = summary(getModel(info.name, { backend: "meta" }), [1, ...info.inputSize]);
    const entry = chart.find((e) => e.name === info.name)!;
    assert.equal(entry.macs, s.totalMacs, info.name);
    assert.equal(entry.params, s.totalParams, info.name);
    assert.ok(entry.macs > 0, info.name);
  }
  // CIFAR, MNIST and segmentation models are not ImageNet models.
  for (const name of ["lenet5", "resnet20_cifar", "unet"]) assert.ok(!chart.some((e) => e.name === name));
});

/** Parameters of a model's auxiliary heads (GoogLeNet's aux1, aux2: training only, not in torchvision's weights). */
function auxiliaryParams(name: string): number {
  return getModel(name, { backend: "meta" })
    .namedChildren()
    .filter(([child]) => child.startsWith("aux"))
    .reduce((sum, [, m]) => sum + m.numParameters(), 0);
}

test("every torchvision ImageNet model has a published top-1 with a source, measured on the same architecture", () => {
  for (const info of imagenet.filter((i) => i.torchvision)) {
    const entry = chart.find((e) => e.name === info.name)!;
    assert.ok(entry.top1 !== undefined, `${info.name}: no published top-1 in ${IMAGENET_TOP1_JSON}`);
    // torchvision's weights have our parameter count (less the auxiliary heads it leaves out of its
    // published weights): the figure is for this architecture.
    const ours = getModel(info.name, { backend: "meta" }).numParameters();
    assert.equal(published.models[info.name].numParams + auxiliaryParams(info.name), ours, info.name);
    assert.equal(entry.publishedParams, published.models[info.name].numParams, info.name);
  }
  assert.ok(auxiliaryParams("googlenet") > 0);
});

test("every published figure names a zoo model, is a percentage and cites its source", () => {
  const names = new Set(infos.map((i) => i.name));
  assert.ok(Object.keys(published.models).length > 0);
  for (const [name, p] of Object.entries(published.models)) {
    assert.ok(p.top1 > 0 && p.top1 < 100, `${name}: top-1 ${p.top1}`);
    assert.match(p.source, /^https:\/\/pytorch\.org\/vision\/.+\.html$/, name);
    assert.ok(p.source.includes(`torchvision.models.${name}.html`), `${name}: ${p.source}`);
    assert.match(p.weights, /_Weights\.IMAGENET1K_V1$/, name);
    // A figure for a model the zoo does not (yet) have is allowed, but only under a torchvision name.
    if (names.has(name)) assert.ok(infos.find((i) => i.name === name)!.torchvision, name);
  }
});

test("the chart's SVG plots every model with a published figure, and places higher accuracy higher", () => {
  const svg = chartSvg(chart);
  assert.match(svg, /^<svg [^>]*width="1000" height="620"/);
  const plotted = chart.filter((e) => e.top1 !== undefined);
  const labelY = (name: string) => {
    const m = new RegExp(`<text x="[\\d.]+" y="([\\d.]+)"[^>]*>${name}</text>`).exec(svg);
    assert.ok(m, `${name} is not labelled in the chart`);
    return Number(m[1]);
  };
  for (const e of plotted) labelY(e.name);
  for (const e of chart.filter((x) => x.top1 === undefined)) assert.ok(!svg.includes(`>${e.name}<`), e.name);
  // alexnet (56.5 %) sits well below resnet152 (78.3 %); labels are within a bubble's height of their bubble.
  assert.ok(labelY("alexnet") > labelY("resnet152") + 100);
});

/** A made-up run of two models (one with a failed training step), to check what the section shows. */
function fakeRun(load: number): ZooBenchFile {
  return {
    date: "2026-12-03T14:00:00.000Z",
    cpu: "Test CPU",
    cores: 2,
    availableParallelism: 2,
    totalMemoryGiB: 24,
    node: "v20.0.0",
    loadAverageStart: [load, load, load],
    loadAverageEnd: [load, load, load],
    minutes: 1.5,
    quick: false,
    note: "preliminary",
    trainBatch: 8,
    trainThreads: 2,
    timing: {},
    models: [
      measured("resnet18", [44.4, 25.6], { stepMs: 1234.5, reps: 3, firstMs: 1500, threads: 2, ...memory }),
      measured("lenet5", [0.5, 0.4], {
        skip: "failed: wasm backend: out of memory: allocating 49.0 MiB needs the wasm memory to grow",
      }),
    ],
  };
}

const memory = { heapPeakBytes: 40 * 2 ** 20, wasmMemoryBytes: 64 * 2 ** 20, maxRssBytes: 200 * 2 ** 20 };

/** A bench entry of a registered model with its summary's figures and the given (made-up) timings. */
function measured(name: string, [latency1Ms, latency2Ms]: number[], training: ZooTraining): ZooBenchEntry {
  const info = infos.find((i) => i.name === name)!;
  const inference = { latency1Ms, latency2Ms, reps1: 20, reps2: 20, ...memory };
  return { name, family: info.family, inputSize: info.inputSize, ...zooFigures(info), inference, training };
}

test("the measured table shows the run's machine, each measured model in registry order and what was not measured", () => {
  const table = measuredTable(fakeRun(0.5), infos);
  assert.match(
    table,
    /Test CPU, 2 cores, 24 GiB, Node v20\.0\.0; load average \(1, 5, 15 min\) 0\.50 0\.50 0\.50/,
  );
  assert.match(table, /> \*\*Note:\*\* preliminary/);
  assert.doesNotMatch(table, /Busy machine/);
  const rows = table.split("\n").filter((l) => l.startsWith("| `"));
  assert.deepEqual(
    rows.map((r) => r.split("|")[1].trim()),
    ["`lenet5`", "`resnet18`"],
  );
  assert.equal(rows[1], "| `resnet18` | 3x224x224 | 11.69M | 1.81G | 44.4 | 25.6 | 1,235 | 40 / 40 | 200 |");
  assert.match(rows[0], /\| out of memory \(wasm32's 4 GiB\) \| 40 \/ — \| — \|$/);
  const missing = /Not measured in this run: (.*)\.$/m.exec(table)![1].split(", ");
  assert.equal(missing.length, infos.length - 2);
  assert.ok(!missing.includes("`resnet18`") && missing.includes("`vgg16`"));
  assert.match(measuredTable(fakeRun(1.6), infos), /Busy machine/);
  assert.match(measuredTable(null, infos), /No measurements yet/);
});

test("the generated section is delimited and embeds the chart and every cited figure", () => {
  const section = zooSection(fakeRun(0.5), infos, chart, published);
  assert.ok(section.startsWith(SECTION_BEGIN) && section.endsWith(SECTION_END));
  assert.match(section, /!\[[^\]]+\]\(images\/zoo-accuracy-vs-macs\.svg\)/);
  for (const e of chart.filter((x) => x.top1 !== undefined))
    assert.ok(section.includes(`[${e.weights}](${e.source})`), e.name);
});
