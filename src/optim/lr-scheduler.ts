// Learning-rate schedules in torch.optim.lr_scheduler's shape: constructing a scheduler sets the lr for
// epoch 0, and each step() (after an epoch or a batch) moves to the next one. The multiplicative schedules
// use torch's recursive ("chainable") forms, which start from the optimizer's current lr, so several
// schedulers can act on one optimizer (ChainedScheduler) or take turns (SequentialLR). Each also has a
// closed form, used when SequentialLR restarts it at a milestone.

import { Optimizer, type BaseHyperparameters } from "./optimizer.js";
import { checkOptionKeys } from "../ops/util.js";

/** An optimizer of any kind, as schedulers see it: groups with an `lr`. */
export type AnyOptimizer = Optimizer<BaseHyperparameters, object>;

/** What every scheduler provides besides its step. */
export interface Scheduler {
  /** The lr of each parameter group as set by the last step (or the constructor). */
  getLastLr(): number[];
  /** The scheduler's state as a JSON-serialisable object (torch's `state_dict`), for checkpoints. */
  stateDict(): Record<string, unknown>;
  /** Restores a state from `stateDict()`; the optimizer's lr is set accordingly. */
  loadStateDict(state: Record<string, unknown>): void;
}

/** The saved state of an epoch-based scheduler (JSON-serialisable). */
export interface LRSchedulerState {
  lastEpoch: number;
  stepCount: number;
  baseLrs: number[];
  lastLr: number[];
  [key: string]: unknown;
}

/** Base of the epoch-based schedulers; subclasses give the recursive and the closed form of their lr. */
export abstract class LRScheduler implements Scheduler {
  readonly name: string;
  readonly optimizer: AnyOptimizer;
  /** Each group's lr before scheduling (torch's `base_lrs`, from the groups' `initialLr`). */
  baseLrs: number[];
  /** Index of the current epoch: 0 after construction, +1 per step. */
  lastEpoch = -1;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  protected constructor(name: string, optimizer: AnyOptimizer) {
    if (!(optimizer instanceof Optimizer))
      throw new Error(`${name}: expected an Optimizer, got ${String(optimizer)}`);
    this.name = name;
    this.optimizer = optimizer;
    for (const group of optimizer.paramGroups) group.initialLr ??= group.lr;
    this.baseLrs = optimizer.paramGroups.map((group) => group.initialLr!);
  }

  /** The lrs for `lastEpoch` computed from the groups' current lrs (torch's chainable `get_lr`). */
  protected abstract nextLr(): number[];

  /** The lrs at `epoch` computed from `baseLrs` alone. */
  abstract closedFormLr(epoch: number): number[];

  /** Subclasses call this at the end of their constructor, once their options are stored. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** Advances one epoch (or batch) and writes the new lr into every parameter group. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    this.setLrs(this.nextLr());
  }

  /** Starts the schedule again from epoch 0 (what SequentialLR does at a milestone, torch's `step(0)`). */
  restart(): void {
    this.stepCount++;
    this.lastEpoch = 0;
    this.setLrs(this.closedFormLr(0));
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): LRSchedulerState {
    return {
      lastEpoch: this.lastEpoch,
      stepCount: this.stepCount,
      baseLrs: [...this.baseLrs],
      lastLr: [...this.lastLr],
    };
  }

  /**
   * Restores a saved position in the schedule. Unlike torch it also writes the saved lr back into the
   * optimizer's groups, so it does not matter whether the optimizer's state was loaded first.
   */
  loadStateDict(state: Record<string, unknown>): void {
    const s = state as LRSchedulerState;
    const groups = this.optimizer.paramGroups.length;
    const lists = [s.baseLrs, s.lastLr];
    if (!Number.isInteger(s.lastEpoch) || lists.some((l) => !Array.isArray(l) || l.length !== groups)) {
      throw new Error(
        `${this.name}.loadStateDict: expected lastEpoch and baseLrs/lastLr for ${groups} parameter groups, got ${JSON.stringify(state)}`,
      );
    }
    this.lastEpoch = s.lastEpoch;
    this.stepCount = s.stepCount ?? 0;
    this.baseLrs = [...s.baseLrs];
    this.setLrs(s.lastLr);
  }

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((group) => group.lr);
  }

  protected setLrs(lrs: readonly number[]): void {
    lrs.forEach((lr, i) => {
      if (!Number.isFinite(lr)) {
        throw new Error(`${this.name}: computed lr ${lr} for param group ${i} at epoch ${this.lastEpoch}`);
      }
      this.optimizer.paramGroups[i].lr = lr;
    });
    this.lastLr = [...lrs];
  }
}

function checkPositiveInteger(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${String(value)}`);
  }
}

function checkPositive(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${where}: ${name} must be a finite number > 0, got ${String(value)}`);
  }
}

/** Options of `StepLR` (torch's `step_size` and `gamma`). */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Multiplicative decay (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies the lr by `gamma` every `stepSize` epochs: lr = base·gamma^⌊epoch/stepSize⌋ (torch's StepLR).
 * @example const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 }); // after each epoch: sched.step()
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    super("StepLR", optimizer);
    checkOptionKeys("StepLR", options, ["stepSize", "gamma"]);
    checkPositiveInteger("StepLR", "stepSize", options?.stepSize);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    checkPositive("StepLR", "gamma", this.gamma);
    this.initialStep();
  }

  protected nextLr(): number[] {
    const decay = this.lastEpoch !== 0 && this.lastEpoch % this.stepSize === 0;
    return this.groupLrs().map((lr) => (decay ? lr * this.gamma : lr));
  }

  closedFormLr(epoch: number): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(epoch / this.stepSize));
  }
}

/** Options of `MultiStepLR` (torch's `milestones` and `gamma`). */
export interface MultiStepLROptions {
  /** Epochs at which the lr is multiplied by gamma (a repeated milestone applies gamma again). */
  milestones: number[];
  /** Multiplicative decay (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies the lr by `gamma` at each milestone epoch (torch's MultiStepLR).
 * @example new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 });
 */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: MultiStepLROptions) {
    super("MultiStepLR", optimizer);
    checkOptionKeys("MultiStepLR", options, ["milestones", "gamma"]);
    if (!Array.isArray(options?.milestones))
      throw new Error("MultiStepLR: milestones must be an array of epochs");
    options.milestones.forEach((m, i) => checkPositiveInteger("MultiStepLR", `milestones[${i}]`, m));
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    checkPositive("MultiStepLR", "gamma", this.gamma);
    this.initialStep();
  }

  protected nextLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    return this.groupLrs().map((lr) => lr * this.gamma ** hits);
  }

  closedFormLr(epoch: number): number[] {
    const passed = this.milestones.filter((m) => m <= epoch).length;
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }
}

/** Options of `ExponentialLR` (torch's `gamma`). */
export interface ExponentialLROptions {
  /** Multiplicative decay per epoch. */
  gamma: number;
}

/**
 * Multiplies the lr by `gamma` every epoch: lr = base·gamma^epoch (torch's ExponentialLR).
 * @example new ExponentialLR(opt, { gamma: 0.95 });
 */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: ExponentialLROptions) {
    super("ExponentialLR", optimizer);
    checkOptionKeys("ExponentialLR", options, ["gamma"]);
    checkPositive("ExponentialLR", "gamma", options?.gamma);
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected nextLr(): number[] {
    return this.groupLrs().map((lr) => (this.lastEpoch === 0 ? lr : lr * this.gamma));
  }

  closedFormLr(epoch: number): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** epoch);
  }
}

/** Options of `CosineAnnealingLR` (torch's `T_max` and `eta_min`). */
export interface CosineAnnealingLROptions {
  /** Epochs from the base lr down to etaMin. */
  tMax: number;
  /** Lowest lr (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing from the base lr to `etaMin` over `tMax` epochs: lr = etaMin + (base − etaMin)·(1 +
 * cos(π·epoch/tMax))/2, in torch's recursive form. Past tMax it keeps following the cosine (rising again),
 * as torch's CosineAnnealingLR does; it has no warm restarts.
 * @example new CosineAnnealingLR(opt, { tMax: 100 });
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    super("CosineAnnealingLR", optimizer);
    checkOptionKeys("CosineAnnealingLR", options, ["tMax", "etaMin"]);
    checkPositiveInteger("CosineAnnealingLR", "tMax", options?.tMax);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    if (!Number.isFinite(this.etaMin) || this.etaMin < 0) {
      throw new Error(`CosineAnnealingLR: etaMin must be a finite number >= 0, got ${this.etaMin}`);
    }
    this.initialStep();
  }

  protected nextLr(): number[] {
    const { lastEpoch: e, tMax: t, etaMin } = this;
    const lrs = this.groupLrs();
    if (e === 0) return lrs;
    // At the bottom of the cosine the ratio below would divide by zero; torch steps up by the first increment.
    if ((e - 1 - t) % (2 * t) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / t))) / 2);
    }
    const ratio = (1 + Math.cos((Math.PI * e) / t)) / (1 + Math.cos((Math.PI * (e - 1)) / t));
    return lrs.map((lr) => ratio * (lr - etaMin) + etaMin);
  }

  closedFormLr(epoch: number): number[] {
    const cos = (1 + Math.cos((Math.PI * epoch) / this.tMax)) / 2;
    return this.baseLrs.map((base) => this.etaMin + (base - this.etaMin) * cos);
  }
}

/** Options of `LinearWarmup` (torch's LinearLR: `total_iters`, `start_factor`, `end_factor`). */
export interface LinearWarmupOptions {
  /** Epochs (or batches) of the ramp. */
  warmupSteps: number;
  /** Fraction of the base lr at step 0 (default 1/3, as torch's LinearLR). */
  startFactor?: number;
  /** Fraction of the base lr reached after warmupSteps (default 1). */
  endFactor?: number;
}

/**
 * Linear warmup: the lr ramps from startFactor·base to endFactor·base over `warmupSteps` steps and then is
 * left alone, so another schedule can take over (torch's LinearLR). Combine with SequentialLR (hand over at a
 * milestone) or ChainedScheduler (multiply with another schedule).
 * @example
 * const warmup = new LinearWarmup(opt, { warmupSteps: 5, startFactor: 0.1 });
 * const cosine = new CosineAnnealingLR(opt, { tMax: 95 });
 * const sched = new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [5] });
 */
export class LinearWarmup extends LRScheduler {
  readonly warmupSteps: number;
  readonly startFactor: number;
  readonly endFactor: number;

  constructor(optimizer: AnyOptimizer, options: LinearWarmupOptions) {
    super("LinearWarmup", optimizer);
    checkOptionKeys("LinearWarmup", options, ["warmupSteps", "startFactor", "endFactor"]);
    checkPositiveInteger("LinearWarmup", "warmupSteps", options?.warmupSteps);
    this.warmupSteps = options.warmupSteps;
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    if (!(this.startFactor > 0 && this.startFactor <= 1)) {
      throw new Error(`LinearWarmup: startFactor must be in (0, 1], got ${this.startFactor}`);
    }
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) {
      throw new Error(`LinearWarmup: endFactor must be in [0, 1], got ${this.endFactor}`);
    }
    this.initialStep();
  }

  protected nextLr(): number[] {
    const { lastEpoch: e, warmupSteps: n, startFactor: s, endFactor: f } = this;
    const lrs = this.groupLrs();
    if (e === 0) return lrs.map((lr) => lr * s);
    if (e > n) return lrs;
    return lrs.map((lr) => lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }

  closedFormLr(epoch: number): number[] {
    const { warmupSteps: n, startFactor: s, endFactor: f } = this;
    return this.baseLrs.map((base) => base * (s + ((f - s) * Math.min(n, epoch)) / n));
  }
}

/** Options of `SequentialLR` (torch's `schedulers` and `milestones`). */
export interface SequentialLROptions {
  /** The schedules, in the order they run; all on the same optimizer. */
  schedulers: LRScheduler[];
  /** Epochs at which the next schedule takes over (one fewer than schedulers, increasing). */
  milestones: number[];
}

/**
 * Runs schedules one after another: schedulers[i] is in charge from milestones[i−1] on and is restarted
 * from its epoch 0 when it takes over (torch's SequentialLR).
 * @example new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [5] });
 */
export class SequentialLR implements Scheduler {
  readonly optimizer: AnyOptimizer;
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: AnyOptimizer, options: SequentialLROptions) {
    checkOptionKeys("SequentialLR", options, ["schedulers", "milestones"]);
    const { schedulers, milestones } = options ?? {};
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new Error("SequentialLR: schedulers must be a non-empty array");
    }
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new Error(
        `SequentialLR: expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${JSON.stringify(milestones)}`,
      );
    }
    milestones.forEach((m, i) => {
      checkPositiveInteger("SequentialLR", `milestones[${i}]`, m);
      if (i > 0 && m <= milestones[i - 1])
        throw new Error(`SequentialLR: milestones must increase, got ${milestones}`);
    });
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new Error(`SequentialLR: schedulers[${i}] (${s.name}) is attached to a different optimizer`);
      }
    });
    this.optimizer = optimizer;
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    // Each scheduler's constructor already changed the lr; start over from the unscheduled lr.
    for (const group of optimizer.paramGroups) group.lr = group.initialLr ?? group.lr;
    schedulers[0].restart();
    this.lastLr = schedulers[0].getLastLr();
  }

  /**
   * Advances one epoch: the schedule in charge steps, or the next one takes over (restarted) at a milestone.
   */
  step(): void {
    this.lastEpoch++;
    const index = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const scheduler = this.schedulers[index];
    if (index > 0 && this.milestones[index - 1] === this.lastEpoch) scheduler.restart();
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    return {
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(state: Record<string, unknown>): void {
    const saved = state.schedulers as Record<string, unknown>[];
    if (!Array.isArray(saved) || saved.length !== this.schedulers.length) {
      throw new Error(`SequentialLR.loadStateDict: expected state for ${this.schedulers.length} schedulers`);
    }
    saved.forEach((s, i) => this.schedulers[i].loadStateDict(s));
    this.lastEpoch = state.lastEpoch as number;
    this.lastLr = [...(state.lastLr as number[])];
    this.lastLr.forEach((lr, i) => (this.optimizer.paramGroups[i].lr = lr));
  }
}

/**
 * Steps several schedules together, so their factors multiply (torch's ChainedScheduler), e.g. a linear
 * warmup on top of an exponential decay.
 * @example const sched = new ChainedScheduler([new LinearWarmup(opt, { warmupSteps: 3 }), new ExponentialLR(opt, { gamma: 0.9 })]);
 */
export class ChainedScheduler implements Scheduler {
  readonly optimizer: AnyOptimizer;
  readonly schedulers: LRScheduler[];
  private lastLr: number[];

  constructor(schedulers: LRScheduler[]) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new Error("ChainedScheduler: schedulers must be a non-empty array");
    }
    this.optimizer = schedulers[0].optimizer;
    schedulers.forEach((s, i) => {
      if (s.optimizer !== this.optimizer) {
        throw new Error(
          `ChainedScheduler: schedulers[${i}] (${s.name}) is attached to a different optimizer`,
        );
      }
    });
    this.schedulers = [...schedulers];
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Steps every scheduler in order, each multiplying the lr it finds. */
  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    return { lastLr: [...this.lastLr], schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(state: Record<string, unknown>): void {
    const saved = state.schedulers as Record<string, unknown>[];
    if (!Array.isArray(saved) || saved.length !== this.schedulers.length) {
      throw new Error(
        `ChainedScheduler.loadStateDict: expected state for ${this.schedulers.length} schedulers`,
      );
    }
    saved.forEach((s, i) => this.schedulers[i].loadStateDict(s));
    this.lastLr = [...(state.lastLr as number[])];
    this.lastLr.forEach((lr, i) => (this.optimizer.paramGroups[i].lr = lr));
  }
}
