// Progress output: one plain line per epoch without a TTY; a redrawn bar with ETA on a TTY.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createProgressReporter } from "../../src/node/progress.js";
import type { ProgressEvent } from "../../src/train/progress.js";
import { formatDuration } from "../../src/train/progress.js";

function sink(isTTY: boolean) {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 200;
  return { stream, text: () => text };
}

const logs = {
  epoch: 1,
  loss: 0.5,
  accuracy: 0.875,
  valLoss: 0.25,
  valAccuracy: 0.9,
  lr: 0.01,
  imagesPerSec: 1234,
  timeSec: 2.5,
};
const events: ProgressEvent[] = [
  { type: "trainBegin", epochs: 2, initialEpoch: 0, batchesPerEpoch: 4 },
  ...[1, 2, 3, 4].map((batch): ProgressEvent => ({
    type: "batch",
    epoch: 1,
    epochs: 2,
    batch,
    batchesPerEpoch: 4,
    loss: 0.5,
    accuracy: 0.875,
    imagesPerSec: 1234,
    etaSec: 65 * (4 - batch),
    lr: 0.01,
  })),
  { type: "epochEnd", epochs: 2, logs },
  { type: "trainEnd", reason: "completed", message: "" },
];

test("not a TTY: exactly one line per epoch", () => {
  const out = sink(false);
  const report = createProgressReporter({ stream: out.stream });
  events.forEach(report);
  assert.equal(
    out.text(),
    "epoch 1/2  loss 0.5000  acc 87.50%  val_loss 0.2500  val_acc 90.00%  lr 0.0100  1234 img/s  2.5s\n",
  );
});

test("TTY: a bar with batch, loss, accuracy, images/s and ETA, cleared before the epoch line", () => {
  const out = sink(true);
  const report = createProgressReporter({ stream: out.stream, intervalMs: 0 });
  events.forEach(report);
  // Strip terminal control sequences; what remains is what the user reads, line by line.
  const text = out.text();
  // eslint-disable-next-line no-control-regex -- terminal escapes are exactly what is stripped here
  const visible = text.replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, "");
  assert.match(visible, /epoch 1\/2 {2}=+ +1\/4 {2}loss 0\.5000 {2}acc 87\.50% {2}1234 img\/s {2}ETA 3:15/);
  assert.match(visible, /4\/4 {2}loss 0\.5000 .* ETA 0:00/);
  assert.ok(text.includes("\x1b["), "the bar is redrawn in place with terminal control sequences");
  assert.ok(
    text.endsWith(
      "epoch 1/2  loss 0.5000  acc 87.50%  val_loss 0.2500  val_acc 90.00%  lr 0.0100  1234 img/s  2.5s\n",
    ),
  );
  assert.equal(formatDuration(3723), "1:02:03");
});
