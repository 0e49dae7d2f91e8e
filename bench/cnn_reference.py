"""The bench's MNIST CNN in PyTorch: training samples/s at batch 64, SGD, on random inputs.

Usage: python3 cnn_reference.py BATCHES THREADS  ->  prints JSON {"torch": version, "threads": n, "samplesPerSecond": [...]}
Install: apt-get install python3-torch (Debian's PyTorch; PyPI is not needed).
"""
import json
import sys
import time

import torch
from torch import nn

batches, threads = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(64, 1, 28, 28)
y = torch.randint(0, 10, (64,))


def step():
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


step()  # warm-up
rates = []
for _ in range(3):
    start = time.perf_counter()
    for _ in range(batches):
        step()
    rates.append(batches * 64 / (time.perf_counter() - start))
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "samplesPerSecond": rates}))
