// the package ships no types and no "main": import its one file by path.
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** template tag: resolves `#if ${cond}` / `#elif ${cond}` / `#else` / `#endif`, substitutes the rest */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
