// Finding a WebGPU device: the browser's `navigator.gpu`, or in Node the `webgpu` npm package (Dawn),
// imported only when asked and never a required dependency. Errors say which of the two was missing.

/// <reference types="@webgpu/types" />

/** What initWebGpu() was given or found: the device and a name for the adapter behind it. */
export interface GpuDevice {
  device: GPUDevice;
  /** e.g. "google/swiftshader" (vendor/architecture, or the description where the adapter gives one). */
  adapterName: string;
  /** Whether the adapter says it is a software rasteriser (SwiftShader, lavapipe): speed figures only show it runs. */
  software: boolean;
}

export interface DeviceOptions {
  /** A device to use instead of requesting one (e.g. shared with the application's own rendering). */
  device?: GPUDevice;
  /** Passed to requestAdapter (default: { powerPreference: "high-performance" }). */
  adapter?: GPURequestAdapterOptions;
}

function isNode(): boolean {
  return typeof process === "object" && typeof process.versions === "object" && !!process.versions.node;
}

/**
 * SwiftShader's Vulkan driver as Debian's chromium package installs it: with the loader from libvulkan1 and
 * VK_ICD_FILENAMES pointing here, Dawn finds a software adapter in Node on a machine without a GPU.
 */
export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** navigator.gpu, or in Node the `webgpu` package's; throws a clear error when neither exists. */
async function findGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode()) {
    throw new Error(
      "no WebGPU adapter: this browser has no navigator.gpu (WebGPU needs a secure context — https or localhost — and a browser that ships it)",
    );
  }
  let dawn: { create(flags: string[]): GPU };
  try {
    // A variable specifier keeps bundlers and tsc from resolving the optional package.
    const name = "webgpu";
    dawn = (await import(/* @vite-ignore */ name)) as { create(flags: string[]): GPU };
  } catch (e) {
    throw new Error(
      `no WebGPU adapter: Node has no WebGPU of its own and the optional 'webgpu' package (Dawn) is not installed — npm install webgpu (${(e as Error).message})`,
    );
  }
  // Dawn's instance must outlive every device made from it: were the GPU object collected, the instance
  // would be torn down under a live device (Node crashes in SwiftShader's threads). Held for the process.
  dawnInstance ??= dawn.create([]);
  return dawnInstance;
}

let dawnInstance: GPU | null = null;

export function adapterName(info: GPUAdapterInfo | undefined): string {
  if (!info) return "unknown adapter";
  const parts = [info.vendor, info.architecture].filter((s) => s);
  const name = parts.join("/") || info.description || info.device || "unknown adapter";
  return info.description && parts.length > 0 ? `${name} (${info.description})` : name;
}

function isSoftware(name: string): boolean {
  return /swiftshader|lavapipe|llvmpipe|software|warp|basic render/i.test(name);
}

/** Requests an adapter and a device with the largest storage-buffer limits the adapter offers. */
export async function openDevice(options: DeviceOptions = {}): Promise<GpuDevice> {
  if (options.device) {
    const info = (options.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const name = adapterName(info);
    return { device: options.device, adapterName: name, software: isSoftware(name) };
  }
  const gpu = await findGpu();
  const adapter = await gpu.requestAdapter(options.adapter ?? { powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      `no WebGPU adapter: requestAdapter() found none${isNode() ? " (Dawn needs a Vulkan, Metal or D3D12 driver; without a GPU, SwiftShader's Vulkan driver works: on Debian, apt-get install chromium libvulkan1 and set VK_ICD_FILENAMES=${SWIFTSHADER_ICD} — docs/webgpu.md)" : " (in Chromium, enable WebGPU; headless Chromium needs --enable-unsafe-webgpu and, without a GPU, --use-webgpu-adapter=swiftshader --enable-unsafe-swiftshader)"}`,
    );
  }
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  const name = adapterName((adapter as { info?: GPUAdapterInfo }).info);
  return {
    device,
    adapterName: name,
    software: isSoftware(name) || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
  };
}
