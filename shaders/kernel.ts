// what a kernel module hands the WebGPU backend, and the WGSL prelude every kernel shares.
// the binding convention (shaders/README.md): bound inputs at 0..n-1, the output at n, `params` at n+1.
// shaders import nothing of ours: shapes are plain number arrays here.

export type Shape = readonly number[];

/** WGSL types a `Params` field may have (vec4u: up to 4 u32, e.g. a rank-4 shape) */
export type ParamType = 'u32' | 'f32' | 'vec4u';
/** field name → type, in declaration order (the struct and the uniform bytes both follow it) */
export type Layout = Record<string, ParamType>;
export type Values<L extends Layout> = { [K in keyof L]: L[K] extends 'vec4u' ? readonly number[] : number };

/** one dispatch of a kernel, planned from the shapes and attributes of one op call */
export interface Dispatch<L extends Layout = Layout> {
  /** pipeline cache key after the op name: everything the WGSL text depends on ('' for one variant) */
  variant: string;
  /** the WGSL of that variant; called once per key */
  source(): string;
  layout: L;
  params: Values<L>;
  /** workgroups as [x, y, z]; a number is split over x and y by the backend when it exceeds the limit */
  workgroups: number | readonly [number, number, number];
  /** which inputs are bound (default all); fill reads none */
  bind?: readonly number[];
}

/** types a dispatch against its layout (params must match the Params struct field for field) */
export const plan = <L extends Layout>(d: Dispatch<L>): Dispatch<L> => d;

/** the output shares the storage of input `alias` (reshape): nothing is dispatched */
export interface Alias { alias: number }

export interface KernelContext {
  maxWorkgroupsPerDimension: number;
  /** a named variant forced by the caller (e.g. matmul 'naive' for benchmarks) */
  variant?: string;
  /** the device's features (a variant that needs one is picked only where it is there) */
  features?: ReadonlySet<string>;
}

/** plans the dispatch of one op call: the `gpu` field of a primitive record */
export type GpuKernel<A = any> =
  (inputs: readonly Shape[], out: Shape, attrs: A, ctx: KernelContext) => Dispatch<any> | Alias;

/** invocations per workgroup of the 1-D kernels (≤ 128, the compatibility-mode default limit) */
export const WG = 64;

export const sizeOf = (s: Shape): number => s.reduce((a, b) => a * b, 1);
export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** the binding declarations and the Params struct of a kernel with `inputs` bound inputs */
export function header(inputs: number, layout: Layout): string {
  const names = ['a', 'b', 'c', 'd'];
  const fields = Object.entries(layout).map(([k, t]) => `  ${k}: ${t === 'vec4u' ? 'vec4<u32>' : t},`);
  return [
    ...Array.from({ length: inputs }, (_, i) =>
      `@group(0) @binding(${i}) var<storage, read> ${names[i]}: array<f32>;`),
    `@group(0) @binding(${inputs}) var<storage, read_write> out: array<f32>;`,
    `struct Params {\n${fields.join('\n')}\n}`,
    `@group(0) @binding(${inputs + 1}) var<uniform> params: Params;`,
  ].join('\n');
}

/**
 * the entry point of a 1-D kernel: `i` is the flat output index, counted over a 2-D grid of
 * workgroups (the x dimension is capped at maxComputeWorkgroupsPerDimension).
 */
export const main1d = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;`;

/**
 * a non-finite f32 from its bits: a quiet NaN (0x7fc00000) or -inf (0xff800000). WGSL rejects them in
 * constant expressions, so the bits are or-ed with a uniform field times 0, which makes them a runtime value.
 */
export const f32bits = (bits: number, uniform: string): string =>
  `bitcast<f32>(0x${bits.toString(16)}u | (params.${uniform} * 0u))`;
