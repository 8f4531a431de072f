// analysis/cnn.json (the CNN's own results, analysis/cnn-suite.ts) checked before the report draws it:
// every shape it claims matches the values it holds, every index and receptive field lies in the image,
// typed arrays restored; pure. A bad file is left out with a one-line reason (InputError naming the path).
import type { CnnResults } from './cnn-suite.ts';
import { Check } from './analysis-json.ts';
import { ANALYSIS_LIMITS } from './analysis-json.ts';

export const CNN_JSON = 'analysis/cnn.json';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** parsed analysis/cnn.json → CnnResults (mutated in place), or InputError(analysis/cnn.json, 'path: problem') */
export function validateCnnResults(v: unknown): CnnResults {
  const c = new Check(CNN_JSON), L = ANALYSIS_LIMITS;
  const o = c.obj(v, '$');
  c.str(o.arch, '$.arch');
  c.str(o.target, '$.target');
  const input = c.arr(o.input, '$.input', 3).map((x, i) => c.int(x, `$.input[${i}]`, 1, L.pixels));
  const [, rows, cols] = input;
  const count = c.int(o.count, '$.count', 1);
  const classes = c.int(o.classes, '$.classes', 1, L.classes);
  const shape3 = (x: unknown, p: string) => c.arr(x, p, 3).map((y, i) => c.int(y, `${p}[${i}]`, 1, L.width)) as number[];
  c.arr(o.maps, '$.maps').forEach((m, i) => { const e = c.obj(m, `$.maps[${i}]`); c.str(e.name, `$.maps[${i}].name`); shape3(e.shape, `$.maps[${i}].shape`); });
  const f = c.obj(o.filters, '$.filters');
  c.int(f.layer, '$.filters.layer', 0, L.layers);
  const fs = c.arr(f.shape, '$.filters.shape', 4).map((y, i) => c.int(y, `$.filters.shape[${i}]`, 1, L.width)) as number[];
  if (prod(fs) > L.fileBytes / 4) c.fail('$.filters.shape', 'too large');
  f.weights = Float32Array.from(c.nums(f.weights, '$.filters.weights', prod(fs)));
  f.bias = Float32Array.from(c.nums(f.bias, '$.filters.bias', fs[0]));
  const fm = c.obj(o.featureMaps, '$.featureMaps');
  c.int(fm.index, '$.featureMaps.index', 0, count - 1);
  c.index(fm.label, '$.featureMaps.label', classes, 'class');
  c.arr(fm.maps, '$.featureMaps.maps').forEach((m, i) => {
    const p = `$.featureMaps.maps[${i}]`, e = c.obj(m, p);
    c.str(e.name, `${p}.name`);
    e.data = Float32Array.from(c.nums(e.data, `${p}.data`, prod(shape3(e.shape, `${p}.shape`)), true));
  });
  c.arr(o.topImages, '$.topImages').forEach((t, i) => {
    const p = `$.topImages[${i}]`, e = c.obj(t, p);
    c.str(e.name, `${p}.name`);
    c.str(e.by, `${p}.by`);
    const [C] = shape3(e.shape, `${p}.shape`);
    const k = c.int(e.k, `${p}.k`, 1, count);
    c.arr(e.channels, `${p}.channels`, C).forEach((ch, j) => {
      const q = `${p}.channels[${j}]`, x = c.obj(ch, q);
      c.int(x.channel, `${q}.channel`, 0, C - 1);
      const ims = c.arr(x.images, `${q}.images`);
      if (ims.length > k) c.fail(`${q}.images`, `${ims.length} images, more than k = ${k}`);
      ims.forEach((im, r) => {
        const s = `${q}.images[${r}]`, y = c.obj(im, s);
        c.int(y.index, `${s}.index`, 0, count - 1);
        c.index(y.label, `${s}.label`, classes, 'class');
        c.num(y.value, `${s}.value`);
        c.arr(y.position, `${s}.position`, 2).forEach((z, w) => c.int(z, `${s}.position[${w}]`));
        const fd = c.obj(y.field, `${s}.field`);
        const top = c.int(fd.top, `${s}.field.top`, 0, rows - 1), bottom = c.int(fd.bottom, `${s}.field.bottom`, top, rows - 1);
        const left = c.int(fd.left, `${s}.field.left`, 0, cols - 1);
        c.int(fd.right, `${s}.field.right`, left, cols - 1);
        c.int(fd.size, `${s}.field.size`, Math.max(0, bottom - top), L.width);
      });
    });
  });
  const ft = c.obj(o.features, '$.features');
  c.str(ft.name, '$.features.name');
  c.int(ft.dims, '$.features.dims', 1);
  c.int(ft.channels, '$.features.channels', 1);
  const pj = c.obj(ft.pca, '$.features.pca');
  const pr = c.arr(pj.rows, '$.features.pca.rows');
  if (pr.length > count) c.fail('$.features.pca.rows', `${pr.length} rows, more than the ${count} images analysed`);
  pr.forEach((r, i) => c.int(r, `$.features.pca.rows[${i}]`, 0, count - 1));
  c.indices(pj.labels, '$.features.pca.labels', classes, 'class', pr.length);
  c.tensor(pj.embedding, '$.features.pca.embedding', pr.length, 2, true);
  if (pj.explainedVarianceRatio !== undefined) c.nums(pj.explainedVarianceRatio, '$.features.pca.explainedVarianceRatio', undefined, true);
  pj.rows = Uint32Array.from(pr as number[]);
  pj.labels = Uint8Array.from(pj.labels as number[]);
  const sil = c.obj(ft.silhouette, '$.features.silhouette');
  c.int(sil.rows, '$.features.silhouette.rows', 0, count);
  for (const key of ['flattened', 'channels']) {
    const e = c.obj(sil[key], `$.features.silhouette.${key}`);
    e.full = c.num(e.full, `$.features.silhouette.${key}.full`, true);
    e.pca = c.num(e.pca, `$.features.silhouette.${key}.pca`, true);
  }
  const tm = c.obj(o.timings ?? {}, '$.timings');
  for (const k of Object.keys(tm)) tm[k] = c.num(tm[k], `$.timings.${k}`, true);
  return o as unknown as CnnResults;
}
