// The fused optimizer kernels against the js reference kernels: every SGD and Adam/AdamW option
// combination over several steps, on sizes that are not multiples of 4 (scalar tails), both builds, and a
// call big enough to split over 2 threads. Both sides round every operation to float32 in the same order
// (no FMA in these kernels), so the results must be bit-identical.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { adamUpdate, sgdUpdate } from "../../../src/backend/wasm/optim.js";
import { jsBackend } from "../../../src/backend/js/index.js";
import type { AdamKernelParams, SgdKernelParams, Storage } from "../../../src/backend/backend.js";
import type { WasmRuntime } from "../../../src/backend/wasm/runtime.js";
import { VARIANTS, randomArray, rng, runtime, upload } from "./helpers.js";

const bools = [false, true];

function sgdCombinations(): SgdKernelParams[] {
  const out: SgdKernelParams[] = [];
  for (const momentum of [0, 0.9])
    for (const dampening of [0, 0.25])
      for (const nesterov of bools)
        for (const weightDecay of [0, 1e-2])
          for (const maximize of bools) {
            if (nesterov && (momentum === 0 || dampening !== 0)) continue;
            out.push({ lr: 0.05, momentum, dampening, nesterov, weightDecay, maximize });
          }
  return out;
}

function adamCombinations(step: number): AdamKernelParams[] {
  const out: AdamKernelParams[] = [];
  for (const decoupledWeightDecay of bools)
    for (const amsgrad of bools)
      for (const weightDecay of [0, 1e-2])
        for (const maximize of bools) {
          const base = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
          out.push({ ...base, weightDecay, decoupledWeightDecay, amsgrad, maximize, step });
        }
  return out;
}

const read = (rt: WasmRuntime, p: number, n: number) => rt.mem.readF32(p, n);
const js = (a: Float32Array) => jsBackend.fromArray(a);
const jsArray = (s: Storage) => jsBackend.toArray(s) as Float32Array;

/** One SGD step on the wasm kernel; returns the new param and buffer (null without momentum). */
function wasmSgd(
  rt: WasmRuntime,
  p: Float32Array,
  g: Float32Array,
  buf: Float32Array | null,
  h: SgdKernelParams,
) {
  const n = p.length;
  const [pp, pg, pb] = [upload(rt, p), upload(rt, g), buf === null ? 0 : upload(rt, buf)];
  const [outP, outB] = [rt.mem.alloc(4 * n), h.momentum !== 0 ? rt.mem.alloc(4 * n) : 0];
  sgdUpdate(rt, n, { param: pp, grad: pg, buf: pb, outParam: outP, outBuf: outB }, h);
  const result = { param: read(rt, outP, n), buf: outB === 0 ? null : read(rt, outB, n) };
  for (const a of [pp, pg, pb, outP, outB]) if (a !== 0) rt.mem.free(a);
  return result;
}

interface AdamState {
  m: Float32Array;
  v: Float32Array;
  vmax: Float32Array | null;
}

function wasmAdam(rt: WasmRuntime, p: Float32Array, g: Float32Array, s: AdamState, h: AdamKernelParams) {
  const n = p.length;
  const inputs = [p, g, s.m, s.v].map((a) => upload(rt, a));
  const vmax = s.vmax === null ? 0 : upload(rt, s.vmax);
  const outs = [0, 1, 2].map(() => rt.mem.alloc(4 * n));
  const outVmax = s.vmax === null ? 0 : rt.mem.alloc(4 * n);
  adamUpdate(
    rt,
    n,
    {
      param: inputs[0],
      grad: inputs[1],
      expAvg: inputs[2],
      expAvgSq: inputs[3],
      maxExpAvgSq: vmax,
      outParam: outs[0],
      outExpAvg: outs[1],
      outExpAvgSq: outs[2],
      outMaxExpAvgSq: outVmax,
    },
    h,
  );
  const result = {
    param: read(rt, outs[0], n),
    state: {
      m: read(rt, outs[1], n),
      v: read(rt, outs[2], n),
      vmax: outVmax === 0 ? null : read(rt, outVmax, n),
    },
  };
  for (const a of [...inputs, vmax, ...outs, outVmax]) if (a !== 0) rt.mem.free(a);
  return result;
}

function jsAdam(p: Float32Array, g: Float32Array, s: AdamState, h: AdamKernelParams) {
  const r = jsBackend.adamUpdate(js(p), js(g), js(s.m), js(s.v), s.vmax === null ? null : js(s.vmax), h);
  return {
    param: jsArray(r.param),
    state: {
      m: jsArray(r.expAvg),
      v: jsArray(r.expAvgSq),
      vmax: r.maxExpAvgSq === null ? null : jsArray(r.maxExpAvgSq),
    },
  };
}

const STEPS = 4;

function checkSgd(rt: WasmRuntime, n: number, h: SgdKernelParams, seed: number, what: string) {
  const rand = rng(seed);
  let pw = randomArray(n, rand, -2, 2);
  let pj = pw;
  let bw: Float32Array | null = null;
  let bj: Float32Array | null = null;
  for (let s = 0; s < STEPS; s++) {
    const g = randomArray(n, rand, -3, 3);
    const w = wasmSgd(rt, pw, g, bw, h);
    const j = jsBackend.sgdUpdate(js(pj), js(g), bj === null ? null : js(bj), h);
    const where = `${what} n=${n} ${JSON.stringify(h)} step ${s + 1}`;
    assert.deepEqual(w.param, jsArray(j.param), `${where}: param`);
    assert.deepEqual(w.buf, j.momentumBuffer === null ? null : jsArray(j.momentumBuffer), `${where}: buffer`);
    [pw, bw, pj, bj] = [
      w.param,
      w.buf,
      jsArray(j.param),
      j.momentumBuffer === null ? null : jsArray(j.momentumBuffer),
    ];
  }
}

function checkAdam(rt: WasmRuntime, n: number, template: AdamKernelParams, seed: number, what: string) {
  const rand = rng(seed);
  const zeros = () => new Float32Array(n);
  let pw = randomArray(n, rand, -2, 2);
  let pj = pw;
  let sw: AdamState = { m: zeros(), v: zeros(), vmax: template.amsgrad ? zeros() : null };
  let sj = sw;
  for (let s = 1; s <= STEPS; s++) {
    const h = { ...template, step: s };
    // A large first gradient, so AMSGrad's maximum differs from v afterwards.
    const g = randomArray(n, rand, s === 1 ? -10 : -1, s === 1 ? 10 : 1);
    const w = wasmAdam(rt, pw, g, sw, h);
    const j = jsAdam(pj, g, sj, h);
    const where = `${what} n=${n} ${JSON.stringify(h)}`;
    assert.deepEqual(w, j, where);
    [pw, sw, pj, sj] = [w.param, w.state, j.param, j.state];
  }
}

const SIZES = [1, 3, 10, 1001];

describe("wasm fused optimizer kernels against the js reference", () => {
  for (const v of VARIANTS) {
    it(`${v.name}: SGD, every option combination`, async () => {
      const rt = await runtime(v.relaxed);
      const combos = sgdCombinations();
      assert.equal(combos.length, 20);
      combos.forEach((h, i) => SIZES.forEach((n) => checkSgd(rt, n, h, 100 * i + n, v.name)));
    });

    it(`${v.name}: Adam and AdamW, every option combination`, async () => {
      const rt = await runtime(v.relaxed);
      const combos = adamCombinations(1);
      assert.equal(combos.length, 16);
      combos.forEach((h, i) => SIZES.forEach((n) => checkAdam(rt, n, h, 100 * i + n, v.name)));
    });
  }

  it("2 threads: a 150,003-element parameter splits and gives the same bits", async () => {
    const rt = await runtime(true, 2);
    const n = 150_003;
    assert.equal(rt.threadsFor(n * 16, n, 16), 2, "the call is above the thread threshold");
    checkSgd(
      rt,
      n,
      { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-4, maximize: false },
      1,
      "2 threads",
    );
    const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, step: 1 };
    checkAdam(rt, n, { ...adam, decoupledWeightDecay: true, amsgrad: true, maximize: false }, 2, "2 threads");
  });

  it("the kernels leave their inputs unchanged", async () => {
    const rt = await runtime(false);
    const rand = rng(3);
    const [p, g, buf] = [randomArray(9, rand), randomArray(9, rand), randomArray(9, rand)];
    const [pp, pg, pb] = [upload(rt, p), upload(rt, g), upload(rt, buf)];
    const [outP, outB] = [rt.mem.alloc(36), rt.mem.alloc(36)];
    const h = { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.1, maximize: true };
    sgdUpdate(rt, 9, { param: pp, grad: pg, buf: pb, outParam: outP, outBuf: outB }, h);
    assert.deepEqual([read(rt, pp, 9), read(rt, pg, 9), read(rt, pb, 9)], [p, g, buf]);
    assert.notDeepEqual(read(rt, outP, 9), p);
  });
});
