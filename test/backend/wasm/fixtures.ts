// The PyTorch golden fixtures for the kernel tests, through the shared reader in test/helpers/fixtures.ts.

import { loadFixture, type FixtureCase as SharedCase } from "../../helpers/fixtures.js";

export { decode, type FixtureTensor } from "../../helpers/fixtures.js";

/** A fixture case whose attrs are always present (empty when the op has none). */
export type FixtureCase = SharedCase & { attrs: Record<string, unknown> };

export function loadFixtures(family: string): FixtureCase[] {
  return loadFixture(family).cases.map((c) => ({ ...c, attrs: c.attrs ?? {} }));
}
