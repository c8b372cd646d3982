// Which WebGPU adapter Dawn (the `webgpu` package) finds in Node, asked in a process of its own: the Vulkan
// loader reads VK_ICD_FILENAMES once, when Dawn's instance is created, so bench/webgpu.ts asks first with the
// environment as it is (a machine's GPU) and then with SwiftShader's driver. Prints one ADAPTER_PREFIX line.
// Usage: node --import tsx bench/webgpu-adapter.ts

import { initWebGpu } from "../src/index.js";
import { errorMessage } from "./common.js";

export const ADAPTER_PREFIX = "WEBGPU_ADAPTER ";

/** What the probe reports: the adapter's name and whether it is a software one, or why there is none. */
export type AdapterProbe = { adapter: string; software: boolean } | { error: string };

if (process.argv[1]?.endsWith("webgpu-adapter.ts")) {
  let probe: AdapterProbe;
  try {
    const gpu = await initWebGpu({ setDefault: false });
    probe = { adapter: gpu.adapterName, software: gpu.software };
  } catch (e) {
    probe = { error: errorMessage(e) };
  }
  console.log(ADAPTER_PREFIX + JSON.stringify(probe));
  process.exit(0);
}
