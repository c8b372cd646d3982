// The backends the op suite runs against: every registered backend that computes values (not `meta`).

import { listBackends } from "../../src/index.js";

export function registerTestBackends(): void {}

export function computingBackends(): string[] {
  return listBackends().filter((name) => name !== "meta");
}
