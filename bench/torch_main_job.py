"""PyTorch doing the main job's first half the way a notebook would, for bench/main-job.js: the reference
784-32-16-10 ReLU MLP, SGD lr 0.01, batch 64, raw MNIST (/255), seed 31416, one CPU thread, recording
on: every step's pre- and post-ReLU activations and logits and their gradients (retain_grad) copied into
per-epoch numpy arrays, then each epoch's statistics in numpy (per tensor: overall / per neuron / per class
/ per class x neuron mean and std, min, max, a 30-bin histogram, per-class histograms over the same edges,
the ReLU units' active fraction), then the test evaluation. mlp-lens computes more per epoch (first-batch
statistics, per-class own histograms, step norms, parameter-gradient norms); the analyses and report have
no counterpart here. Prints one JSON line: seconds per phase (start-up = the interpreter and `import torch`).
usage: python3 bench/torch_main_job.py MNIST_DIR [EPOCHS]"""
import time
T0 = time.perf_counter()
import json, struct, sys  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def idx(path):
    b = open(path, 'rb').read()
    nd = b[3]
    dims = struct.unpack('>' + 'I' * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


class MLP(nn.Module):  # the notebooks' class
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(784, 32)
        self.linear2 = nn.Linear(32, 16)
        self.output = nn.Linear(16, 10)

    def forward(self, x, keep):
        h = x
        for k, lin in enumerate([self.linear1, self.linear2]):
            pre = lin(h)
            h = torch.relu(pre)
            if pre.requires_grad:
                pre.retain_grad(); h.retain_grad()
            keep[f'layers.{k}.pre'], keep[f'layers.{k}.post'] = pre, h
        out = self.output(h)
        if out.requires_grad:
            out.retain_grad()
        keep['logits'] = out
        return out


def stats(x, order, bounds, bins=30):
    """one tensor's epoch statistics, [count, width] float32; `order` sorts the rows by class, whose
    slices are [bounds[c], bounds[c + 1]) (contiguous: no boolean-mask copies per class)"""
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    out = {'mean': x.mean(dtype=np.float64), 'std': x.std(dtype=np.float64, ddof=1), 'min': lo, 'max': hi, 'hist': counts,
           'neuron_mean': x.mean(0, dtype=np.float64), 'neuron_std': x.std(0, dtype=np.float64, ddof=1), 'active': (x > 0).mean(0)}
    xs = x[order]
    per_class = []
    for c in range(len(bounds) - 1):
        xc = xs[bounds[c]:bounds[c + 1]]
        per_class.append((xc.mean(dtype=np.float64), xc.std(dtype=np.float64, ddof=1), xc.mean(0, dtype=np.float64),
                          xc.std(0, dtype=np.float64, ddof=1), np.histogram(xc, bins=edges)[0]))
    out['per_class'] = per_class
    return out


def main():
    data, epochs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20
    torch.set_num_threads(1)
    t_start = time.perf_counter()
    images = lambda f: torch.from_numpy(idx(f'{data}/{f}').reshape(-1, 784).astype(np.float32)).div_(255)
    labels_of = lambda f: torch.from_numpy(idx(f'{data}/{f}').astype(np.int64))
    x, y = images('train-images-idx3-ubyte'), labels_of('train-labels-idx1-ubyte')
    xt, yt = images('t10k-images-idx3-ubyte'), labels_of('t10k-labels-idx1-ubyte')
    t_data = time.perf_counter()
    torch.manual_seed(31416)
    model, crit = MLP(), nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    n, names = x.shape[0], ['layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post', 'logits']
    widths = {'layers.0.pre': 32, 'layers.0.post': 32, 'layers.1.pre': 16, 'layers.1.post': 16, 'logits': 10}
    acts = {k: np.empty((n, w), np.float32) for k, w in widths.items()}
    grads = {k: np.empty((n, w), np.float32) for k, w in widths.items()}
    labels = np.empty(n, np.int64)
    training = statistics = 0.0
    epoch_training = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        for s in range(0, n, 64):
            i = perm[s:s + 64]
            keep = {}
            out = model(x[i], keep); loss = crit(out, y[i])
            opt.zero_grad(); loss.backward(); opt.step()
            r = slice(s, s + len(i))
            labels[r] = y[i].numpy()
            for k in names:
                acts[k][r] = keep[k].detach().numpy(); grads[k][r] = keep[k].grad.numpy()
        t1 = time.perf_counter()
        order = np.argsort(labels, kind='stable')
        bounds = np.searchsorted(labels[order], np.arange(11))
        for k in names:
            stats(acts[k], order, bounds); stats(grads[k], order, bounds)
        t2 = time.perf_counter()
        training += t1 - t0; statistics += t2 - t1
        epoch_training.append(t1 - t0)
    t_train = time.perf_counter()
    with torch.no_grad():
        acc = (model(xt, {}).argmax(1) == yt).float().mean().item() * 100
    t_end = time.perf_counter()
    print(json.dumps({'torch': torch.__version__, 'start-up': t_start - T0, 'data': t_data - t_start,
                      'training': training, 'statistics': statistics, 'evaluation': t_end - t_train,
                      'total': t_end - T0, 'test accuracy': acc, 'epoch training': epoch_training}), flush=True)


main()
