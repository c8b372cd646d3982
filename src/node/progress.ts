// fit()'s progress on a terminal (Node): a live bar on a TTY (epoch, batch, loss, accuracy, images/s, ETA),
// redrawn at most every 100 ms, and one plain line per epoch when the output is not a TTY (CI, pipes).

import type { ProgressEvent, ProgressListener } from "../train/progress.js";
import { formatDuration, formatEpochLine } from "../train/progress.js";

export interface ProgressOptions {
  /** Where to write (default process.stdout). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force the live bar on or off (default: on when the stream is a TTY). */
  tty?: boolean;
  /** Minimum milliseconds between redraws of the bar (default 100). */
  intervalMs?: number;
}

function bar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
}

/**
 * A progress listener for fit()'s onProgress.
 * @example await fit(model, { …, onProgress: createProgressReporter() })
 */
export function createProgressReporter(options: ProgressOptions = {}): ProgressListener {
  const stream = options.stream ?? process.stdout;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const interval = options.intervalMs ?? 100;
  let lastDraw = 0;
  let drawn = false;

  const clear = () => {
    if (drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };

  return (event: ProgressEvent) => {
    switch (event.type) {
      case "batch": {
        if (!tty) return;
        const now = Date.now();
        const last = event.batchesPerEpoch !== undefined && event.batch >= event.batchesPerEpoch;
        if (now - lastDraw < interval && !last) return;
        lastDraw = now;
        const total = event.batchesPerEpoch;
        const parts = [
          `epoch ${event.epoch}/${event.epochs}`,
          total ? `${bar(event.batch / total, 24)} ${event.batch}/${total}` : `batch ${event.batch}`,
          `loss ${event.loss.toFixed(4)}`,
          `acc ${(100 * event.accuracy).toFixed(2)}%`,
          `${Math.round(event.imagesPerSec)} img/s`,
          `ETA ${event.etaSec === undefined ? "?" : formatDuration(event.etaSec)}`,
        ];
        const line = parts.join("  ");
        const width = stream.columns ?? 120;
        stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, width - 1))}`);
        drawn = true;
        return;
      }
      case "validationBegin":
        if (!tty) return;
        stream.write(`\r\x1b[2Kepoch ${event.epoch}/${event.epochs}  validating…`);
        drawn = true;
        return;
      case "epochEnd":
        clear();
        stream.write(`${formatEpochLine(event.logs, event.epochs)}\n`);
        return;
      case "trainEnd":
        clear();
        if (event.reason !== "completed" && event.message) stream.write(`stopped: ${event.message}\n`);
        return;
      default:
        return;
    }
  };
}
