"""A Keras-style network rebuilt in PyTorch from the topology and weights bench/support/exportKeras.ts
writes, so a bench can time PyTorch on the same architecture with the same weights as tfjs.

Covers the layer classes of the MobileNetV2 family: InputLayer, ZeroPadding2D, Conv2D,
DepthwiseConv2D, BatchNormalization, ReLU (with max_value) and Add; the caller pools at the cut. Keras's
'same' padding (more on the bottom and right when the total is odd) is reproduced exactly, so the
features agree with tfjs's to float rounding (`npx tsx bench/checkExport.ts` checks it).
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def same_padding(size, kernel, stride):
    """(before, after) as TensorFlow pads for 'same': the total needed for ceil(size / stride) outputs."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv(nn.Module):
    def __init__(self, cfg, weights, depthwise):
        super().__init__()
        kernel = weights["depthwise_kernel" if depthwise else "kernel"]
        if depthwise:  # [kh, kw, channels, multiplier] -> [channels * multiplier, 1, kh, kw]
            kh, kw, c, m = kernel.shape
            w = kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
            self.groups = c
        else:  # [kh, kw, in, out] -> [out, in, kh, kw]
            w = kernel.transpose(3, 2, 0, 1)
            self.groups = 1
        self.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(w)))
        self.bias = nn.Parameter(torch.from_numpy(weights["bias"])) if "bias" in weights else None
        self.kernel = list(cfg["kernel_size"])
        self.stride = list(cfg["strides"])
        self.same = cfg["padding"] == "same"
        if cfg.get("activation", "linear") not in ("linear", None):
            raise ValueError(f"activation {cfg['activation']} inside a convolution is not covered")

    def forward(self, x):
        padding = 0
        if self.same:
            (t, b), (l, r) = (same_padding(x.shape[2 + i], self.kernel[i], self.stride[i]) for i in range(2))
            if t == b and l == r:
                padding = (t, l)
            else:
                x = F.pad(x, (l, r, t, b))
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, 1, self.groups)


def batch_norm(cfg, weights):
    c = weights["gamma"].shape[0]
    # Keras keeps (1 - momentum) of each new batch's statistics; PyTorch's momentum is that share.
    bn = nn.BatchNorm2d(c, eps=cfg["epsilon"], momentum=1 - cfg["momentum"])
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(weights["gamma"]))
        bn.bias.copy_(torch.from_numpy(weights["beta"]))
        bn.running_mean.copy_(torch.from_numpy(weights["moving_mean"]))
        bn.running_var.copy_(torch.from_numpy(weights["moving_variance"]))
    return bn


class Pad(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        (self.t, self.b), (self.l, self.r) = cfg["padding"]

    def forward(self, x):
        return F.pad(x, (self.l, self.r, self.t, self.b))


class Relu(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.max = cfg.get("max_value")

    def forward(self, x):
        return F.relu(x) if self.max is None else F.hardtanh(x, 0.0, float(self.max))


class Graph(nn.Module):
    """The layers from the input up to `top` (inclusive), run in the order the model lists them.
    With `start`, only the layers after it: the graph then takes `start`'s output as its input."""

    def __init__(self, directory, top, start=None):
        super().__init__()
        with open(f"{directory}/graph.json") as f:
            layers = json.load(f)["layers"]
        flat = np.fromfile(f"{directory}/weights.bin", dtype=np.float32)
        at = 0
        self.order = []
        self.inputs = {}
        self.ops = nn.ModuleDict()
        skipping = start is not None
        if skipping:
            self.input_name = start
        for layer in layers:
            weights = {}
            for w in layer["weights"]:
                n = int(np.prod(w["shape"]))
                weights[w["name"]] = flat[at : at + n].reshape(w["shape"]).copy()
                at += n
            kind, cfg, name = layer["className"], layer["config"], layer["name"]
            if skipping:
                skipping = name != start
                continue
            if kind == "InputLayer":
                self.input_name = name
            elif kind in ("Conv2D", "DepthwiseConv2D"):
                self.ops[name] = Conv(cfg, weights, kind == "DepthwiseConv2D")
            elif kind == "BatchNormalization":
                self.ops[name] = batch_norm(cfg, weights)
            elif kind == "ReLU":
                self.ops[name] = Relu(cfg)
            elif kind == "ZeroPadding2D":
                self.ops[name] = Pad(cfg)
            elif kind == "Add":
                pass
            else:
                raise ValueError(f"layer {name}: class {kind} is not covered")
            if kind != "InputLayer":
                self.order.append((name, kind))
                self.inputs[name] = layer["inputs"]
            if name == top:
                break
        else:
            raise ValueError(f"no layer named {top}")
        # Each value is dropped after the last layer that reads it, so inference holds only the
        # live activations (as a sequential model would), not every layer's output.
        self.last_read = {}
        for step, (name, _) in enumerate(self.order):
            for i in self.inputs[name]:
                self.last_read[i] = step

    def forward(self, x):
        values = {self.input_name: x}
        for step, (name, kind) in enumerate(self.order):
            args = [values[i] for i in self.inputs[name]]
            values[name] = sum(args) if kind == "Add" else self.ops[name](args[0])
            for i in self.inputs[name]:
                if self.last_read[i] == step:
                    del values[i]
        return values[name]


def digits_224(raw):
    """28² digits in [0, 1] -> 224² RGB, bilinear with half-pixel centres (tfjs resizeBilinear(..., false, true))."""
    x = torch.from_numpy(raw).reshape(-1, 1, 28, 28)
    return F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)


def inference_rate(directory, top, images, batch, threads, runs=3):
    """Images/s of eval-mode, no-grad inference up to `top` (pooled), median of `runs` after a warm-up."""
    torch.set_num_threads(threads)
    model = Graph(directory, top).eval()
    x = torch.rand(images, 3, 224, 224, generator=torch.Generator().manual_seed(5))

    def once():
        with torch.no_grad():
            for i in range(0, images, batch):
                model(x[i : i + batch]).mean(dim=(2, 3))

    once()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return images / sorted(times)[len(times) // 2]


if __name__ == "__main__":
    # python3 keras_graph.py DIR                          -> checks the rebuilt features against tfjs's (bench/checkExport.ts writes DIR)
    # python3 keras_graph.py DIR TOP IMAGES BATCH THREADS -> JSON {"torch", "threads", "imagesPerSecond"}
    directory = sys.argv[1]
    if len(sys.argv) > 2:
        top, images, batch, threads = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        rate = inference_rate(directory, top, images, batch, threads)
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "imagesPerSecond": rate}))
        sys.exit(0)
    model = Graph(directory, "out_relu").eval()
    with open(f"{directory}/features.json") as f:
        expected = json.load(f)
    x = digits_224(np.fromfile(f"{directory}/digits.bin", dtype=np.float32))
    with torch.no_grad():
        got = model(x).mean(dim=(2, 3)).numpy().ravel()
    want = np.array(expected["features"], dtype=np.float32)
    print(json.dumps({"maxAbsDiff": float(np.abs(got - want).max()), "maxAbs": float(np.abs(want).max())}))
