// a small PNG encoder for the report's images (digits, saliency and one-hot maps, 28×28 each): pure TS,
// no zlib, so the same code runs in Node, Deno and the browser. The deflate stream uses stored (not
// compressed) blocks: a 28×28 RGB map is ≈2.4 kB, and the renderer scales it up pixelated.
// colour maps (gray_r, viridis, hot, as matplotlib draws them) map a value in [0, 1] to RGB.
import { crc32 } from '../mlp/crc32.ts';

export { crc32 };

/** Adler-32 (the zlib stream checksum) of bytes */
export function adler32(bytes: Uint8Array): number {
  let a = 1, b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** a zlib stream of `raw` in stored deflate blocks (≤ 65535 bytes each) */
export function zlibStored(raw: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = new Uint8Array(2 + raw.length + 5 * blocks + 4);
  out[0] = 0x78; out[1] = 0x01; // deflate, 32 K window, no dictionary, fastest (CMF·256+FLG ≡ 0 mod 31)
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535, len = Math.min(65535, raw.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00
    out[o++] = len & 0xff; out[o++] = len >>> 8;
    out[o++] = ~len & 0xff; out[o++] = (~len >>> 8) & 0xff;
    out.set(raw.subarray(start, start + len), o);
    o += len;
  }
  const ad = adler32(raw);
  out[o++] = ad >>> 24; out[o++] = (ad >>> 16) & 0xff; out[o++] = (ad >>> 8) & 0xff; out[o++] = ad & 0xff;
  return out;
}

/**
 * a PNG file of an 8-bit image: pixels [height, width, channels] row-major, channels 1 (grey) or 3 (RGB)
 */
export function encodePng(width: number, height: number, channels: 1 | 3, pixels: Uint8Array): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`png: bad size ${width}×${height}`);
  if (pixels.length !== width * height * channels) throw new RangeError(`png: ${pixels.length} bytes for ${width}×${height}×${channels}`);
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1)); // each scanline: filter type 0, then its bytes
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width); dv.setUint32(4, height);
  ihdr[8] = 8; ihdr[9] = channels === 1 ? 0 : 2; // bit depth 8, grey or truecolour; compression, filter, interlace 0
  const chunks = [chunk('IHDR', ihdr), chunk('IDAT', zlibStored(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(8 + chunks.reduce((n, c) => n + c.length, 0));
  out.set([137, 80, 78, 71, 13, 10, 26, 10]);
  let o = 8;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const c = new Uint8Array(12 + data.length);
  const dv = new DataView(c.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) c[4 + i] = type.charCodeAt(i);
  c.set(data, 8);
  dv.setUint32(8 + data.length, crc32(c.subarray(4, 8 + data.length)));
  return c;
}

/** `data:image/png;base64,…` of PNG bytes */
export function pngDataUri(png: Uint8Array): string {
  let s = '';
  // apply takes the bytes as its argument list directly (a spread walks them through the iterator: ≈ 7× slower)
  for (let i = 0; i < png.length; i += 0x8000) s += String.fromCharCode.apply(null, png.subarray(i, i + 0x8000) as unknown as number[]);
  return 'data:image/png;base64,' + btoa(s);
}

/** width and height from a PNG's header (throws if the bytes are not a PNG) */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) throw new Error('not a PNG');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

// --- colour maps: value in [0, 1] (clamped; NaN → 0) → [r, g, b] bytes

export type ColorMap = 'gray_r' | 'viridis' | 'hot';

// matplotlib's viridis sampled at 0, 1/8, …, 1 (linear interpolation between stops is within 2/255)
const VIRIDIS = [
  [68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

export function colorOf(map: ColorMap, v: number): [number, number, number] {
  const c: [number, number, number] = [0, 0, 0];
  colorInto(map, v, c, 0);
  return c;
}

/** colorOf(map, v) written to out[o], out[o + 1], out[o + 2] (no array per pixel) */
function colorInto(map: ColorMap, v: number, out: Uint8Array | number[], o: number): void {
  const x = Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v));
  if (map === 'gray_r') { const g = Math.round(255 * (1 - x)); out[o] = g; out[o + 1] = g; out[o + 2] = g; return; }
  if (map === 'hot') {
    // matplotlib's hot: red rises over [0, 3/8], green over [3/8, 3/4], blue over [3/4, 1]
    const r = Math.min(1, x / 0.365079), g = Math.min(1, Math.max(0, (x - 0.365079) / 0.380953)), b = Math.max(0, (x - 0.746032) / 0.253968);
    out[o] = Math.round(255 * (0.0416 + 0.9584 * r)); out[o + 1] = Math.round(255 * g); out[o + 2] = Math.round(255 * b);
    return;
  }
  const p = x * (VIRIDIS.length - 1), i = Math.min(VIRIDIS.length - 2, Math.floor(p)), f = p - i;
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  for (let k = 0; k < 3; k++) out[o + k] = Math.round(a[k] + (b[k] - a[k]) * f);
}

/** colorOf's clamp: [0, 1], NaN → 0 */
const clamp01 = (v: number): number => (Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v)));

/**
 * a values image [rows, cols] (row-major; NaN drawn as 0) as a PNG through a colour map, values mapped
 * from [lo, hi] (default the image's own min and max) to [0, 1]
 */
export function mapToPng(values: ArrayLike<number>, rows: number, cols: number, map: ColorMap, range?: readonly [number, number]): Uint8Array {
  if (values.length !== rows * cols) throw new RangeError(`map: ${values.length} values for ${rows}×${cols}`);
  let [lo, hi] = range ?? [Infinity, -Infinity];
  if (!range) for (let i = 0; i < values.length; i++) { const v = values[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  const span = hi > lo ? hi - lo : 1;
  if (!Number.isFinite(lo)) lo = 0;
  if (map === 'gray_r') {
    const px = new Uint8Array(rows * cols);
    for (let i = 0; i < px.length; i++) px[i] = Math.round(255 * (1 - clamp01((values[i] - lo) / span)));
    return encodePng(cols, rows, 1, px);
  }
  const px = new Uint8Array(rows * cols * 3);
  for (let i = 0; i < rows * cols; i++) colorInto(map, (values[i] - lo) / span, px, 3 * i);
  return encodePng(cols, rows, 3, px);
}
