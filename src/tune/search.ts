// Hyperparameter search strategies over a Space: random search, grid search, coarse-to-fine refinement
// and successive halving (start many trials on a small budget, keep the best 1/eta, give them eta times
// more). Trials run `concurrency` at a time: an objective that trains in a worker (striate/node's
// workerObjective) makes them run in parallel. Browser-safe.

import { Rng } from "../tensor/rng.js";
import { type Config, type Space, gridConfigs, refineSpace, sampleConfig } from "./space.js";

/** What an objective learns about the trial it evaluates. */
export interface TrialContext {
  /** Trial number, from 0. */
  trial: number;
  /** Budget to spend (e.g. epochs); 1 unless the strategy varies it (successive halving). */
  budget: number;
  /** A seed derived from the search's seed and the trial number, for the trial's own randomness. */
  seed: number;
}

/** Scores a configuration (e.g. validation accuracy after `budget` epochs). NaN or a throw fails it. */
export type Objective<S extends Space> = (
  config: Config<S>,
  context: TrialContext,
) => number | Promise<number>;

/**
 * One evaluated configuration: its index, config, budget, score (NaN when it failed), status and error, and
 * its round or rung.
 */
export interface Trial<S extends Space = Space> {
  trial: number;
  config: Config<S>;
  budget: number;
  /** The objective's value (NaN for a failed trial). */
  score: number;
  status: "done" | "failed";
  /** Why it failed. */
  error?: string;
  /** Search round (coarse-to-fine) or rung (successive halving), from 0. */
  round: number;
}

/** Options of every search strategy. */
export interface SearchOptions {
  /** Whether larger scores are better ("max", e.g. accuracy) or smaller ("min", e.g. loss). */
  mode: "max" | "min";
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Trials evaluated at the same time (default 1). */
  concurrency?: number;
  /** Called after each trial (e.g. to print or save it). */
  onTrial?: (trial: Trial) => void;
}

/** Every trial of a search, with the best one and tabular exports. */
export class TuneResult<S extends Space = Space> {
  constructor(
    readonly trials: Trial<S>[],
    readonly mode: "max" | "min",
  ) {}

  /** Successful trials from best to worst (at the largest budget first, for successive halving). */
  ranked(): Trial<S>[] {
    const sign = this.mode === "max" ? -1 : 1;
    return this.trials
      .filter((t) => t.status === "done")
      .sort((a, b) => b.budget - a.budget || sign * (a.score - b.score) || a.trial - b.trial);
  }

  /**
   * The trial with the best score by `mode`; failed trials never count (an error when every trial failed).
   */
  get best(): Trial<S> {
    const [first] = this.ranked();
    if (!first)
      throw new Error(`tune: all ${this.trials.length} trials failed; first error: ${this.trials[0]?.error}`);
    return first;
  }

  /** One JSON object per line: trial, round, budget, status, score, error and the config's values. */
  toJSONL(): string {
    return this.trials.map((t) => JSON.stringify(t)).join("\n") + "\n";
  }

  /** A CSV table with one column per hyperparameter. */
  toCSV(): string {
    const names = [...new Set(this.trials.flatMap((t) => Object.keys(t.config)))];
    const cell = (v: unknown) => {
      const s = v === undefined ? "" : String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const header = ["trial", "round", "budget", "status", "score", ...names, "error"];
    const rows = this.trials.map((t) =>
      [
        t.trial,
        t.round,
        t.budget,
        t.status,
        t.score,
        ...names.map((n) => (t.config as Record<string, unknown>)[n]),
        t.error,
      ]
        .map(cell)
        .join(","),
    );
    return [header.join(","), ...rows].join("\n") + "\n";
  }
}

function checkSearch(name: string, options: SearchOptions, counts: Record<string, number>): void {
  if (options.mode !== "max" && options.mode !== "min")
    throw new Error(`${name}: mode must be 'max' or 'min', got '${String(options.mode)}'`);
  for (const [key, v] of Object.entries({ ...counts, concurrency: options.concurrency ?? 1 }))
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`${name}: ${key} must be a positive integer, got ${v}`);
}

/** Runs jobs with at most `limit` in flight, keeping their order in the result. */
async function runLimited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  return results;
}

/** Evaluates configurations as trials numbered from `first`. */
async function evaluate<S extends Space>(
  objective: Objective<S>,
  configs: Config<S>[],
  meta: { first: number; budget: number; round: number; seed: number },
  options: SearchOptions,
): Promise<Trial<S>[]> {
  const jobs = configs.map((config, k) => async (): Promise<Trial<S>> => {
    const trial = meta.first + k;
    const base = { trial, config, budget: meta.budget, round: meta.round };
    let result: Trial<S>;
    try {
      const score = await objective(config, {
        trial,
        budget: meta.budget,
        seed: meta.seed * 100_003 + trial,
      });
      result = Number.isFinite(score)
        ? { ...base, score, status: "done" }
        : { ...base, score: NaN, status: "failed", error: `the objective returned ${score}` };
    } catch (e) {
      result = { ...base, score: NaN, status: "failed", error: e instanceof Error ? e.message : String(e) };
    }
    options.onTrial?.(result as Trial);
    return result;
  });
  return runLimited(jobs, options.concurrency ?? 1);
}

/**
 * Random search (Bergstra & Bengio 2012): `trials` independent random configurations.
 * @example
 * const result = await randomSearch((c) => trainAndValidate(c.lr), { lr: logUniform(1e-4, 1) }, { trials: 20, mode: "max" });
 * result.best.config.lr
 */
export async function randomSearch<S extends Space>(
  objective: Objective<S>,
  space: S,
  options: SearchOptions & { trials: number; budget?: number },
): Promise<TuneResult<S>> {
  checkSearch("randomSearch", options, { trials: options.trials });
  const seed = options.seed ?? 0;
  const rng = new Rng(seed);
  const configs = Array.from({ length: options.trials }, () => sampleConfig(space, rng));
  const budget = options.budget ?? 1;
  return new TuneResult(
    await evaluate(objective, configs, { first: 0, budget, round: 0, seed }, options),
    options.mode,
  );
}

/** Grid search: every combination of `points` values per numeric dimension (log-spaced on log scales). */
export async function gridSearch<S extends Space>(
  objective: Objective<S>,
  space: S,
  options: SearchOptions & { points: number; budget?: number },
): Promise<TuneResult<S>> {
  checkSearch("gridSearch", options, { points: options.points });
  const configs = gridConfigs(space, options.points);
  const meta = { first: 0, budget: options.budget ?? 1, round: 0, seed: options.seed ?? 0 };
  return new TuneResult(await evaluate(objective, configs, meta, options), options.mode);
}

/**
 * Coarse-to-fine random search: each round samples `trialsPerRound` configurations, then the next round
 * searches the space narrowed around the round's `keep` best (refineSpace with `margin`).
 */
export async function coarseToFine<S extends Space>(
  objective: Objective<S>,
  space: S,
  options: SearchOptions & {
    rounds: number;
    trialsPerRound: number;
    keep?: number;
    margin?: number;
    budget?: number;
  },
): Promise<TuneResult<S>> {
  const keep = options.keep ?? 3;
  checkSearch("coarseToFine", options, {
    rounds: options.rounds,
    trialsPerRound: options.trialsPerRound,
    keep,
  });
  const seed = options.seed ?? 0;
  const rng = new Rng(seed);
  const trials: Trial<S>[] = [];
  let current = space;
  for (let round = 0; round < options.rounds; round++) {
    const configs = Array.from({ length: options.trialsPerRound }, () => sampleConfig(current, rng));
    const meta = { first: trials.length, budget: options.budget ?? 1, round, seed };
    const done = await evaluate(objective, configs, meta, options);
    trials.push(...done);
    const best = new TuneResult(done, options.mode).ranked().slice(0, keep);
    if (best.length === 0) break;
    current = refineSpace(
      current,
      best.map((t) => t.config),
      options.margin ?? 0.1,
    );
  }
  return new TuneResult(trials, options.mode);
}

/**
 * Successive halving (Jamieson & Talwalkar 2016; the rungs of Hyperband): `trials` random configurations
 * run at `minBudget`; the best 1/eta go on with eta times the budget, until `maxBudget`. Bad trials stop
 * early, so most of the budget goes to promising ones.
 */
export async function successiveHalving<S extends Space>(
  objective: Objective<S>,
  space: S,
  options: SearchOptions & { trials: number; minBudget: number; maxBudget: number; eta?: number },
): Promise<TuneResult<S>> {
  const eta = options.eta ?? 3;
  checkSearch("successiveHalving", options, { trials: options.trials });
  if (!(options.minBudget > 0 && options.maxBudget >= options.minBudget && eta >= 2))
    throw new Error(
      `successiveHalving: need 0 < minBudget <= maxBudget and eta >= 2, got ${options.minBudget}, ${options.maxBudget}, ${eta}`,
    );
  const seed = options.seed ?? 0;
  const rng = new Rng(seed);
  let configs = Array.from({ length: options.trials }, () => sampleConfig(space, rng));
  const trials: Trial<S>[] = [];
  for (
    let rung = 0, budget = options.minBudget;
    configs.length > 0;
    rung++, budget = Math.min(options.maxBudget, budget * eta)
  ) {
    const done = await evaluate(
      objective,
      configs,
      { first: trials.length, budget, round: rung, seed },
      options,
    );
    trials.push(...done);
    if (budget >= options.maxBudget) break;
    const survivors = Math.max(1, Math.floor(configs.length / eta));
    configs = new TuneResult(done, options.mode)
      .ranked()
      .slice(0, survivors)
      .map((t) => t.config);
  }
  return new TuneResult(trials, options.mode);
}
