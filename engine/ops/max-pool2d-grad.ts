import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt, sameShape } from '../shape.ts';
import { fill } from './fill.ts';
import { poolGeometry, windowArgmax, type MaxPool2dAttrs } from './max-pool2d.ts';
import { maxPool2dGradKernel } from '../../shaders/max-pool2d-grad.ts';

/**
 * maxPool2d's input gradient: x [N, C, H, W], dy [N, C, OH, OW] → dx like x: each dy element added at
 * the position its window's max came from (windowArgmax: PyTorch's pick), summed where windows overlap
 */
export const maxPool2dGradOp: Primitive<MaxPool2dAttrs> = {
  name: 'maxPool2dGrad',
  arity: 2,
  gpu: maxPool2dGradKernel,
  shape: ([x, dy], attrs) => {
    const [oh, ow] = poolGeometry('maxPool2dGrad', x, attrs);
    if (!sameShape(dy, [x[0], x[1], oh, ow])) {
      throw new Error(`maxPool2dGrad: dy ${fmt(dy)} does not fit x ${fmt(x)} (expects ${fmt([x[0], x[1], oh, ow])})`);
    }
    return [...x];
  },
  // scatter-add in double, outputs in order (as PyTorch's CPU backward adds them); rounded on store
  cpu: ([x, dy], [[N, C, H, W], [, , OH, OW]], out, attrs) => {
    const acc = new Float64Array(H * W);
    const m = { value: 0 };
    for (let nc = 0; nc < N * C; nc++) {
      acc.fill(0);
      for (let i = 0; i < OH; i++) {
        for (let j = 0; j < OW; j++) acc[windowArgmax(x, nc * H * W, H, W, i, j, attrs, m)] += dy[(nc * OH + i) * OW + j];
      }
      for (let q = 0; q < H * W; q++) out[nc * H * W + q] = acc[q];
    }
  },
  // piecewise linear in dy with a locally constant routing: dx gets 0 (x moves no gradient between
  // windows, away from ties); d dy would gather G at each window's argmax, which no primitive does yet
  backward: ({ inputs: [x] }) => [
    () => fill(x, 0),
    () => { throw new Error('maxPool2dGrad: the gradient with respect to dy (a second derivative of maxPool2d) is not implemented'); },
  ],
};

export const maxPool2dGrad = (x: Tensor, dy: Tensor, attrs: MaxPool2dAttrs): Tensor =>
  apply(maxPool2dGradOp, [x, dy], attrs);
