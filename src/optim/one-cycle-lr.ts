// The one-cycle policy (Smith & Topin, "Super-Convergence"), as torch's OneCycleLR: the lr rises from
// maxLr/divFactor to maxLr and anneals to a far smaller final value, stepped once per batch, while the
// momentum (SGD's momentum, or Adam's beta1) moves the opposite way between maxMomentum and baseMomentum.

import { LRScheduler, type AnyOptimizer, type LRSchedulerState } from "./lr-scheduler.js";
import { checkOptionKeys } from "../ops/util.js";

/**
 * Options of `OneCycleLR` (torch.optim.lr_scheduler.OneCycleLR's, camelCase); `baseMomentum` (default 0.85)
 * and `maxMomentum` (default 0.95) bound the momentum cycle.
 */
export interface OneCycleLROptions {
  /** Peak lr, one for all groups or one per group. */
  maxLr: number | number[];
  /** Number of steps in the cycle (usually epochs × batches per epoch). */
  totalSteps: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear' interpolation within a phase. */
  annealStrategy?: "cos" | "linear";
  /** The starting lr is maxLr / divFactor (default 25). */
  divFactor?: number;
  /** The final lr is the starting lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Use fast.ai's three phases: up, back down to the start, then annihilate (default false). */
  threePhase?: boolean;
  /** Move momentum inversely to the lr (default true); needs an optimizer with momentum or betas. */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
}

type Anchor = "initial" | "max" | "min";
interface Phase {
  endStep: number;
  startLr: Anchor;
  endLr: Anchor;
  startMomentum: "base" | "max";
  endMomentum: "base" | "max";
}

interface GroupCycle {
  initial: number;
  max: number;
  min: number;
  baseMomentum: number;
  maxMomentum: number;
}

function perGroup(name: string, value: number | number[], groups: number): number[] {
  const values = Array.isArray(value) ? value : Array.from({ length: groups }, () => value);
  if (values.length !== groups) {
    throw new Error(`OneCycleLR: ${name} has ${values.length} values for ${groups} parameter groups`);
  }
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new Error(
        `OneCycleLR: ${name}${Array.isArray(value) ? `[${i}]` : ""} must be a finite number >= 0, got ${v}`,
      );
    }
  });
  return values;
}

/**
 * One-cycle lr (and momentum) schedule, stepped after every batch (torch's OneCycleLR). Stepping more
 * than totalSteps times is an error.
 * @example
 * const sched = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: epochs * batchesPerEpoch });
 * // in the batch loop: opt.step(); sched.step();
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly annealStrategy: "cos" | "linear";
  readonly cycleMomentum: boolean;
  private readonly phases: Phase[];
  private readonly cycles: GroupCycle[];
  /** Adam-like optimizers cycle betas[0]; SGD-like ones cycle momentum. */
  private readonly useBeta1: boolean;

  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    super("OneCycleLR", optimizer);
    checkOptionKeys("OneCycleLR", options, [
      "maxLr",
      "totalSteps",
      "pctStart",
      "annealStrategy",
      "divFactor",
      "finalDivFactor",
      "threePhase",
      "cycleMomentum",
      "baseMomentum",
      "maxMomentum",
    ]);
    const o = options ?? ({} as OneCycleLROptions);
    const groups = optimizer.paramGroups.length;
    if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1) {
      throw new Error(`OneCycleLR: totalSteps must be a positive integer, got ${o.totalSteps}`);
    }
    const pctStart = o.pctStart ?? 0.3;
    if (!(pctStart >= 0 && pctStart <= 1))
      throw new Error(`OneCycleLR: pctStart must be in [0, 1], got ${pctStart}`);
    const annealStrategy = o.annealStrategy ?? "cos";
    if (annealStrategy !== "cos" && annealStrategy !== "linear") {
      throw new Error(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${String(annealStrategy)}`);
    }
    const divFactor = o.divFactor ?? 25;
    const finalDivFactor = o.finalDivFactor ?? 1e4;
    if (!(divFactor > 0) || !(finalDivFactor > 0)) {
      throw new Error(
        `OneCycleLR: divFactor and finalDivFactor must be > 0, got ${divFactor}, ${finalDivFactor}`,
      );
    }
    this.totalSteps = o.totalSteps;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = o.cycleMomentum ?? true;
    this.phases = buildPhases(o.totalSteps, pctStart, o.threePhase ?? false);
    this.phases.forEach((phase, i) => {
      const start = i === 0 ? 0 : this.phases[i - 1].endStep;
      if (!(phase.endStep > start)) {
        throw new Error(
          `OneCycleLR: totalSteps ${o.totalSteps} with pctStart ${pctStart} leaves phase ${i + 1} without steps`,
        );
      }
    });

    const defaults = optimizer.defaults as object;
    this.useBeta1 = "betas" in defaults;
    if (this.cycleMomentum && !this.useBeta1 && !("momentum" in defaults)) {
      throw new Error(
        `OneCycleLR: ${optimizer.name} has neither momentum nor betas; pass cycleMomentum: false`,
      );
    }
    const maxLrs = perGroup("maxLr", o.maxLr, groups);
    const baseMomenta = perGroup("baseMomentum", o.baseMomentum ?? 0.85, groups);
    const maxMomenta = perGroup("maxMomentum", o.maxMomentum ?? 0.95, groups);
    this.cycles = maxLrs.map((max, i) => ({
      initial: max / divFactor,
      max,
      min: max / divFactor / finalDivFactor,
      baseMomentum: baseMomenta[i],
      maxMomentum: maxMomenta[i],
    }));
    // The schedule starts from maxLr/divFactor whatever the optimizer's lr was.
    optimizer.paramGroups.forEach((group, i) => (group.initialLr = this.cycles[i].initial));
    this.baseLrs = this.cycles.map((c) => c.initial);
    this.initialStep();
  }

  protected nextLr(): number[] {
    return this.closedFormLr(this.lastEpoch);
  }

  override step(): void {
    super.step();
    if (this.cycleMomentum) this.setMomenta(this.momentaAt(this.lastEpoch));
  }

  override restart(): void {
    super.restart();
    if (this.cycleMomentum) this.setMomenta(this.momentaAt(0));
  }

  closedFormLr(epoch: number): number[] {
    return this.cycles.map((c) =>
      this.interpolate(epoch, (phase, pct) => this.anneal(c[phase.startLr], c[phase.endLr], pct)),
    );
  }

  /** The momentum (or beta1) of each group at `epoch`. */
  momentaAt(epoch: number): number[] {
    const value = (c: GroupCycle, which: "base" | "max") =>
      which === "base" ? c.baseMomentum : c.maxMomentum;
    return this.cycles.map((c) =>
      this.interpolate(epoch, (phase, pct) =>
        this.anneal(value(c, phase.startMomentum), value(c, phase.endMomentum), pct),
      ),
    );
  }

  override loadStateDict(state: Record<string, unknown>): void {
    super.loadStateDict(state);
    if (this.cycleMomentum) this.setMomenta(this.momentaAt(this.lastEpoch));
  }

  /** The scheduler's state (see `Scheduler.stateDict`) plus `totalSteps`. */
  override stateDict(): LRSchedulerState {
    return { ...super.stateDict(), totalSteps: this.totalSteps };
  }

  private interpolate(epoch: number, at: (phase: Phase, pct: number) => number): number {
    if (epoch > this.totalSteps) {
      throw new Error(`OneCycleLR: stepped ${epoch} times, but totalSteps is ${this.totalSteps}`);
    }
    let start = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const phase = this.phases[i];
      if (epoch <= phase.endStep || i === this.phases.length - 1) {
        // The step after the last (epoch = totalSteps) holds the final values; torch extrapolates past them,
        // which with linear annealing gives a negative lr.
        return at(phase, Math.min(1, (epoch - start) / (phase.endStep - start)));
      }
      start = phase.endStep;
    }
    throw new Error("OneCycleLR: unreachable");
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  private setMomenta(momenta: readonly number[]): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const g = group as { betas?: [number, number]; momentum?: number };
      if (this.useBeta1) g.betas = [momenta[i], g.betas![1]];
      else g.momentum = momenta[i];
    });
  }
}

function buildPhases(totalSteps: number, pctStart: number, threePhase: boolean): Phase[] {
  const up = pctStart * totalSteps - 1;
  if (threePhase) {
    return [
      { endStep: up, startLr: "initial", endLr: "max", startMomentum: "max", endMomentum: "base" },
      {
        endStep: 2 * pctStart * totalSteps - 2,
        startLr: "max",
        endLr: "initial",
        startMomentum: "base",
        endMomentum: "max",
      },
      { endStep: totalSteps - 1, startLr: "initial", endLr: "min", startMomentum: "max", endMomentum: "max" },
    ];
  }
  return [
    { endStep: up, startLr: "initial", endLr: "max", startMomentum: "max", endMomentum: "base" },
    { endStep: totalSteps - 1, startLr: "max", endLr: "min", startMomentum: "base", endMomentum: "max" },
  ];
}
