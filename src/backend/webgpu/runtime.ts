// The GPU side of the webgpu backend: a buffer pool, compiled pipelines, and the queue of kernel launches.
// Launches are recorded into one command encoder and submitted together (at a read, before a buffer is
// written from the host, or every MAX_BATCH launches), so a training step is a few submissions, not one per
// op. Every launch gets its own 256-byte slot of a per-batch uniform buffer holding its scalar parameters.

/// <reference types="@webgpu/types" />

import type { GpuDevice } from "./device.js";

const STORAGE_USAGE = GPUBufferUsageFlags();
/** Launches recorded before the encoder is submitted without being asked. */
const MAX_BATCH = 128;
/** Bytes of one launch's parameter slot (minUniformBufferOffsetAlignment is at most 256). */
const SLOT = 256;
/** u32 words of one launch's parameters (the WGSL struct below). */
export const PARAM_WORDS = SLOT / 4;
/** Largest workgroup count per dimension the spec guarantees. */
const MAX_GROUPS = 65535;
/** Bytes the pool keeps in free buffers before it destroys returned ones. */
const POOL_LIMIT = 256 << 20;

function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global in browsers and in Dawn's Node binding alike; the numbers are the spec's.
  const STORAGE = 0x80;
  const COPY_SRC = 0x04;
  const COPY_DST = 0x08;
  return STORAGE | COPY_SRC | COPY_DST;
}

/** WGSL every kernel starts with: its parameters and accessors for integer, float and signed words. */
export const PARAMS_WGSL = /* wgsl */ `
struct Params { v: array<vec4<u32>, ${PARAM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> params: Params;
fn pu(i: u32) -> u32 { return params.v[i / 4u][i % 4u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(params.v[i / 4u][i % 4u]); }
fn pi(i: u32) -> i32 { return bitcast<i32>(params.v[i / 4u][i % 4u]); }
// Infinity and NaN: WGSL rejects them as constants, so they are built from a runtime value.
fn infinity() -> f32 { return bitcast<f32>(0x7f800000u | (params.v[0][0] & 0u)); }
fn nan() -> f32 { return bitcast<f32>(0x7fc00000u | (params.v[0][0] & 0u)); }
`;

/** One launch parameter: an unsigned integer (the default), a float or a signed integer. */
export type Param = number | { f: number } | { i: number };

/** A buffer binding of a launch: read-only input or written output (the kernel's WGSL declares the same). */
export interface Binding {
  buffer: GPUBuffer;
}

/** The size class a request of `bytes` is rounded up to: 1/8 steps between powers of two, at least 256. */
function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const top = 2 ** Math.ceil(Math.log2(bytes));
  const step = top / 8;
  return Math.ceil(bytes / step) * step;
}

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly software: boolean;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly free = new Map<number, GPUBuffer[]>();
  private freeBytes = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private launches = 0;
  private paramData = new ArrayBuffer(MAX_BATCH * SLOT);
  private paramBuffer: GPUBuffer | null = null;
  /** Buffers to return to the pool once the current batch is submitted (they were freed mid-batch). */
  private pendingRelease: GPUBuffer[] = [];
  /**
   * Run products with the direct (barrier-free) kernels whatever their size: the default on software
   * adapters, where SwiftShader runs a workgroup barrier by switching between its invocations, so the
   * tiled kernel (two barriers per 16 columns of K) costs about 1 ms per workgroup step. Tests set it to
   * false to check the tiled kernel there too.
   */
  preferDirect: boolean;
  /** Launches and submissions so far (for tests and the benchmark's notes). */
  stats = { launches: 0, submits: 0, pooledHits: 0, created: 0 };
  /** The first device error or loss, reported by the next read. */
  private deviceError: string | null = null;

  constructor(gpu: GpuDevice) {
    this.device = gpu.device;
    this.adapterName = gpu.adapterName;
    this.software = gpu.software;
    this.preferDirect = gpu.software;
    this.device.addEventListener?.("uncapturederror", (e) => {
      this.deviceError ??= (e as GPUUncapturedErrorEvent).error.message;
    });
    void this.device.lost?.then((info) => {
      this.deviceError ??= `device lost: ${info.message}`;
    });
  }

  /** A storage buffer of at least `bytes` bytes, from the pool when one of its size class is free. */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(Math.max(4, bytes));
    const list = this.free.get(size);
    const found = list?.pop();
    if (found) {
      this.freeBytes -= size;
      this.stats.pooledHits++;
      return found;
    }
    this.stats.created++;
    return this.device.createBuffer({ size, usage: STORAGE_USAGE });
  }

  /** Returns a buffer to the pool. Launches already recorded may still use it: they run before any reuse. */
  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    if (this.freeBytes + size > POOL_LIMIT) {
      if (this.encoder !== null) this.pendingRelease.push(buffer);
      else buffer.destroy();
      return;
    }
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.freeBytes += size;
  }

  private pipeline(key: string, code: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: PARAMS_WGSL + code(), label: key });
      p = this.device.createComputePipeline({
        layout: "auto",
        compute: { module, entryPoint: "main" },
        label: key,
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Records one launch of the kernel `key` (its WGSL from `code`, compiled once) over `groups` workgroups,
   * binding the parameter slot at 0 and `buffers` at 1, 2, … in order. Workgroup counts above 65535 in x
   * are folded into y; kernels recover the linear group index with `linearGroup`.
   */
  launch(
    key: string,
    code: () => string,
    buffers: GPUBuffer[],
    params: Param[],
    groups: number | [number, number, number],
  ): void {
    if (params.length > PARAM_WORDS)
      throw new Error(`webgpu ${key}: ${params.length} parameters, at most ${PARAM_WORDS}`);
    const pipeline = this.pipeline(key, code);
    if (this.launches >= MAX_BATCH) this.flush();
    if (this.encoder === null) {
      this.encoder = this.device.createCommandEncoder();
      this.paramBuffer = this.device.createBuffer({
        size: MAX_BATCH * SLOT,
        usage: 0x40 | 0x08 /* UNIFORM | COPY_DST */,
      });
    }
    const slot = this.launches++;
    writeParams(new DataView(this.paramData, slot * SLOT, SLOT), params);
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.paramBuffer!, offset: slot * SLOT, size: SLOT } },
    ];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    const [x, y, z] = typeof groups === "number" ? foldGroups(groups) : groups;
    if (x > 0 && y > 0 && z > 0) this.pass.dispatchWorkgroups(x, y, z);
    this.stats.launches++;
  }

  /** Records a buffer-to-buffer copy (ends the current compute pass). */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    if (bytes === 0) return;
    if (this.encoder === null) {
      this.encoder = this.device.createCommandEncoder();
      this.paramBuffer = this.device.createBuffer({ size: MAX_BATCH * SLOT, usage: 0x40 | 0x08 });
    }
    this.pass?.end();
    this.pass = null;
    this.encoder.copyBufferToBuffer(src, 0, dst, 0, Math.ceil(bytes / 4) * 4);
  }

  /** Submits what was recorded. */
  flush(): void {
    if (this.encoder === null) return;
    this.pass?.end();
    this.pass = null;
    if (this.launches > 0)
      this.device.queue.writeBuffer(this.paramBuffer!, 0, this.paramData, 0, this.launches * SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    this.paramBuffer!.destroy();
    this.paramBuffer = null;
    this.encoder = null;
    this.launches = 0;
    for (const b of this.pendingRelease) b.destroy();
    this.pendingRelease = [];
  }

  /** Writes host values into a buffer, after everything recorded so far. */
  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    this.flush();
    if (data.byteLength > 0)
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** The first `bytes` of a buffer, once every launch recorded before has run. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: 0x01 | 0x08 /* MAP_READ | COPY_DST */ });
    this.copy(buffer, staging, size);
    this.flush();
    try {
      await staging.mapAsync(0x01 /* GPUMapMode.READ */);
    } catch (e) {
      this.throwDeviceError();
      throw new Error(`webgpu: reading a buffer back failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.throwDeviceError();
    return out;
  }

  /** Reports (once) a device error raised since the last read: a kernel failed to compile or validate. */
  private throwDeviceError(): void {
    const message = this.deviceError;
    if (message === null) return;
    this.deviceError = null;
    throw new Error(`webgpu: ${message}`);
  }

  /** Bytes held in the pool's free buffers. */
  get pooledBytes(): number {
    return this.freeBytes;
  }
}

function writeParams(view: DataView, params: Param[]): void {
  params.forEach((p, i) => {
    if (typeof p === "number") view.setUint32(i * 4, p >>> 0, true);
    else if ("f" in p) view.setFloat32(i * 4, p.f, true);
    else view.setInt32(i * 4, p.i, true);
  });
}

/** Splits a 1-D workgroup count over x and y when it exceeds the per-dimension limit. */
function foldGroups(n: number): [number, number, number] {
  if (n <= MAX_GROUPS) return [n, 1, 1];
  const y = Math.ceil(n / MAX_GROUPS);
  return [Math.ceil(n / y), y, 1];
}

/** WGSL: the linear workgroup index of a launch folded by foldGroups (use with @builtin(num_workgroups)). */
export const LINEAR_GROUP_WGSL = /* wgsl */ `
fn linearGroup(wg: vec3<u32>, count: vec3<u32>) -> u32 { return wg.x + wg.y * count.x; }
`;
