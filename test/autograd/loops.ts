// The hand-written training loops whose memory the engine must keep flat without scope(): the README's
// example in a loop, and a manual `for await` loop over a DataLoader (docs/data.md's pattern). Shared by
// test/autograd/engine-memory.test.ts (short runs) and scripts/memory-soak.ts (the full 5,000 steps).
// Each reports the wasm backend's live storages and memory size at chosen steps, measured as the loop
// left them (no collection first: nothing may depend on the garbage collector), and the RSS after one.

import { F, manualSeed, memory, nn, optim, randint, randn, tensor } from "../../src/index.js";
import { DataLoader, TensorDataset } from "../../src/data/index.js";

export interface Mark {
  step: number;
  storages: number;
  memoryBytes: number;
  /** Resident set size after a full collection (JavaScript garbage is the GC's business). */
  rss: number;
  loss: number;
}

/** The README example's model and optimizer. */
function readmeModel() {
  manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(400, 120),
    new nn.ReLU(),
    new nn.Linear(120, 10),
  );
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  return { model, optimizer };
}

function mark(step: number, loss: number, collect: () => void): Mark {
  const m = memory("wasm");
  collect();
  return { step, storages: m.storages, memoryBytes: m.memoryBytes!, rss: process.memoryUsage().rss, loss };
}

/** The README example, unchanged apart from the loop around its step (a new random batch every step). */
export function readmeLoop(steps: number, marks: readonly number[], collect: () => void): Mark[] {
  const { model, optimizer } = readmeModel();
  const out: Mark[] = [];
  for (let step = 1; step <= steps; step++) {
    const images = randn([8, 1, 28, 28]); // a batch in NCHW layout
    const labels = randint(0, 10, [8]); // int32 class indices
    const loss = F.crossEntropy(model.forward(images), labels);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    if (marks.includes(step)) out.push(mark(step, loss.item(), collect));
  }
  return out;
}

/** A manual `for await` loop over a shuffling DataLoader with prefetch, logging accuracy on the side. */
export async function loaderLoop(
  steps: number,
  marks: readonly number[],
  collect: () => void,
): Promise<Mark[]> {
  const { model, optimizer } = readmeModel();
  const n = 256;
  const images = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    for (let p = 0; p < 784; p++) images[i * 784 + p] = Math.sin(i * 0.37 + p * (labels[i] + 1) * 0.01);
  }
  const loader = new DataLoader(new TensorDataset(images, labels, { shape: [1, 28, 28] }), {
    batchSize: 8,
    shuffle: true,
    seed: 1,
  });
  const out: Mark[] = [];
  let step = 0;
  while (step < steps) {
    for await (const { x, y } of loader) {
      step++;
      const logits = model.forward(x);
      const loss = F.crossEntropy(logits, y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      // Logging after the step uses the batch and the logits again.
      const correct = logits.argmax(1).to("float32").sub(y.to("float32")).abs().sum().item();
      if (marks.includes(step)) out.push(mark(step, loss.item() + 0 * correct, collect));
      if (step >= steps) break;
    }
  }
  return out;
}

export { tensor };
