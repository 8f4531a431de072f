// text widths for Vega's layout where there is no canvas (Node, Deno): advance widths of DejaVu Sans, the
// report's font, measured once in Chromium (canvas measureText at 1000 px). Without them Vega estimates
// 0.8 em per character, which cuts axis labels and legends short and misplaces titles. The browser
// measures with its own canvas and never uses this.

/** the characters measured, in table order */
const CHARS = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~–—±×Δμ∂…ε’−→·σ";

// thousandths of an em, one per character of CHARS
const REGULAR = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636,
  636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
  603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
  634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838, 500,
  1000, 838, 838, 684, 636, 517, 1000, 541, 318, 838, 838, 318, 634,
];
const BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696,
  696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850,
  733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716,
  712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838, 500,
  1000, 838, 838, 774, 736, 544, 1000, 557, 380, 838, 838, 380, 779,
];
const MONO = 602;

const index = new Map([...CHARS].map((c, i) => [c, i]));

/** width in px of `text` at `size` px in DejaVu Sans (bold, or the monospace face); unknown characters count as a wide letter */
export function textWidth(text: string, size: number, o: { bold?: boolean; mono?: boolean } = {}): number {
  if (o.mono) return (MONO * [...text].length * size) / 1000;
  const table = o.bold ? BOLD : REGULAR;
  let w = 0;
  for (const c of text) {
    const i = index.get(c);
    w += i === undefined ? 700 : table[i];
  }
  return (w * size) / 1000;
}

interface TextItem { fontSize?: number; fontWeight?: string | number; font?: string; limit?: number; text?: unknown }

/**
 * makes Vega measure text with these widths when it has no canvas (Node, Deno); does nothing when it
 * measures with a canvas (the browser). `metrics` is vega's textMetrics object.
 */
export function installTextWidths(metrics: { width: unknown; estimateWidth: unknown }): void {
  if (metrics.width !== metrics.estimateWidth) return;
  metrics.width = (item: TextItem, text: unknown): number => {
    const size = item.fontSize != null ? +item.fontSize || 0 : 11;
    const s = text == null ? '' : String(text).trim();
    const bold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600) || item.fontWeight === '600' || item.fontWeight === '700';
    const w = textWidth(s, size, { bold, mono: /mono/i.test(String(item.font ?? '')) });
    // a label limit truncates the text to at most `limit` px (Vega's truncation calls this same function)
    return item.limit && item.limit > 0 ? Math.min(w, item.limit) : w;
  };
}
