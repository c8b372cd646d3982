// Test helpers that edit a saved checkpoint's files in place the way a user, a bug or a disk could: find the
// current generation's files, replace one, and optionally re-seal the digests (pointer → config.json →
// files) so that the edit reaches field validation instead of being caught as damage.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const sha = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Path of `name` in the current generation of checkpoint `dir`. */
export function generationFile(dir: string, name: string): string {
  const pointer = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8")) as { generation: string };
  return join(dir, pointer.generation, name);
}

/** Rewrites the digests of checkpoint `dir` so that its current files, as they are now, verify. */
export function reseal(dir: string): void {
  const configPath = generationFile(dir, "config.json");
  let configText = readFileSync(configPath, "utf8");
  try {
    const config = JSON.parse(configText) as { checksums?: Record<string, string> };
    if (config && typeof config === "object" && config.checksums && typeof config.checksums === "object") {
      const location = join(configPath, "..");
      const present = new Set(readdirSync(location));
      // Replace the digests in the text: parsing and printing it again would alter other values (1e999).
      for (const [name, old] of Object.entries(config.checksums))
        if (present.has(name)) configText = configText.replace(old, sha(readFileSync(join(location, name))));
      writeFileSync(configPath, configText);
    }
  } catch {
    // A config.json that is no longer JSON keeps its bytes; only the pointer is re-sealed.
  }
  const pointerPath = join(dir, "checkpoint.json");
  const pointer = JSON.parse(readFileSync(pointerPath, "utf8")) as Record<string, unknown>;
  pointer.config = sha(readFileSync(configPath));
  writeFileSync(pointerPath, JSON.stringify(pointer));
}

/**
 * Applies `edit` to the parsed JSON file `name` of checkpoint `dir`, then re-seals the digests. A string
 * "raw:TEXT" is written as the bare JSON text TEXT (e.g. "raw:1e999", which JSON.stringify cannot make).
 */
export function editJson(dir: string, name: string, edit: (value: Record<string, unknown>) => void): void {
  const path = generationFile(dir, name);
  const value = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(value);
  writeFileSync(path, JSON.stringify(value).replace(/"raw:([^"]*)"/g, "$1"));
  reseal(dir);
}
