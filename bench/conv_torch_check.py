#!/usr/bin/env python3
"""Manual check of the CPU oracles of conv2d and maxPool2d against PyTorch. Never run by the tests.

usage: python3 bench/conv_torch_check.py [--tol EPS]

Runs `node bench/conv-torch-check.js TMPDIR`, which writes random cases with mlp-lens's CPU forward and
gradients (float32; dy random), then redoes each case with torch.nn.functional.conv2d / max_pool2d in
float32 on the CPU (autograd for dx, dw, db) and prints, per case, the largest difference of each
tensor relative to its largest magnitude (max|ours − torch| / max(1, max|torch|)). Cases: conv2d with
stride 1 and 2, padding 0, 1 and 2 (the reference CNN's shapes among them); max_pool2d with and without
ties (small integers), overlapping windows (stride < kernel) and padding. Pool values and non-overlapping
pool gradients must match exactly; overlapping ones add a few dy per element (double then f32 here,
f32 in PyTorch). Exit status 0 when every difference is within EPS (default 1e-5), 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def t(data, shape, grad=False):
    return torch.tensor(data, dtype=torch.float32).reshape(shape).requires_grad_(grad)


def rel(ours, theirs):
    theirs = theirs.detach().reshape(-1).double()
    ours = torch.tensor(ours, dtype=torch.float64)
    return (ours - theirs).abs().max().item() / max(1.0, theirs.abs().max().item())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tol', type=float, default=1e-5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix='mlp-lens-conv-') as d:
        subprocess.run(['node', os.path.join(HERE, 'conv-torch-check.js'), d], check=True)
        with open(os.path.join(d, 'cases.json')) as f:
            cases = json.load(f)
    worst = {}
    ok = True

    def note(kind, name, v):
        nonlocal ok
        worst[(kind, name)] = max(worst.get((kind, name), 0.0), v)
        if v > args.tol:
            ok = False
        return v

    print(f'torch {torch.__version__}')
    for c in cases['conv']:
        x, w, b = t(c['xd'], c['x'], True), t(c['wd'], c['w'], True), t(c['bd'], [c['w'][0]], True)
        y = F.conv2d(x, w, b, stride=c['stride'], padding=c['padding'])
        y.backward(t(c['dy'], list(y.shape)))
        diffs = [note('conv2d', n, rel(c[k], v)) for n, k, v in (('y', 'y', y), ('dx', 'dx', x.grad), ('dw', 'dw', w.grad), ('db', 'db', b.grad))]
        assert len(c['y']) == y.numel(), 'output sizes differ'
        print(f"conv2d x{c['x']} w{c['w']} stride {c['stride']} padding {c['padding']}: "
              + ', '.join(f'{n} {v:.2e}' for n, v in zip(('y', 'dx', 'dw', 'db'), diffs)))
    for c in cases['pool']:
        x = t(c['xd'], c['x'], True)
        y = F.max_pool2d(x, c['kernel'], c['stride'], c['padding'])
        y.backward(t(c['dy'], list(y.shape)))
        assert len(c['y']) == y.numel(), 'output sizes differ'
        dy_, dx_ = note('max_pool2d', 'y', rel(c['y'], y)), note('max_pool2d', 'dx', rel(c['dx'], x.grad))
        # where the gradients differ by more than a rounding, the argmax picks differ
        picks = int(((torch.tensor(c['dx']) - x.grad.reshape(-1)).abs() > 1e-6).sum())
        if picks:
            note('max_pool2d', 'different picks', float(picks))
        print(f"max_pool2d x{c['x']} kernel {c['kernel']} stride {c['stride']} padding {c['padding']}{' ties' if c['ties'] else ''}: "
              f'y {dy_:.2e}, dx {dx_:.2e}, elements routed differently: {picks}')
    print('\nlargest relative differences:')
    for (kind, name), v in worst.items():
        print(f'  {kind} {name}: {v:.3e}')
    print('OK' if ok else f'FAILED (tolerance {args.tol})')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
