/**
 * torch.optim for Striate: optimizers with parameter groups and state dicts, and learning-rate schedules.
 *
 * @module striate/optim
 */

export { Optimizer, serializeTensor } from "./optimizer.js";
export type {
  BaseHyperparameters,
  OptimizerStateDict,
  ParamGroup,
  ParamGroupInput,
  ParamUpdate,
  Params,
  SerializedTensor,
} from "./optimizer.js";
export { SGD, sgdUpdate } from "./sgd.js";
export type { SGDHyperparameters, SGDOptions, SGDState } from "./sgd.js";
export { Adagrad, adagradUpdate } from "./adagrad.js";
export type { AdagradHyperparameters, AdagradOptions, AdagradState } from "./adagrad.js";
export { RMSprop, rmspropUpdate } from "./rmsprop.js";
export type { RMSpropHyperparameters, RMSpropOptions, RMSpropState } from "./rmsprop.js";
export { Adam, AdamW, adamUpdate, adamwUpdate } from "./adam.js";
export type { AdamHyperparameters, AdamOptions, AdamState } from "./adam.js";
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearWarmup,
  SequentialLR,
  ChainedScheduler,
} from "./lr-scheduler.js";
export type {
  AnyOptimizer,
  Scheduler,
  LRSchedulerState,
  StepLROptions,
  MultiStepLROptions,
  ExponentialLROptions,
  CosineAnnealingLROptions,
  LinearWarmupOptions,
  SequentialLROptions,
} from "./lr-scheduler.js";
export { OneCycleLR } from "./one-cycle-lr.js";
export type { OneCycleLROptions } from "./one-cycle-lr.js";
export { ReduceLROnPlateau } from "./reduce-lr-on-plateau.js";
export type { ReduceLROnPlateauOptions, ReduceLROnPlateauState } from "./reduce-lr-on-plateau.js";
export { NAdam, nadamUpdate } from "./nadam.js";
export type { NAdamHyperparameters, NAdamOptions, NAdamState } from "./nadam.js";
export { RAdam, radamUpdate } from "./radam.js";
export type { RAdamHyperparameters, RAdamOptions, RAdamState } from "./radam.js";
export { LAMB, lambUpdate } from "./lamb.js";
export type { LambHyperparameters, LambOptions, LambState } from "./lamb.js";
export { AveragedModel, getEmaAvgFn, updateBn, deepCopyModule } from "./swa-utils.js";
export type { AvgFn, AveragedModelOptions, BatchLike } from "./swa-utils.js";
export type { AdamFamilyHyperparameters, MomentState } from "./moments.js";
