// the page's colours (the CNN explorer, web/src/network-panel.ts and its views): weights in diverging colours
// (blue −, near-white 0, red +, as the CNN explorer's filters), activations in one sequential colour
// (near-white 0 → green, a colour the weights do not use). Pure: the tests compute expected pixels with them.

/** RdBu-like diverging colours: −1 blue, 0 near-white, +1 red (values clamped) */
export function diverging(t: number): [number, number, number] {
  const u = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const mid = [247, 247, 247], end = u < 0 ? [33, 102, 172] : [178, 24, 43], a = Math.abs(u);
  return [0, 1, 2].map((i) => Math.round(mid[i] + (end[i] - mid[i]) * a)) as [number, number, number];
}

/** activations: 0 (or less) near-white, 1 dark green (values clamped) */
export function sequential(t: number): [number, number, number] {
  const u = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
  const lo = [247, 247, 247], hi = [0, 109, 44];
  return [0, 1, 2].map((i) => Math.round(lo[i] + (hi[i] - lo[i]) * u)) as [number, number, number];
}

export const css = (c: readonly number[]) => `rgb(${c[0]},${c[1]},${c[2]})`;

/** the largest |value| (0 for none) */
export function maxAbs(v: ArrayLike<number>, from = 0, to = v.length): number {
  let m = 0;
  for (let i = from; i < to; i++) { const a = Math.abs(v[i]); if (a > m) m = a; }
  return m;
}

/** a short number for a scale's ends */
export const short = (s: number) => (s === 0 ? '0' : Math.abs(s) >= 100 || Math.abs(s) < 0.01 ? s.toExponential(1) : s.toPrecision(2));

/** a colour bar with its ends: −s … +s (diverging) or 0 … s (sequential) */
export function colourBar(scale: number, kind: 'diverging' | 'sequential', what: string): HTMLElement {
  const f = Object.assign(document.createElement('span'), { className: 'scale', title: `${what}: ${kind === 'diverging' ? `−${scale} … 0 … +${scale}` : `0 … ${scale}`}` });
  const bar = Object.assign(document.createElement('span'), { className: kind === 'diverging' ? 'cbar' : 'cbar nv-seq' });
  bar.setAttribute('aria-hidden', 'true');
  f.append(kind === 'diverging' ? `−${short(scale)}` : '0', bar, `${kind === 'diverging' ? '+' : ''}${short(scale)}`);
  return f;
}

/** a canvas of h×w values at `offset`, each coloured by colour(v), shown `px` CSS pixels wide */
export function heatCanvas(values: ArrayLike<number>, offset: number, h: number, w: number, colour: (v: number) => readonly number[], px: number, stride = 1): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  c.style.width = `${px}px`;
  c.style.height = `${Math.round((px * h) / w)}px`;
  const ctx = c.getContext('2d')!, img = ctx.createImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = colour(values[offset + p * stride]);
    img.data[p * 4] = r; img.data[p * 4 + 1] = g; img.data[p * 4 + 2] = b; img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}
