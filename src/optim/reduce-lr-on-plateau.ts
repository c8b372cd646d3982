// ReduceLROnPlateau: lowers the lr when a monitored metric (validation loss, accuracy) stops improving, with
// torch's patience, threshold and cooldown rules. Unlike the epoch schedules its step takes the metric.

import { Optimizer } from "./optimizer.js";
import { checkOptionKeys } from "../ops/util.js";
import type { AnyOptimizer, Scheduler } from "./lr-scheduler.js";

/** Options of `ReduceLROnPlateau` (torch's keyword arguments, camelCase, same defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower is better, e.g. a loss; 'max': higher is better, e.g. accuracy. */
  mode?: "min" | "max";
  /** lr ← lr·factor on a plateau (default 0.1; must be < 1). */
  factor?: number;
  /** Bad epochs tolerated; the lr drops on the (patience+1)-th in a row (default 10). */
  patience?: number;
  /** Minimum change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold. */
  thresholdMode?: "rel" | "abs";
  /** Epochs after a reduction during which bad epochs are not counted (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** The saved state of ReduceLROnPlateau (JSON-serialisable; `best` is null while it is ±Infinity). */
export interface ReduceLROnPlateauState {
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
  lastLr: number[];
  [key: string]: unknown;
}

/**
 * Reduces the lr by `factor` once the metric has not improved for more than `patience` epochs
 * (torch.optim.lr_scheduler.ReduceLROnPlateau).
 * @example
 * const sched = new ReduceLROnPlateau(opt, { mode: "min", factor: 0.5, patience: 3 });
 * // after each epoch: sched.step(validationLoss);
 */
export class ReduceLROnPlateau implements Scheduler {
  readonly optimizer: AnyOptimizer;
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const where = "ReduceLROnPlateau";
    checkOptionKeys(where, options, [
      "mode",
      "factor",
      "patience",
      "threshold",
      "thresholdMode",
      "cooldown",
      "minLr",
      "eps",
    ]);
    if (!(optimizer instanceof Optimizer))
      throw new Error(`${where}: expected an Optimizer, got ${String(optimizer)}`);
    this.optimizer = optimizer;
    this.mode = options.mode ?? "min";
    if (this.mode !== "min" && this.mode !== "max")
      throw new Error(`${where}: mode must be 'min' or 'max', got ${String(this.mode)}`);
    this.thresholdMode = options.thresholdMode ?? "rel";
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs") {
      throw new Error(`${where}: thresholdMode must be 'rel' or 'abs', got ${String(this.thresholdMode)}`);
    }
    this.factor = options.factor ?? 0.1;
    if (!(this.factor >= 0 && this.factor < 1))
      throw new Error(`${where}: factor must be in [0, 1), got ${this.factor}`);
    this.patience = options.patience ?? 10;
    this.cooldown = options.cooldown ?? 0;
    for (const [name, value] of [
      ["patience", this.patience],
      ["cooldown", this.cooldown],
    ] as const) {
      if (!Number.isInteger(value) || value < 0)
        throw new Error(`${where}: ${name} must be an integer >= 0, got ${value}`);
    }
    this.threshold = options.threshold ?? 1e-4;
    this.eps = options.eps ?? 1e-8;
    for (const [name, value] of [
      ["threshold", this.threshold],
      ["eps", this.eps],
    ] as const) {
      if (!Number.isFinite(value) || value < 0)
        throw new Error(`${where}: ${name} must be a finite number >= 0, got ${value}`);
    }
    const groups = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array.from({ length: groups }, () => minLr);
    if (this.minLrs.length !== groups) {
      throw new Error(`${where}: minLr has ${this.minLrs.length} values for ${groups} parameter groups`);
    }
    if (this.minLrs.some((v) => !Number.isFinite(v) || v < 0)) {
      throw new Error(`${where}: minLr must be finite numbers >= 0, got ${JSON.stringify(minLr)}`);
    }
    this.best = this.worst();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Records one epoch's metric and lowers the lr if it has plateaued. */
  step(metric: number): void {
    if (typeof metric !== "number" || Number.isNaN(metric)) {
      throw new Error(
        `ReduceLROnPlateau.step: metric must be a number, got ${String(metric)} (did the loss diverge?)`,
      );
    }
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** True during the `cooldown` epochs after a reduction. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): ReduceLROnPlateauState {
    return {
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
    };
  }

  loadStateDict(state: Record<string, unknown>): void {
    const s = state as unknown as ReduceLROnPlateauState;
    if (!Array.isArray(s.lastLr) || s.lastLr.length !== this.optimizer.paramGroups.length) {
      throw new Error(
        `ReduceLROnPlateau.loadStateDict: expected lastLr for ${this.optimizer.paramGroups.length} parameter groups`,
      );
    }
    this.best = s.best ?? this.worst();
    this.numBadEpochs = s.numBadEpochs;
    this.cooldownCounter = s.cooldownCounter;
    this.lastEpoch = s.lastEpoch;
    this.lastLr = [...s.lastLr];
    this.lastLr.forEach((lr, i) => (this.optimizer.paramGroups[i].lr = lr));
  }

  private worst(): number {
    return this.mode === "min" ? Infinity : -Infinity;
  }

  private isBetter(metric: number): boolean {
    const { best, threshold } = this;
    if (this.mode === "min") {
      return this.thresholdMode === "rel" ? metric < best * (1 - threshold) : metric < best - threshold;
    }
    return this.thresholdMode === "rel" ? metric > best * (1 + threshold) : metric > best + threshold;
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const lr = Math.max(group.lr * this.factor, this.minLrs[i]);
      if (group.lr - lr > this.eps) group.lr = lr;
    });
  }
}
