// Define-by-run reverse-mode autodiff. Every op output that needs a gradient carries a GradNode: its inputs
// and a closure that maps the output's gradient to the inputs' gradients (written with ops, so it runs on
// every backend). backward() walks the nodes in reverse topological order, sums gradients per tensor, adds
// them to leaves' .grad, and then drops the closures so saved tensors are released at once.

import type { Tensor } from "../tensor/tensor.js";

export interface GradNode {
  readonly op: string;
  inputs: readonly Tensor[];
  /** The primitive's attributes (geometry, axes, …), for tools that read the graph such as ONNX export. */
  readonly attrs?: unknown;
  /** Null once the graph has been released by a backward pass. */
  backward: ((grad: Tensor) => readonly (Tensor | null)[]) | null;
}

let gradEnabled = true;

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

export function runBackward(root: Tensor, upstream: Tensor, options: BackwardOptions = {}): void {
  const order = reverseTopologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, upstream]]);
  noGrad(() => {
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      const node = t.gradFn;
      if (!node) {
        t.accumulateGrad(g);
        continue;
      }
      if (!node.backward) {
        throw new Error(
          `backward: the graph through '${node.op}' was already freed by an earlier backward(); ` +
            `pass { retainGraph: true } to the first call to run backward twice`,
        );
      }
      const inputGrads = node.backward(g);
      grads.delete(t);
      node.inputs.forEach((input, i) => {
        const ig = inputGrads[i];
        if (!ig || !input.requiresGrad) return;
        const previous = grads.get(input);
        grads.set(input, previous ? previous.add(ig) : ig);
      });
      if (!options.retainGraph) node.backward = null;
    }
  });
  if (!options.retainGraph) {
    for (const t of order) if (t.gradFn) t.gradFn.inputs = [];
  }
}
