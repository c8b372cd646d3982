// The browser/Node globals that Striate's declaration files name (WebAssembly.Module, Instance and Memory in
// the wasm backend's types; URL in InitWasmOptions.kernelBaseUrl; the WebGPU objects the webgpu backend's
// types hold, which @webgpu/types or lib.dom declare in full), declared as opaque interfaces so a
// project compiling with `lib: ["ES2022"]`, no DOM and `skipLibCheck: false` type-checks the package. They
// merge with lib.dom's (or @types/node's) full declarations where those are present. Referenced from
// src/backend/wasm/memory.ts, whose declarations every other use reaches.
/* eslint-disable @typescript-eslint/no-empty-object-type */
declare namespace WebAssembly {
  interface Module {}
  interface Instance {}
  interface Memory {}
}
interface URL {}
interface GPUDevice {}
interface GPUBuffer {}
interface GPUAdapterInfo {}
interface GPURequestAdapterOptions {}
