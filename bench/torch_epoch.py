"""PyTorch on the reference job, for bench/vs-torch.js: 784-32-16-10 ReLU MLP, SGD lr 0.01, batch 64,
raw MNIST (/255), seed 31416, data preloaded as tensors, one CPU thread (faster than two at batch 64 on
this machine). Prints one JSON line per epoch: {"epoch", "seconds", "loss", "acc"}.
usage: python3 bench/torch_epoch.py MNIST_DIR EPOCHS [THREADS]"""
import json, struct, sys, time
import numpy as np
import torch
import torch.nn as nn


def idx(path):
    b = open(path, 'rb').read()
    nd = b[3]
    dims = struct.unpack('>' + 'I' * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


class MLP(nn.Module):  # the notebooks' class
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(784, 32); self.relu1 = nn.ReLU()
        self.linear2 = nn.Linear(32, 16); self.relu2 = nn.ReLU()
        self.output = nn.Linear(16, 10)

    def forward(self, x):
        return self.output(self.relu2(self.linear2(self.relu1(self.linear1(x)))))


def main():
    data, epochs = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    x = torch.tensor(idx(f'{data}/train-images-idx3-ubyte').reshape(-1, 784)).float().div(255)
    y = torch.tensor(idx(f'{data}/train-labels-idx1-ubyte').astype(np.int64))
    torch.manual_seed(31416)
    model, crit = MLP(), nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    n = x.shape[0]
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total, correct = 0.0, 0
        for s in range(0, n, 64):
            i = perm[s:s + 64]
            out = model(x[i]); loss = crit(out, y[i])
            opt.zero_grad(); loss.backward(); opt.step()
            total += loss.item() * len(i); correct += (out.argmax(1) == y[i]).sum().item()
        print(json.dumps({'epoch': epoch, 'seconds': time.perf_counter() - t0, 'loss': total / n, 'acc': 100 * correct / n}), flush=True)


main()
