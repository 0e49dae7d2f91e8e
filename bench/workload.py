"""PyTorch's side of `npm run bench -- workload`: the same MobileNetV2 with the same weights
(rebuilt by keras_graph.py from bench/support/exportKeras.ts's export), cut at `out_relu`, average
pooled, with a new linear head, trained on the MNIST digits bench/workload.ts writes.

    python3 workload.py EXPORT DATA JOB LOOP THREADS EPOCHS

JOB is the share that trains: `a` the head alone, `b` the layers after `block_13_project_BN`
(blocks 14-16 and Conv_1) with it, `c` everything. LOOP is how the frozen part runs:
- `tutorial`: as the torchvision fine-tuning tutorial teaches, a full forward pass from the images
  every epoch, the frozen parameters with requires_grad=False;
- `expert`: the frozen part's outputs computed once under no_grad, and the trainable part trained
  on that cache (for job c nothing is frozen, so the two are the same loop).
The backbone stays in eval() throughout, so BatchNorm normalises with its moving statistics, as
transferkit and the Keras transfer-learning guide do for a pretrained start; the head has no
BatchNorm or dropout. EPOCHS may be fewer than the job's: the caller scales a loop whose epochs all
cost the same. Prints JSON: per epoch the seconds since the clock started (after the images are
resized and the model is built, as on transferkit's side) and the held-out accuracy, and the
process's peak resident memory.
"""
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from keras_graph import Graph, digits_224

CUT = {"a": "out_relu", "b": "block_13_project_BN", "c": None}
RATE = {"a": 1e-3, "b": 1e-4, "c": 1e-4}
BATCH = {"a": 32, "b": 32, "c": 8}
# Batch of the no-grad passes (caching, evaluation): PyTorch's fastest on this network here, 16
# (58-76 images/s against 38 at batch 32, on 2 cores, when this bench was written).
INFERENCE_BATCH = 16
CLASSES = 10


def load(data, name):
    x = np.fromfile(f"{data}/{name}_x.bin", dtype=np.float32)
    y = np.fromfile(f"{data}/{name}_y.bin", dtype=np.int32)
    return digits_224(x), torch.from_numpy(y.astype(np.int64))


class Trainable(nn.Module):
    """What trains: the backbone after the cut (none for job a) and the new head."""

    def __init__(self, export, cut):
        super().__init__()
        self.suffix = None if cut == "out_relu" else Graph(export, "out_relu", start=cut)  # start None: all of it
        self.head = nn.Linear(1280, CLASSES)

    def forward(self, x):
        features = x if self.suffix is None else self.suffix(x).mean(dim=(2, 3))
        return self.head(features)


def main():
    export, data, job, loop, threads, epochs = sys.argv[1:7]
    threads, epochs = int(threads), int(epochs)
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    train_x, train_y = load(data, "train")
    val_x, val_y = load(data, "val")
    cut = CUT[job]
    prefix = None
    if cut is not None:
        prefix = Graph(export, cut).eval()
        for p in prefix.parameters():
            p.requires_grad_(False)
    trainable = Trainable(export, cut)
    trainable.eval()  # BatchNorm on moving statistics while its scale and offset train
    optimizer = torch.optim.Adam(trainable.parameters(), lr=RATE[job])
    batch = BATCH[job]

    def frozen(x):
        if prefix is None:
            return x
        out = prefix(x)
        return out.mean(dim=(2, 3)) if cut == "out_relu" else out

    def cached(x):
        with torch.no_grad():
            return torch.cat([frozen(x[i : i + INFERENCE_BATCH]) for i in range(0, len(x), INFERENCE_BATCH)])

    start = time.perf_counter()
    if loop == "expert":
        train_in, val_in = cached(train_x), cached(val_x)
    else:
        train_in, val_in = train_x, val_x
    cache_seconds = time.perf_counter() - start
    step_input = (lambda x: x) if loop == "expert" else frozen
    report = []
    for epoch in range(epochs):
        order = torch.randperm(len(train_y))
        for i in range(0, len(order), batch):
            rows = order[i : i + batch]
            loss = F.cross_entropy(trainable(step_input(train_in[rows])), train_y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(val_y), INFERENCE_BATCH):
                rows = slice(i, i + INFERENCE_BATCH)
                correct += int((trainable(step_input(val_in[rows])).argmax(1) == val_y[rows]).sum())
        report.append({"seconds": time.perf_counter() - start, "accuracy": correct / len(val_y)})
    notes = [f"caching the frozen part {cache_seconds:.1f} s"] if loop == "expert" and prefix is not None else []
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "epochs": report, "peakMB": peak, "notes": notes, "cacheSeconds": cache_seconds}))


if __name__ == "__main__":
    main()
