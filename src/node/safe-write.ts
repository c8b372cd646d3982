// Writing output files (plots, history.csv/.jsonl) without ever writing through a path we did not create:
// the bytes go to a fresh temporary file in the target's directory (opened with O_CREAT|O_EXCL, which
// refuses an existing file or symlink), are flushed, and the temporary is renamed over the target. A
// symlink at the target is replaced by the new file, never followed, and a reader sees the old or the new
// contents, whole.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Replaces `path` with `data` atomically (temporary file + fsync + rename in the same directory), creating
 * the directory if needed. A symlink at `path` is replaced, not followed.
 * @example writeFileAtomic("runs/x/history.csv", "epoch,loss\n")
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.tmp-${randomBytes(4).toString("hex")}`);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fd = openSync(temp, "wx");
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
