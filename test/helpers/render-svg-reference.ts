// analysis/render-figures.ts renderSvg as it was before it took the tooltips out of the compiled spec and
// gave Vega a code generator that makes each expression's function once (withoutTooltips,
// CACHED_CODEGEN): Vega's View on the compiled spec as it is, with Vega's own code generator. Kept as the
// oracle test/analysis/render-figures-fast.test.ts compares the SVGs with, byte for byte.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { VegaLiteSpec } from '../../analysis/figures/spec.ts';

/** a Vega-Lite spec → SVG text (Vega's headless View, no canvas); ids continue Vega's counters */
export async function renderSvgReference(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
