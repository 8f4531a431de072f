#!/usr/bin/env python3
"""Manual check that an mlp-lens model loads into the reference notebooks' PyTorch MLP and predicts
the same digits as mlp-lens did. Never run by the tests.

usage: python3 bench/torch_check.py RUN_DIR/model.safetensors PREDICTIONS.json MNIST_DIR [--tol EPS]

  model.safetensors  weights written by mlp-lens (mlp/weights.ts: linear1, linear2, output)
  PREDICTIONS.json   mlp-lens's predicted digit for each of the 10 000 test images, in file order:
                     a JSON list of ints, or an object with such a list under "predictions"
  MNIST_DIR          folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (optionally .gz,
                     or with a dot before idx)
  --tol EPS          count a disagreement as a float near-tie (and not a failure) when PyTorch's
                     logit for mlp-lens's digit is within EPS of its top logit; default 0: strict

Loads with safetensors.torch.load_file when the safetensors package is installed, otherwise with the
small reader below; load_state_dict is strict, so missing/extra keys or wrong shapes fail loudly.
Images are raw pixels / 255 as float32, no normalisation, as in the notebooks.
Exit status: 0 when every prediction agrees, 1 when any differs, 2 on bad input.
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(784, 32); self.relu1 = nn.ReLU()
        self.linear2 = nn.Linear(32, 16); self.relu2 = nn.ReLU()
        self.output = nn.Linear(16, 10)

    def forward(self, x):
        x = x.view(-1, 784); x = self.relu1(self.linear1(x)); x = self.relu2(self.linear2(x)); return self.output(x)


# safetensors dtype names -> torch dtypes (the ones mlp-lens writes or reads)
DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
    'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
    'U8': torch.uint8, 'BOOL': torch.bool,
}


def read_safetensors(path):
    """Pure-python safetensors reader: returns (state dict of tensors, metadata dict)."""
    if sys.byteorder != 'little':
        sys.exit(f'{path}: this reader assumes a little-endian machine')
    with open(path, 'rb') as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError('file shorter than 8 bytes')
    (n,) = struct.unpack('<Q', blob[:8])
    if n > min(100_000_000, len(blob) - 8):
        raise ValueError(f'absurd header length {n}')
    header = json.loads(blob[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {}) or {}
    data = blob[8 + n:]
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES.get(info['dtype'])
        if dtype is None:
            raise ValueError(f'{name}: unsupported dtype {info["dtype"]}')
        begin, end = info['data_offsets']
        shape = info['shape']
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f'{name}: data_offsets {begin}, {end} outside the data')
        if begin == end:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            # bytearray: a writable copy, so torch owns memory it may write to
            tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(shape)
    return tensors, metadata


def load_state_dict(path):
    try:
        from safetensors.torch import load_file
    except ImportError:
        sd, metadata = read_safetensors(path)
        return sd, metadata, 'built-in reader'
    from safetensors import safe_open
    with safe_open(path, framework='pt') as f:
        metadata = f.metadata() or {}
    return load_file(path), metadata, 'safetensors.torch.load_file'


def find_idx(folder, stem):
    for name in (f'{stem}-idx{"3" if "images" in stem else "1"}-ubyte',
                 f'{stem}.idx{"3" if "images" in stem else "1"}-ubyte'):
        for suffix in ('', '.gz'):
            path = os.path.join(folder, name + suffix)
            if os.path.exists(path):
                return path
    sys.stderr.write(f'{folder}: no {stem} IDX file found\n')
    sys.exit(2)


def read_idx(path, magic):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        blob = f.read()
    (got,) = struct.unpack('>I', blob[:4])
    if got != magic:
        sys.stderr.write(f'{path}: magic {got}, expected {magic}\n')
        sys.exit(2)
    ndim = magic & 0xff
    dims = struct.unpack(f'>{ndim}I', blob[4:4 + 4 * ndim])
    return np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('model')
    ap.add_argument('predictions')
    ap.add_argument('mnist_dir')
    ap.add_argument('--tol', type=float, default=0.0)
    args = ap.parse_args()

    sd, metadata, how = load_state_dict(args.model)
    print(f'{args.model}: {len(sd)} tensors via {how}; metadata {json.dumps(metadata)}')
    for name, t in sd.items():
        print(f'  {name:16s} {str(t.dtype):15s} {list(t.shape)}')
    model = MLP()
    # strict: every key of the notebooks' class, nothing else, exact shapes
    model.load_state_dict(sd, strict=True)
    model.eval()

    images = read_idx(find_idx(args.mnist_dir, 't10k-images'), 2051)
    labels = read_idx(find_idx(args.mnist_dir, 't10k-labels'), 2049).astype(np.int64)
    x = torch.from_numpy(images.reshape(len(images), 784).astype(np.float32) / np.float32(255))
    with torch.no_grad():
        logits = model(x)
    ours = logits.argmax(dim=1).numpy()

    with open(args.predictions) as f:
        preds = json.load(f)
    if isinstance(preds, dict):
        preds = preds.get('predictions')
    if not isinstance(preds, list) or not all(isinstance(p, int) for p in preds):
        sys.stderr.write(f'{args.predictions}: expected a JSON list of ints (or {{"predictions": [...]}})\n')
        sys.exit(2)
    theirs = np.asarray(preds, dtype=np.int64)
    if len(theirs) != len(ours):
        sys.stderr.write(f'{args.predictions}: {len(theirs)} predictions for {len(ours)} test images\n')
        sys.exit(2)

    differ = np.nonzero(ours != theirs)[0]
    rows = np.arange(len(ours))
    # how far PyTorch's logit for mlp-lens's digit is below its own top logit
    lg = logits.numpy()
    gap = lg[rows, ours] - lg[rows, np.clip(theirs, 0, 9)]
    ties = [i for i in differ if 0 <= theirs[i] <= 9 and gap[i] <= args.tol]
    print(f'PyTorch accuracy   {np.mean(ours == labels) * 100:.2f} % ({int(np.sum(ours == labels))}/{len(labels)})')
    print(f'mlp-lens accuracy  {np.mean(theirs == labels) * 100:.2f} % ({int(np.sum(theirs == labels))}/{len(labels)})')
    print(f'predictions that differ: {len(differ)} of {len(ours)}'
          + (f' ({len(ties)} within --tol {args.tol})' if args.tol > 0 else ''))
    for i in differ[:10]:
        print(f'  image {i}: PyTorch {ours[i]}, mlp-lens {theirs[i]}, logit gap {gap[i]:.3g}')
    sys.exit(1 if len(differ) > len(ties) else 0)


if __name__ == '__main__':
    main()
