// Search spaces for hyperparameters: each dimension is uniform, log-uniform, an integer range or a choice.
// The notes' advice is built in: sample learning rates and regularisation strengths on a log scale,
// prefer random over grid points (every trial tries a new value of every dimension), and search coarse
// to fine (refine() narrows a space around the best configurations found so far).

import { Rng } from "../tensor/rng.js";

/** A real dimension uniform on [low, high] (`uniform(low, high)`). */
export interface UniformDimension {
  kind: "uniform";
  low: number;
  high: number;
}
/**
 * A positive real dimension uniform in log space on [low, high] (`logUniform(low, high)`), for learning rates
 * and regularisation strengths.
 */
export interface LogUniformDimension {
  kind: "logUniform";
  low: number;
  high: number;
}
/** An integer dimension on [low, high], optionally log-uniform (`intRange(low, high, { log })`). */
export interface IntDimension {
  kind: "int";
  low: number;
  high: number;
  log: boolean;
}
/** A choice among `values` (`choice([...])`). */
export interface ChoiceDimension<V extends string | number | boolean = string | number | boolean> {
  kind: "choice";
  values: readonly V[];
}
/** One dimension of a search space. */
export type Dimension = UniformDimension | LogUniformDimension | IntDimension | ChoiceDimension;

/** Named dimensions, e.g. `{ lr: logUniform(1e-4, 1e-1), batchSize: choice([32, 64, 128]) }`. */
export type Space = Record<string, Dimension>;

/** The value type of one dimension. */
export type ValueOf<D extends Dimension> = D extends { kind: "choice"; values: readonly (infer V)[] }
  ? V
  : number;

/** One point of a space: a value per dimension. */
export type Config<S extends Space> = { [K in keyof S]: ValueOf<S[K]> };

function checkRange(kind: string, low: number, high: number): void {
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high))
    throw new Error(`${kind}: need finite low <= high, got [${low}, ${high}]`);
}

/** A real value drawn uniformly from [low, high]. */
export function uniform(low: number, high: number): UniformDimension {
  checkRange("uniform", low, high);
  return { kind: "uniform", low, high };
}

/** A positive value whose logarithm is uniform in [log low, log high]: for learning rates, weight decay. */
export function logUniform(low: number, high: number): LogUniformDimension {
  checkRange("logUniform", low, high);
  if (!(low > 0)) throw new Error(`logUniform: low must be positive, got ${low}`);
  return { kind: "logUniform", low, high };
}

/** An integer in [low, high] (both included), uniform or on a log scale. */
export function intRange(low: number, high: number, options: { log?: boolean } = {}): IntDimension {
  checkRange("intRange", low, high);
  if (!Number.isInteger(low) || !Number.isInteger(high))
    throw new Error(`intRange: low and high must be integers, got [${low}, ${high}]`);
  if (options.log && !(low > 0)) throw new Error(`intRange: a log scale needs low > 0, got ${low}`);
  return { kind: "int", low, high, log: options.log ?? false };
}

/** One of the given values, each equally likely. */
export function choice<const V extends string | number | boolean>(values: readonly V[]): ChoiceDimension<V> {
  if (values.length === 0) throw new Error("choice: needs at least one value");
  return { kind: "choice", values: [...values] };
}

/** A value of `d` at position u in [0, 1) of its scale (linear or logarithmic). */
function valueAt(d: Dimension, u: number): string | number | boolean {
  switch (d.kind) {
    case "uniform":
      return d.low + u * (d.high - d.low);
    case "logUniform":
      return Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low)));
    case "int": {
      if (!d.log) return Math.min(d.high, d.low + Math.floor(u * (d.high - d.low + 1)));
      const v = Math.exp(Math.log(d.low) + u * (Math.log(d.high + 1) - Math.log(d.low)));
      return Math.min(d.high, Math.floor(v));
    }
    case "choice":
      return d.values[Math.min(d.values.length - 1, Math.floor(u * d.values.length))];
  }
}

/** A random configuration of `space`. */
export function sampleConfig<S extends Space>(space: S, rng: Rng): Config<S> {
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(space)) out[name] = valueAt(d, rng.uniform());
  return out as Config<S>;
}

/** The values a grid visits on one dimension: `points` evenly spaced on its scale, ends included. */
function gridValues(d: Dimension, points: number): (string | number | boolean)[] {
  if (d.kind === "choice") return [...d.values];
  const raw = Array.from({ length: points }, (_, i) => (points === 1 ? 0.5 : i / (points - 1)));
  const values = raw.map((u) => {
    if (d.kind === "int") {
      const scaled = d.log
        ? Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low)))
        : d.low + u * (d.high - d.low);
      return Math.round(scaled);
    }
    return valueAt(d, u);
  });
  return [...new Set(values)];
}

/**
 * Every combination of `points` values per numeric dimension (log-spaced for log scales) and every value
 * of each choice, in row-major order (the last dimension varies fastest).
 */
export function gridConfigs<S extends Space>(space: S, points: number): Config<S>[] {
  if (!Number.isInteger(points) || points < 1)
    throw new Error(`grid: points must be a positive integer, got ${points}`);
  let configs: Record<string, unknown>[] = [{}];
  for (const [name, d] of Object.entries(space))
    configs = configs.flatMap((c) => gridValues(d, points).map((v) => ({ ...c, [name]: v })));
  return configs as Config<S>[];
}

/**
 * A narrower space around the best configurations (coarse-to-fine search): each numeric dimension keeps
 * the span of the best values widened by `margin` of the current range on its own scale (log for log
 * scales), clipped to the current range; a choice keeps the values the best configurations used.
 */
export function refineSpace<S extends Space>(space: S, best: readonly Config<S>[], margin = 0.1): S {
  if (best.length === 0) throw new Error("refineSpace: needs at least one configuration to refine around");
  const out: Record<string, Dimension> = {};
  for (const [name, d] of Object.entries(space)) {
    const values = best.map((c) => c[name as keyof S] as string | number | boolean);
    if (d.kind === "choice") {
      out[name] = { kind: "choice", values: d.values.filter((v) => values.includes(v)) };
      continue;
    }
    const log = d.kind === "logUniform" || (d.kind === "int" && d.log);
    const [to, from] = log ? [Math.log, Math.exp] : [(v: number) => v, (v: number) => v];
    const nums = values.map((v) => to(v as number));
    const [low, high] = [to(d.low), to(d.high)];
    const pad = margin * (high - low);
    const lo = from(Math.max(low, Math.min(...nums) - pad));
    const hi = from(Math.min(high, Math.max(...nums) + pad));
    out[name] =
      d.kind === "int"
        ? { kind: "int", low: Math.floor(lo), high: Math.max(Math.floor(lo), Math.ceil(hi)), log: d.log }
        : { kind: d.kind, low: lo, high: hi };
  }
  return out as S;
}
