// Seedable random numbers, so that initialisation, dropout and shuffling are reproducible (`manualSeed`).
// xoshiro128** gives 32-bit uniforms; normals use Box–Muller on pairs of uniforms.

/**
 * A seedable random generator (xoshiro128**, normals by Box–Muller): `torch.Generator`. The global one
 * (`globalRng`, seeded by `manualSeed`) drives initialisation, dropout, `rand`/`randn` and shuffling; pass
 * your own as `rng` for an independent stream.
 * @example const rng = new Rng(42); const u = rng.uniform();
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed = 0x5eed) {
    this.seed(seed);
  }

  /** Resets the generator to the state `seed` (a 32-bit integer) determines. */
  seed(seed: number): void {
    checkSeed("Rng.seed", seed);
    // splitmix32 expands one seed into the four words of state, avoiding the all-zero state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // Seeds beyond 32 bits (torch takes 64-bit seeds) mix their high word in, so 1 and 2^32 + 1 differ; seeds
    // below 2^32 keep the state they always had.
    const high = Math.floor(Math.abs(seed) / 2 ** 32);
    if (high !== 0) {
      x = (seed < 0 ? high ^ 0x80000000 : high) >>> 0;
      this.s1 ^= next();
      this.s3 ^= next();
    }
    this.spareNormal = null;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher–Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * Saves the generator state, e.g. into a checkpoint: the four state words, then the cached second normal
   * of a Box–Muller pair (null when none), so a restored generator continues mid-pair exactly.
   */
  getState(): (number | null)[] {
    return [this.s0, this.s1, this.s2, this.s3, this.spareNormal];
  }

  /**
   * Restores a state from `getState()` (checkpoints save the global one, so resuming replays the same random
   * numbers).
   */
  setState(state: readonly (number | null)[]): void {
    if (state.length < 4 || state.slice(0, 4).some((v) => typeof v !== "number")) {
      throw new Error(
        `Rng.setState: expected 4 state words and an optional spare normal, got ${JSON.stringify(state)}`,
      );
    }
    [this.s0, this.s1, this.s2, this.s3] = state.slice(0, 4).map((v) => (v as number) >>> 0);
    this.spareNormal = typeof state[4] === "number" ? state[4] : null;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The library-wide generator used when no generator is passed. */
export const globalRng = new Rng();

/**
 * Seeds the global generator (like `torch.manual_seed`). The seed must be an integer that a double represents
 * exactly (|seed| <= 2^53 - 1): NaN, fractions and larger numbers would silently alias other seeds.
 */
export function manualSeed(seed: number): void {
  checkSeed("manualSeed", seed);
  globalRng.seed(seed);
}

function checkSeed(op: string, seed: unknown): void {
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    throw new Error(`${op}: seed must be an integer with |seed| <= 2^53 - 1, got ${String(seed)}`);
  }
}
