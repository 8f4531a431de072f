import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArchError, cnnMacs, cnnParamCount, cnnParamShapes, formatArch, parseArch, REFERENCE_CNN, resolveCnn } from '../../mlp/arch.ts';

test('mlp specs: the default widths, explicit widths, logistic regression', () => {
  assert.equal(parseArch('mlp'), { kind: 'mlp', hidden: [32, 16] });
  assert.equal(parseArch('mlp:32,16'), { kind: 'mlp', hidden: [32, 16] });
  assert.equal(parseArch(' MLP : 100 '), { kind: 'mlp', hidden: [100] });
  assert.equal(parseArch('mlp:'), { kind: 'mlp', hidden: [] });
});

test('cnn alone is the reference CNN; the grammar reads conv, pool, stride, padding and widths', () => {
  assert.equal(parseArch('cnn'), parseArch(REFERENCE_CNN));
  assert.equal(parseArch('cnn'), {
    kind: 'cnn', layers: [
      { kind: 'conv', out: 8, kernel: 5, stride: 1, padding: 0 }, { kind: 'pool', kernel: 2, stride: 2 },
      { kind: 'conv', out: 16, kernel: 5, stride: 1, padding: 0 }, { kind: 'pool', kernel: 2, stride: 2 },
      { kind: 'linear', out: 32 },
    ],
  });
  assert.equal(parseArch('cnn:conv4x3s2p1,pool3s2,7,5').kind === 'cnn' && parseArch('cnn:conv4x3s2p1,pool3s2,7,5'), {
    kind: 'cnn', layers: [
      { kind: 'conv', out: 4, kernel: 3, stride: 2, padding: 1 }, { kind: 'pool', kernel: 3, stride: 2 },
      { kind: 'linear', out: 7 }, { kind: 'linear', out: 5 },
    ],
  });
});

test('formatArch writes what parseArch reads', () => {
  for (const t of ['mlp:32,16', 'mlp:', 'cnn:conv8x5,pool2,conv16x5,pool2,32', 'cnn:conv4x3s2p1,pool3s2,7,5', 'cnn:conv1x1']) {
    assert.is(formatArch(parseArch(t)), t);
  }
});

test('bad specs are refused with the part that is wrong', () => {
  const bad: [string, RegExp][] = [
    ['resnet', /expected mlp\[:W,W,…\] or cnn/],
    ['mlp:32,x', /hidden width 2 must be a positive whole number, got 'x'/],
    ['mlp:0', /hidden width 1 must be 1 to 65536, got 0/],
    ['cnn:conv8', /layer 1 \('conv8'\) is not convCxK/],
    ['cnn:conv0x5', /channels must be 1 to 65536/],
    ['cnn:32,16', /a cnn needs a conv or pool layer \(for linear layers only, use mlp:32,16\)/],
    ['cnn:a:b', /one ':' at most/],
    [`cnn:${Array(65).fill('conv1x1').join(',')}`, /at most 64 layers, got 65/],
  ];
  for (const [t, m] of bad) assert.throws(() => parseArch(t), (e: Error) => e instanceof ArchError && m.test(e.message), t);
});

test('the reference CNN resolves to PyTorch shapes: 1×28×28 → 8×24×24 → 8×12×12 → 16×8×8 → 16×4×4 → 256 → 32 → 10', () => {
  const spec = parseArch('cnn');
  if (spec.kind !== 'cnn') throw new Error('not a cnn');
  const layers = resolveCnn(spec.layers, [1, 28, 28], 10);
  assert.equal(layers.map((l) => `${l.kind} ${l.inShape.join('x')}→${l.outShape.join('x')}`), [
    'conv 1x28x28→8x24x24', 'pool 8x24x24→8x12x12', 'conv 8x12x12→16x8x8', 'pool 16x8x8→16x4x4', 'linear 256→32', 'linear 32→10',
  ]);
  assert.equal(cnnParamShapes(layers), [
    { W: [8, 1, 5, 5], b: [8] }, { W: [16, 8, 5, 5], b: [16] }, { W: [256, 32], b: [32] }, { W: [32, 10], b: [10] },
  ]);
  // 8·25+8 + 16·200+16 + 256·32+32 + 32·10+10
  assert.is(cnnParamCount(layers), 208 + 3216 + 8224 + 330);
  // 8·24·24·25 + 16·8·8·200 + 256·32 + 32·10
  assert.is(cnnMacs(layers), 115200 + 204800 + 8192 + 320);
});

test('stride, padding and floor mode as PyTorch computes output sizes', () => {
  const spec = parseArch('cnn:conv3x4s2p1,pool3s2');
  if (spec.kind !== 'cnn') throw new Error('not a cnn');
  // conv: floor((27 + 2 − 4)/2) + 1 = 13, floor((29 + 2 − 4)/2) + 1 = 14; pool: floor((13 − 3)/2) + 1 = 6, floor((14 − 3)/2) + 1 = 6
  const layers = resolveCnn(spec.layers, [1, 27, 29], 10);
  assert.equal(layers.map((l) => l.outShape), [[3, 13, 14], [3, 6, 6], [10]]);
});

test('layers that cannot fit are refused', () => {
  const at = (t: string, input: [number, number, number] = [1, 28, 28]) => {
    const s = parseArch(t);
    if (s.kind !== 'cnn') throw new Error('not a cnn');
    return () => resolveCnn(s.layers, input, 10);
  };
  assert.throws(at('cnn:conv8x29'), /a 29×29 kernel does not fit its 1×28×28 input/);
  assert.throws(at('cnn:conv8x5,pool2,conv8x5,pool2,conv8x5'), /layer 5 \(conv\): a 5×5 kernel does not fit its 8×4×4 input/);
  assert.throws(at('cnn:conv8x5,32,conv8x3'), /comes after a linear layer/);
  assert.throws(at('cnn:pool2,conv8x5'), /a pool layer follows a conv layer/);
  assert.throws(at('cnn:conv8x5,pool2,pool2'), /a pool layer follows a conv layer/);
});

test.run();
