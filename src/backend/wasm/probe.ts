// Feature probes: tiny hand-encoded modules checked with WebAssembly.validate.

function moduleReturningV128(body: number[]): Uint8Array<ArrayBuffer> {
  const fn = [0x00, ...body, 0x0b]; // no locals, body, end
  const code = [0x01, fn.length, ...fn];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, code.length, ...code], // code section
  ]);
}

const V128_CONST = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

/** 128-bit SIMD: v128.const. */
export const SIMD_PROBE = moduleReturningV128(V128_CONST);
/** Relaxed SIMD: f32x4.relaxed_madd (0xfd 0x105) of three constants. */
export const RELAXED_SIMD_PROBE = moduleReturningV128([
  ...V128_CONST,
  ...V128_CONST,
  ...V128_CONST,
  0xfd,
  0x85,
  0x02,
]);

export function simdSupported(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
}

export function relaxedSimdSupported(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(RELAXED_SIMD_PROBE);
}
