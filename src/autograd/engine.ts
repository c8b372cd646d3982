// Define-by-run reverse-mode autodiff. Every op output that needs a gradient carries a GradNode: its inputs
// and a closure that maps the output's gradient to the inputs' gradients (written with ops, so it runs on
// every backend). backward() walks the nodes in reverse topological order, sums gradients per tensor, adds
// them to leaves' .grad, and then drops the closures so saved tensors are released at once.
//
// It also owns the memory of a training step (docs/design.md, "Memory"): a module's forward hands what it
// allocated and did not return (the intermediates its graph saved for backward) to the graph of its output
// (forwardScope); backward frees those once it has run, frees its own temporaries (every gradient but the
// leaves'), and ends the step, which moves tensors nobody is known to own out of the wasm memory.

import type { Backend, Storage } from "../backend/backend.js";
import { scope, startStep } from "../backend/registry.js";
import type { Tensor } from "../tensor/tensor.js";

export interface GradNode {
  readonly op: string;
  inputs: readonly Tensor[];
  /** The primitive's attributes (geometry, axes, …), for tools that read the graph such as ONNX export. */
  readonly attrs?: unknown;
  /**
   * What the primitive's forward saved for its backward (its rule's `S`: argmax indices, statistics, …);
   * emptied by backward once it has passed through the graph.
   */
  saved?: unknown;
  /** Null once the graph has been released by a backward pass. */
  backward: ((grad: Tensor) => readonly (Tensor | null)[]) | null;
  /**
   * Frees what the module call that produced this node allocated and did not return (forwardScope); run by
   * backward once it has passed through the graph.
   */
  owned?: (() => void)[];
}

/** The op of the identity nodes through which backward hooks see gradients (nn/module.ts). */
const HOOK_OPS = new Set(["backwardHook"]);

let gradEnabled = true;

/** Whether operations are being recorded for backward (false inside `noGrad`); torch's `is_grad_enabled`. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` with gradient recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Options of `Tensor.backward`: `retainGraph` (default false: the graph's saved tensors are freed after the
 * pass), torch's `retain_graph`.
 */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again. */
  retainGraph?: boolean;
}

/** Tensors reachable from `root` through grad nodes, ordered so that every tensor precedes its inputs. */
function reverseTopologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative post-order DFS: deep nets (ResNet-152) would overflow a recursive walk.
  const stack: { t: Tensor; expanded: boolean }[] = [{ t: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.t);
      continue;
    }
    if (visited.has(top.t)) continue;
    visited.add(top.t);
    stack.push({ t: top.t, expanded: true });
    for (const input of top.t.gradFn?.inputs ?? []) {
      if (input.requiresGrad && !visited.has(input)) stack.push({ t: input, expanded: false });
    }
  }
  return order.reverse();
}

let backwardDepth = 0;

export function runBackward(root: Tensor, upstream: Tensor, options: BackwardOptions = {}): void {
  const order = reverseTopologicalOrder(root);
  const retain = options.retainGraph === true;
  // A backward inside a backward (a hook's) is part of the outer step.
  const endStep = backwardDepth === 0 && !retain ? startStep() : null;
  // Gradients are temporaries, freed at the end, unless a hook may have kept one (then the GC owns them).
  const handsOutGradients = order.some((t) => t.gradFn !== null && HOOK_OPS.has(t.gradFn.op));
  backwardDepth++;
  try {
    scope(() => accumulate(order, root, upstream, retain, !handsOutGradients), {
      release: handsOutGradients ? "collector" : "free",
    });
  } finally {
    backwardDepth--;
  }
  if (!retain) {
    for (const t of order) {
      const node = t.gradFn;
      if (!node) continue;
      node.inputs = [];
      node.saved = undefined;
      for (const free of node.owned ?? []) free();
      node.owned = undefined;
    }
  }
  // Leaves that require gradients are parameters (or inputs being optimised): long-lived, never spilled.
  for (const t of order) if (t.isLeaf) t.backend.pin?.(t.storage);
  endStep?.();
}

/** The backward pass proper: gradients flow from `root` to the leaves' .grad. */
function accumulate(order: Tensor[], root: Tensor, upstream: Tensor, retain: boolean, early: boolean): void {
  const grads = new GradientFrontier(early);
  grads.set(root, upstream);
  noGrad(() => {
    for (const t of order) {
      const g = grads.take(t);
      if (!g) continue;
      const node = t.gradFn;
      if (!node) {
        t.accumulateGrad(g);
        grads.done([g]);
        continue;
      }
      if (!node.backward) {
        throw new Error(
          `backward: the graph through '${node.op}' was already freed by an earlier backward(); ` +
            `pass { retainGraph: true } to the first call to run backward twice`,
        );
      }
      // In a scope of its own, so that a rule's temporaries (tanh's 1 − y², a product later summed) are freed
      // as it returns rather than when the whole pass ends.
      const rule = node.backward;
      const inputGrads = scope(() => rule(g), { release: early ? "free" : "collector" });
      // Used-up gradients are offered for freeing only once every input has its share: one tensor may be
      // the gradient of several inputs (add's backward hands g itself to both).
      const usedUp = [g, ...inputGrads];
      node.inputs.forEach((input, i) => {
        const ig = inputGrads[i];
        if (!ig || !input.requiresGrad) return;
        const previous = grads.take(input);
        if (!previous) return grads.set(input, ig);
        grads.set(input, previous.add(ig));
        usedUp.push(previous);
      });
      grads.done(usedUp);
      if (!retain) node.backward = null;
    }
  });
}

/**
 * The gradients a backward pass has computed but not yet passed on, by tensor. With `early`, a gradient
 * nothing can read any more (not pending here, under any tensor: views share storages) is freed as soon as
 * it is used up (Backend.releaseTemporary: only temporaries of the backward's own scope, never a kept
 * .grad), so a pass holds its frontier rather than every gradient it made (docs/performance.md, "Memory
 * of a training step").
 */
class GradientFrontier {
  private readonly pending = new Map<Tensor, Tensor>();
  /** How many pending gradients use each storage. */
  private readonly users = new Map<Storage, number>();

  constructor(private readonly early: boolean) {}

  set(t: Tensor, g: Tensor): void {
    this.pending.set(t, g);
    this.users.set(g.storage, (this.users.get(g.storage) ?? 0) + 1);
  }

  /** Removes and returns t's gradient. */
  take(t: Tensor): Tensor | undefined {
    const g = this.pending.get(t);
    if (g === undefined) return undefined;
    this.pending.delete(t);
    const n = this.users.get(g.storage)! - 1;
    if (n === 0) this.users.delete(g.storage);
    else this.users.set(g.storage, n);
    return g;
  }

  /** These gradients were used up: free each whose storage no pending gradient shares. */
  done(used: readonly (Tensor | null | undefined)[]): void {
    if (!this.early) return;
    for (const g of used) if (g && !this.users.has(g.storage)) g.backend.releaseTemporary?.(g.storage);
  }
}

/**
 * @internal Runs a module's forward in a memory scope (nn/module.ts). Without gradients, what it allocated
 * and neither returned nor stored on `owner` is freed when it returns. With gradients those storages are
 * what its graph saved for backward: they are handed to the graph of the output and freed by backward; if
 * the output has no graph, nothing can need them and they are freed at once.
 */
export function forwardScope<T>(owner: object, fn: () => T): T {
  if (!gradEnabled) return scope(fn, { alsoReachable: owner });
  return scope(fn, { alsoReachable: owner, adopt: adoptIntoGraph });
}

function adoptIntoGraph(result: unknown, storages: readonly Storage[], backend: Backend): boolean {
  const nodes = gradNodesIn(result);
  if (nodes.length === 0) return false;
  let freed = false;
  const free = () => {
    if (freed) return;
    freed = true;
    for (const s of storages) backend.free?.(s);
  };
  for (const node of nodes) (node.owned ??= []).push(free);
  return true;
}

/** Grad nodes of the tensors in a forward's result (a tensor, or arrays, objects and Maps holding them). */
function gradNodesIn(result: unknown): GradNode[] {
  const nodes: GradNode[] = [];
  const seen = new Set<unknown>();
  const stack: unknown[] = [result];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (isTensor(v)) {
      if (v.gradFn !== null) nodes.push(v.gradFn);
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v instanceof Map) stack.push(...v.values());
    else if (!ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) stack.push(...Object.values(v));
  }
  return nodes;
}

function isTensor(v: object): v is Tensor {
  return "gradFn" in v && "storage" in v && "backend" in v;
}
