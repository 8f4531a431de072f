// live updates within an epoch, the page's side: the loss and accuracy chart with the worker's running
// points (live-steps.ts) besides the per-epoch ones. x is the epoch as a fraction, counted as the page
// counts epochs: epoch 1 ends at 1, so a point halfway through epoch 1 is at 0.5 and the last running
// point of an epoch meets that epoch's own point (its training loss is the running mean at its end).
// The chart is embedded once per epoch (and once for the first running point); the points in between are
// inserted into the drawn view (view.insert on the named data set: no re-embed, no Vega-Lite compile),
// at most once per animation frame however many points came.
import { clean, topLevel, type Row, type VegaLiteSpec } from '../../analysis/figures/spec.ts';
import type { EpochMetrics } from '../../mlp/train.ts';
import type { LivePoint } from './live-steps.ts';

export type { LivePoint } from './live-steps.ts';

/** the chart's data set, by name (Vega-Lite `datasets`), which view.insert adds to */
export const CURVES_DATA = 'curves';
export const RUNNING = 'train, within the epoch';

/** a running point's two rows (loss, accuracy); `e` keeps each epoch's line apart */
export function liveRows(points: readonly LivePoint[]): Row[] {
  return points.flatMap((p) => {
    const epoch = p.epoch + p.step / p.steps, e = p.epoch + 1;
    return [
      { epoch, e, metric: 'loss', split: RUNNING, value: clean(p.loss) },
      { epoch, e, metric: 'accuracy (%)', split: RUNNING, value: clean(p.accuracy) },
    ];
  });
}

/**
 * the loss and accuracy chart: `epochs` (counted from 1, as fromOne gives them) as lines with points, and
 * the running points as thinner lines, one per epoch; `usermeta` says which run and how many running
 * points the spec holds (the page inserts the later ones)
 */
export function curvesSpec(epochs: readonly EpochMetrics[], points: readonly LivePoint[], run: number): VegaLiteSpec {
  const rows: Row[] = epochs.flatMap((m): Row[] => [
    { epoch: m.epoch, e: 0, metric: 'loss', split: 'train', value: clean(m.trainLoss) },
    { epoch: m.epoch, e: 0, metric: 'loss', split: 'test', value: clean(m.testLoss) },
    { epoch: m.epoch, e: 0, metric: 'accuracy (%)', split: 'train', value: clean(m.trainAccuracy) },
    { epoch: m.epoch, e: 0, metric: 'accuracy (%)', split: 'test', value: clean(m.testAccuracy) },
  ]).concat(liveRows(points));
  // from 0 (the run's start), growing with it: epoch 1's running points spread over the chart while it trains
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domainMin: 0 }, axis: { format: '~g' } };
  const y = { field: 'value', type: 'quantitative', title: null, scale: { zero: false } };
  const color = {
    field: 'split', type: 'nominal', title: 'split',
    scale: { domain: ['train', 'test', RUNNING], range: ['#4c78a8', '#f58518', '#7fb2e0'] },
  };
  const tooltip = [{ field: 'epoch', format: '.2f' }, { field: 'split' }, { field: 'value', format: '.4f' }];
  const spec = topLevel('Loss and accuracy per epoch', [], {
    usermeta: { run, points: points.length },
    datasets: { [CURVES_DATA]: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['loss', 'accuracy (%)'] } },
    spec: {
      width: 320, height: 220,
      layer: [
        {
          transform: [{ filter: `datum.split === '${RUNNING}'` }],
          mark: { type: 'line', strokeWidth: 1.5, interpolate: 'monotone' },
          encoding: { x, y, color, detail: { field: 'e', type: 'nominal' }, tooltip },
        },
        {
          transform: [{ filter: `datum.split !== '${RUNNING}'` }],
          mark: { type: 'line', point: { filled: true, size: 40 } },
          encoding: { x, y, color, tooltip },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  }) as unknown as Record<string, unknown>;
  spec.data = { name: CURVES_DATA };
  return spec as unknown as VegaLiteSpec;
}

/** what the drawn chart holds: its run and how many running points (the spec's usermeta) */
const metaOf = (spec: VegaLiteSpec) => ((spec as { usermeta?: { run?: number; points?: number } }).usermeta ?? {});

interface InsertableView { insert(name: string, rows: object[]): { resize(): { runAsync(): Promise<unknown> } } }

export interface LiveHooks {
  /** the chart's current Vega view, if drawn */
  view(): InsertableView | undefined;
  /** asks the page for a full draw of the chart (curvesSpec of everything so far), on its drawing queue */
  redraw(): void;
  /** `count` running points are on the chart now, the last one `last` */
  shown(count: number, last: LivePoint | undefined): void;
}

/** the running points of the page's run and their way onto the chart */
export class LiveCurves {
  points: LivePoint[] = [];
  /** the run the points belong to (a new run starts again; a paused run that continues does not) */
  run = 0;
  /** ms from Train to the first running point on the chart (null: none yet) */
  firstShownMs: number | null = null;
  /** view.insert calls and full draws of the chart this run */
  inserts = 0;
  draws = 0;
  private t0 = 0;
  private drawn = { run: -1, points: 0 };
  private busy = 0;
  private queued = false;
  private frame = 0;

  constructor(private readonly hooks: LiveHooks) {}

  /** a new run from Train (t0: when it was clicked) */
  newRun(t0: number): void {
    this.run++;
    this.points = [];
    this.firstShownMs = null;
    this.inserts = this.draws = 0;
    this.t0 = t0;
  }

  add(p: LivePoint): void {
    // a point of an epoch whose own point came already (it cannot: reads settle in order) is dropped
    this.points.push(p);
    this.schedule();
  }

  spec(epochs: readonly EpochMetrics[]): VegaLiteSpec {
    return curvesSpec(epochs, this.points, this.run);
  }

  /** runs a full draw of the chart: no insertion meanwhile; after it, the points the drawn spec lacks */
  async whileDrawing(spec: VegaLiteSpec, draw: () => Promise<void>): Promise<void> {
    this.busy++;
    this.queued = false;
    let drawn = false;
    try {
      await draw();
      drawn = true;
      const m = metaOf(spec);
      this.drawn = { run: m.run ?? -1, points: m.points ?? 0 };
      if (m.run === this.run) this.draws++;
      this.showing();
    } finally {
      this.busy--;
      // a draw that failed (said on the page) is tried again with the next point, not every frame
      if (drawn) this.schedule();
    }
  }

  /** the next frame adds what came since (one insert however many points) */
  schedule(): void {
    if (this.frame || !this.points.length) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush(); });
  }

  private flush(): void {
    if (this.busy) return;
    const view = this.hooks.view();
    if (!view || this.drawn.run !== this.run) {
      // nothing of this run on the chart yet: a full draw (once)
      if (!this.queued) { this.queued = true; this.hooks.redraw(); }
      return;
    }
    const fresh = this.points.slice(this.drawn.points);
    if (!fresh.length) return;
    this.drawn.points = this.points.length;
    this.inserts++;
    // resize: the axes' labels change with the data, and the canvas follows (else a legend below is cut)
    void view.insert(CURVES_DATA, liveRows(fresh)).resize().runAsync().then(() => this.showing());
  }

  private showing(): void {
    if (this.drawn.run !== this.run) return;
    if (this.drawn.points > 0 && this.firstShownMs === null) this.firstShownMs = Math.round(performance.now() - this.t0);
    this.hooks.shown(this.drawn.points, this.points[this.drawn.points - 1]);
  }
}
