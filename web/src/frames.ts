// the page's frame gaps, measured with requestAnimationFrame: the time between two frames the browser
// painted (or could have painted) while training runs. A gap is what a user sees as a freeze — a long
// chart draw on the main thread, a big message being cloned, a compositor starved by the GPU process.
// Timers (setInterval) keep firing through some of those freezes, so they are no measure of painting.

/** one long gap: when it began (ms since the monitor started) and how long it was */
export interface FrameGap { at: number; ms: number }

export interface FrameReport {
  /** frames seen since the monitor started */
  frames: number;
  /** the longest gap between two frames (ms) */
  longest: number;
  /** gaps over 100 ms and over 250 ms */
  over100: number;
  over250: number;
  /** the five longest gaps, longest first */
  worst: FrameGap[];
  /** ms the monitor has watched */
  watched: number;
  running: boolean;
}

export class FrameMonitor {
  private id = 0;
  private t0 = 0;
  private last = 0;
  private stopped = 0;
  private report: FrameReport = FrameMonitor.empty();

  private static empty(): FrameReport {
    return { frames: 0, longest: 0, over100: 0, over250: 0, worst: [], watched: 0, running: false };
  }

  /** `onGap` is called with every frame's gap (the page's developer line) */
  constructor(private readonly onFrame?: (r: FrameReport) => void) {}

  /** starts watching (again: the gaps so far are kept until reset) */
  start(): void {
    if (this.report.running) return;
    this.report.running = true;
    this.t0 ||= performance.now();
    this.last = 0;
    this.id = requestAnimationFrame(this.tick);
  }

  stop(): void {
    if (!this.report.running) return;
    cancelAnimationFrame(this.id);
    this.report.running = false;
    this.stopped = performance.now();
    this.report.watched = Math.round(this.stopped - this.t0);
  }

  reset(): void {
    this.stop();
    this.report = FrameMonitor.empty();
    this.t0 = 0;
  }

  /** what was measured (a copy) */
  get(): FrameReport {
    const r = this.report;
    return { ...r, worst: r.worst.map((g) => ({ ...g })), watched: r.running ? Math.round(performance.now() - this.t0) : r.watched };
  }

  private readonly tick = (t: number): void => {
    const r = this.report;
    if (!r.running) return;
    // rAF's timestamp is the frame's start; the first frame after start() only sets the mark
    if (this.last) {
      const ms = Math.round(t - this.last);
      r.frames++;
      if (ms > r.longest) r.longest = ms;
      if (ms > 100) r.over100++;
      if (ms > 250) r.over250++;
      if (r.worst.length < 5 || ms > r.worst[r.worst.length - 1].ms) {
        r.worst.push({ at: Math.round(this.last - this.t0), ms });
        r.worst.sort((a, b) => b.ms - a.ms);
        r.worst.length = Math.min(r.worst.length, 5);
      }
      this.onFrame?.(r);
    }
    this.last = t;
    this.id = requestAnimationFrame(this.tick);
  };
}
