// the run report's pure parts: Vega-Lite spec → SVG (Vega's headless View: no browser, no canvas) and the
// page RUN/report.html, one self-contained page (inline SVG figures, inline PNG images, no script, no
// network) with every figure of analysis/figures in the notebooks' order, a one-line caption under each
// and relative links to its data: figures/<id>.csv (the spec's data), figures/<id>.vl.json (the Vega-Lite
// spec, for vega-embed) and the run files it came from. Reading a saved run and writing the report (and
// PNG export through resvg) is run/report.ts; the page builds the same report in memory.
import { SECTIONS, type Figure, type FigureSet, type RunResults } from './figures/index.ts';
import type { Finding } from './through-training-types.ts';

// the SVG side (Vega, its text widths, the ids and coordinates of an SVG) is analysis/render-figures.ts
export { compactSvg, renderSvg, scopeSvgIds } from './render-figures.ts';

export const FIGURES_DIR = 'figures';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `
body { font: 15px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 0; background: #fafafa; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 18px; }
h1 { font-size: 24px; margin: 8px 0; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-top: 8px; border-top: 1px solid #ddd; }
h2 small { font-weight: normal; color: #777; font-size: 13px; margin-left: 8px; }
.summary { margin: 4px 0; }
nav ol { columns: 2; margin: 8px 0; padding-left: 22px; }
figure.figure { background: #fff; border: 1px solid #e3e3e3; border-radius: 4px; margin: 14px 0; padding: 12px; }
figure .chart { overflow-x: auto; }
figure .chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13.5px; color: #333; margin-top: 6px; }
figcaption .num { font-weight: bold; }
figcaption .links { color: #666; margin-left: 6px; white-space: nowrap; }
figcaption a { color: #1f5fa8; }
.missing { color: #8a5300; background: #fff7e6; border: 1px solid #f0d9a8; padding: 6px 10px; border-radius: 4px; }
footer { color: #777; font-size: 12px; padding: 30px 24px; }
.findings { background: #fff; border: 1px solid #e3e3e3; border-radius: 4px; margin: 14px 0; padding: 8px 12px 10px; }
.findings h3 { font-size: 15px; margin: 4px 0 6px; }
.findings ol { margin: 0; padding-left: 24px; }
.findings li { margin: 5px 0; }
.findings details summary { color: #1f5fa8; cursor: pointer; font-size: 13px; }
.findings .table { overflow-x: auto; }
.findings table { border-collapse: collapse; font-size: 12.5px; margin: 4px 0 6px; }
.findings th, .findings td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
.findings th { background: #f3f3f3; }
.findings a { color: #1f5fa8; }
.findings h3 small { font-weight: normal; color: #777; font-size: 12.5px; }
/* the small multiples through training stay at their size on a phone, scrolled sideways, not shrunk past reading */
@media (max-width: 700px) { #sec-through-training figure .chart svg { max-width: none; } }
/* a phone: the contents in one column (two overlapped their numbers), a figure's data links wrapped inside its card */
@media (max-width: 600px) {
  nav ol { columns: 1; }
  figcaption .links { white-space: normal; overflow-wrap: anywhere; margin-left: 0; }
}
`;

/** the page: sections in SECTIONS order, each figure with its SVG (by id), caption and data links */
export function reportHtml(r: RunResults, set: FigureSet, svgs: ReadonlyMap<string, string>, o: { notes?: string[]; generated?: string } = {}): string {
  return reportHtmlParts(r, set, svgs, o).join('');
}

/**
 * reportHtml's text in its pieces: concatenated, they are the page; each figure's SVG is a piece of its own.
 * run/report.ts writes them piece by piece: joined, the page is one string of ≈ 12 M characters, and
 * a single character beyond Latin-1 in a figure (Vega's minus sign) makes all of it two bytes a character
 */
export function reportHtmlParts(r: RunResults, set: FigureSet, svgs: ReadonlyMap<string, string>, o: { notes?: string[]; generated?: string } = {}): string[] {
  const cfg = r.config ?? {};
  const arch = typeof cfg.arch === 'string' ? cfg.arch : r.analysis?.meta.arch;
  const sizes = Array.isArray(cfg.sizes) ? (cfg.sizes as number[]).join('-') : r.analysis ? r.analysis.meta.sizes.join('-') : '';
  const test = r.metrics?.test?.accuracy ?? r.analysis?.accuracy?.accuracy;
  const facts = [
    arch && arch.startsWith('cnn') ? `CNN ${arch}` : sizes && `MLP ${sizes}`,
    r.metrics?.epochs.length ? `${r.metrics.epochs.length} epochs` : '',
    cfg.batch !== undefined ? `batch ${cfg.batch}` : '', cfg.lr !== undefined ? `SGD lr ${cfg.lr}` : '',
    cfg.seed !== undefined ? `seed ${cfg.seed} (${cfg.rng ?? ''})` : '',
    typeof test === 'number' ? `test accuracy ${test.toFixed(2)} %` : '',
  ].filter(Boolean).join(' · ');
  // the page's lines, joined by line ends below; a line given as pieces (a figure) is their concatenation
  const L: (string | string[])[] = [];
  L.push('<!doctype html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>mlp-lens report: ${esc(r.name)}</title>`, `<style>${STYLE}</style>`, '</head>', '<body>', '<header>',
    `<h1>mlp-lens report: ${esc(r.name)}</h1>`, `<p class="summary">${esc(facts)}</p>`,
    '<p class="summary">Every figure of the two “MLP Exploration” notebooks, drawn from this run’s saved results ' +
    '(<a href="config.json">config.json</a>, <a href="metrics.json">metrics.json</a>, <a href="stats/">stats/</a>, <a href="analysis/">analysis/</a>). ' +
    'Under each figure: its data as CSV, its Vega-Lite spec, and the run files it was built from.</p>');
  // notes: what could not be read or was skipped (an unsound analysis file, the MNIST images), one line each
  if (o.notes?.length) L.push('<div class="notes" id="notes">', ...o.notes.map((n) => `<p class="missing">${esc(n)}</p>`), '</div>');
  L.push('<nav><ol>');
  const used = SECTIONS.filter((s) => set.figures.some((f) => f.section === s.id) || set.missing.some((m) => m.section === s.id) ||
    (s.id === 'through-training' && set.findings?.length));
  for (const s of used) L.push(`<li><a href="#sec-${s.id}">${esc(s.title)}</a></li>`);
  L.push('</ol></nav>', '</header>', '<main>');
  let n = 0;
  used.forEach((s, i) => {
    L.push(`<section id="sec-${s.id}">`, `<h2>${i + 1}. ${esc(s.title)}<small>${s.notebook ? `notebook 0${s.notebook}` : 'not in the notebooks'}</small></h2>`);
    for (const m of set.missing.filter((x) => x.section === s.id)) L.push(`<p class="missing">${esc(m.note)}</p>`);
    if (s.id === 'through-training' && set.findings?.length) L.push(findingsHtml(set.findings));
    for (const f of set.figures.filter((x) => x.section === s.id)) L.push(figureHtml(f, ++n, svgs.get(f.id) ?? ''));
    L.push('</section>');
  });
  L.push('</main>', `<footer>mlp-lens · ${n} figures${o.generated ? ` · generated ${esc(o.generated)}` : ''} · ` +
    're-create with <code>mlp-lens report RUN_DIR</code> (<code>--png</code> also writes figures/*.png)</footer>', '</body>', '</html>');
  // (the final line end, once joined)
  L.push('');
  return L.flatMap((line, i) => [...(i ? ['\n'] : []), ...(typeof line === 'string' ? [line] : line)]);
}

/**
 * a figure's HTML in three pieces, its SVG (up to megabytes) one of them: joined, the SVG would be copied
 * whole into a new string (twice its bytes where the caption holds a character beyond Latin-1) when the
 * page is written, where writeAtomic encodes the pieces as they are
 */
function figureHtml(f: Figure, n: number, svg: string): [string, string, string] {
  const sources = f.sources.map((s) => `<a href="${esc(s)}">${esc(s)}</a>`).join(', ');
  const items = f.items.length ? ` · notebook item${f.items.length > 1 ? 's' : ''} ${f.items.join(', ')} (docs/notebooks.md)` : '';
  return [`<figure class="figure" id="fig-${f.id}" data-figure="${f.id}">\n<div class="chart">`, svg, '</div>\n' +
    `<figcaption><span class="num">Figure ${n}.</span> ${esc(f.caption)} <span class="links">` +
    `data: <a href="${FIGURES_DIR}/${f.id}.csv">CSV</a> · <a href="${FIGURES_DIR}/${f.id}.vl.json">Vega-Lite JSON</a> · from ${sources}${items}</span></figcaption>\n</figure>`];
}

/** the findings through training: each sentence, with its table collapsed under it */
function findingsHtml(findings: readonly Finding[]): string {
  const cell = (v: number | string | null) => esc(typeof v === 'number' ? String(Number.isInteger(v) ? v : Number(v.toPrecision(4))) : v === null ? 'n/a' : v);
  const items = findings.map((f) => {
    const t = f.table, rows = t.rows.length;
    const table = t.columns.length && rows
      ? `<details><summary>table (${rows} row${rows === 1 ? '' : 's'})</summary><div class="table"><table><thead><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>` +
        `<tbody>${t.rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</tbody></table></div></details>`
      : '';
    return `<li data-kind="${esc(f.kind)}">${esc(f.text)}${table}</li>`;
  });
  return `<div class="findings" id="findings">\n<h3>Findings, computed from <a href="through-training.json">through-training.json</a></h3>\n<ol>\n${items.join('\n')}\n</ol>\n</div>`;
}
