// fit()'s progress on a terminal (Node): a live cli-progress bar on a TTY (epoch, batch, loss, accuracy,
// images/s, ETA), and one plain line per epoch when the output is not a TTY (CI, pipes).

import cliProgress from "cli-progress";
import type { ProgressEvent, ProgressListener } from "../train/progress.js";
import { formatDuration, formatEpochLine } from "../train/progress.js";

/** Options of `createProgressReporter`. */
export interface ProgressOptions {
  /** Where to write (default process.stdout). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force the live bar on or off (default: on when the stream is a TTY). */
  tty?: boolean;
  /** Minimum milliseconds between redraws of the bar (default 100). */
  intervalMs?: number;
}

interface BarFields {
  epoch: string;
  loss: string;
  acc: string;
  speed: string;
  remaining: string;
}

// ETA comes from fit() (as `remaining`: cli-progress reserves `eta`) (it knows the epochs still to run), not from cli-progress's per-bar estimate.
const FORMAT = "epoch {epoch}  {bar} {value}/{total}  loss {loss}  acc {acc}  {speed}  ETA {remaining}";

/**
 * A progress listener for fit()'s onProgress.
 * @example await fit(model, { …, onProgress: createProgressReporter() })
 */
export function createProgressReporter(options: ProgressOptions = {}): ProgressListener {
  const stream = options.stream ?? process.stdout;
  const tty = options.tty ?? Boolean(stream.isTTY);
  let bar: cliProgress.SingleBar | null = null;

  const stopBar = () => {
    bar?.stop();
    bar = null;
  };

  return (event: ProgressEvent) => {
    switch (event.type) {
      case "batch": {
        if (!tty) return;
        const fields: BarFields = {
          epoch: `${event.epoch}/${event.epochs}`,
          loss: event.loss.toFixed(4),
          acc: `${(100 * event.accuracy).toFixed(2)}%`,
          speed: `${Math.round(event.imagesPerSec)} img/s`,
          remaining: event.etaSec === undefined ? "?" : formatDuration(event.etaSec),
        };
        if (!bar) {
          bar = new cliProgress.SingleBar({
            stream: stream as NodeJS.WritableStream,
            format: FORMAT,
            barsize: 24,
            barCompleteChar: "=",
            barIncompleteChar: " ",
            hideCursor: false,
            clearOnComplete: true,
            noTTYOutput: false,
            fps: 1000 / Math.max(1, options.intervalMs ?? 100),
            // fit() yields to the event loop after every batch; redraw on update instead of on a timer.
            synchronousUpdate: true,
          });
          bar.start(event.batchesPerEpoch ?? event.batch, event.batch, fields);
        } else {
          if (event.batchesPerEpoch !== undefined) bar.setTotal(event.batchesPerEpoch);
          bar.update(event.batch, fields);
        }
        return;
      }
      case "validationBegin":
        if (bar) bar.update({ remaining: "validating…" });
        return;
      case "epochEnd":
        stopBar();
        stream.write(`${formatEpochLine(event.logs, event.epochs)}\n`);
        return;
      case "trainEnd":
        stopBar();
        // A non-finite loss or weights makes fit reject with an error carrying the same message, which
        // its caller reports (the CLI prints it): saying it here too would print it twice.
        if (event.reason !== "completed" && !event.reason.startsWith("non-finite") && event.message)
          stream.write(`stopped: ${event.message}\n`);
        return;
      default:
        return;
    }
  };
}
