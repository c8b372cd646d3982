// Progress reporting of fit(): the events it emits (browser-safe) and the plain-text formatting shared by
// the Node TTY bar and the one-line-per-epoch log used in CI and pipes.

import type { EpochLogs } from "./history.js";

/**
 * What `fit` reports to `onProgress`: `trainBegin`, one `batch` per step (running loss and accuracy,
 * images/s, ETA, lr), `validationBegin`, `epochEnd` (the epoch's logs) and `trainEnd`.
 * `createProgressReporter` (striate/node) prints them.
 */
export type ProgressEvent =
  | { type: "trainBegin"; epochs: number; initialEpoch: number; batchesPerEpoch: number | undefined }
  | {
      type: "batch";
      epoch: number;
      epochs: number;
      /** Batches finished in this epoch. */
      batch: number;
      batchesPerEpoch: number | undefined;
      /** Running means over the epoch so far. */
      loss: number;
      accuracy: number;
      imagesPerSec: number;
      /** Seconds left in this epoch, when the number of batches is known. */
      etaSec: number | undefined;
      lr: number;
    }
  | { type: "validationBegin"; epoch: number; epochs: number }
  | { type: "epochEnd"; epochs: number; logs: EpochLogs }
  | { type: "trainEnd"; reason: string; message: string };

/** Receives fit()'s progress events (the Node TTY bar implements it; a web page can too). */
export type ProgressListener = (event: ProgressEvent) => void;

/** "1:05" / "1:02:03" for an ETA. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** One summary line per epoch, e.g. for logs: "epoch 3/10  loss 0.1234  acc 96.10%  val_loss …". */
export function formatEpochLine(logs: EpochLogs, epochs: number): string {
  const parts = [
    `epoch ${logs.epoch}/${epochs}`,
    `loss ${logs.loss.toFixed(4)}`,
    `acc ${(100 * logs.accuracy).toFixed(2)}%`,
  ];
  if (logs.valLoss !== undefined) parts.push(`val_loss ${logs.valLoss.toFixed(4)}`);
  if (logs.valAccuracy !== undefined) parts.push(`val_acc ${(100 * logs.valAccuracy).toFixed(2)}%`);
  parts.push(
    `lr ${logs.lr.toPrecision(3)}`,
    `${Math.round(logs.imagesPerSec)} img/s`,
    `${logs.timeSec.toFixed(1)}s`,
  );
  return parts.join("  ");
}
