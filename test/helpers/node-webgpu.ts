// The webgpu backend in Node for tests: Dawn (the optional `webgpu` package) over a Vulkan driver. On a
// machine without a GPU, Debian's Chromium ships SwiftShader's Vulkan driver (libvk_swiftshader.so and its
// ICD file), which Dawn accepts, with the Vulkan loader from Debian's libvulkan1; VK_ICD_FILENAMES points
// the loader at it. .ci/run installs both and sets STRIATE_REQUIRE_NODE_WEBGPU=1, so CI never skips these
// tests; elsewhere a missing adapter skips them with a visible notice that says what to install.
import { existsSync } from "node:fs";
import { initWebGpu } from "../../src/index.js";
import type { WebGpuBackend } from "../../src/index.js";
import { SWIFTSHADER_ICD } from "../../src/backend/webgpu/device.js";

export interface NodeWebGpu {
  backend: WebGpuBackend | null;
  /** Why the tests are skipped, or false when the backend runs. */
  skip: string | false;
  /** The error initWebGpu() threw, if any. */
  error: Error | null;
}

let opened: Promise<NodeWebGpu> | null = null;

/** Starts the webgpu backend once per process (not as the default backend), or says why it cannot. */
export function openNodeWebGpu(): Promise<NodeWebGpu> {
  opened ??= open();
  return opened;
}

async function open(): Promise<NodeWebGpu> {
  // The loader reads the variable when Dawn creates its instance, so setting it here, before, is enough.
  if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  try {
    const backend = await initWebGpu({ setDefault: false });
    return { backend, skip: false, error: null };
  } catch (e) {
    const error = e as Error;
    if (process.env.STRIATE_REQUIRE_NODE_WEBGPU === "1") {
      throw new Error(
        `STRIATE_REQUIRE_NODE_WEBGPU=1 but the webgpu backend has no adapter in Node: ${error.message}`,
      );
    }
    const skip =
      `no WebGPU adapter in Node here (${error.message.slice(0, 160)}); ` +
      `apt-get install chromium libvulkan1 gives one (SwiftShader), see docs/webgpu.md`;
    console.log(`# ${skip}`);
    return { backend: null, skip, error };
  }
}
