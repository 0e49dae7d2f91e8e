"""numpy LogME for the benchmark: SVD of F once, then the fixed point per class (You et al. 2021),
with the authors' stopping rule (at most 11 updates, relative change of alpha/beta < 1e-3).

Usage: python3 bench/logme_reference.py FEATURES.f32 LABELS.i32 N D RUNS
Prints JSON: {"value": ..., "ms": [run times]}. Called by bench/logme.ts.
"""
import json
import sys
import time

import numpy as np


def logme(F, y):
    N, D = F.shape
    K = int(y.max()) + 1
    u, s, _ = np.linalg.svd(F, full_matrices=False)
    s2 = s ** 2
    values = []
    for k in range(K):
        t_y = (y == k).astype(np.float64)
        z = u.T @ t_y
        outside = max(t_y @ t_y - z @ z, 0.0)
        alpha, beta = 1.0, 1.0
        for _ in range(11):
            t = alpha / beta
            gamma = np.sum(s2 / (s2 + t))
            mm = np.sum(s2 * z ** 2 / (s2 + t) ** 2)
            res = np.sum((t * z / (s2 + t)) ** 2) + outside
            alpha, beta = gamma / mm, (N - gamma) / res
            if abs(alpha / beta - t) / t < 1e-3:
                break
        t = alpha / beta
        mm = np.sum(s2 * z ** 2 / (s2 + t) ** 2)
        res = np.sum((t * z / (s2 + t)) ** 2) + outside
        logdet = np.sum(np.log(alpha + beta * s2)) + (D - len(s2)) * np.log(alpha)
        ev = N / 2 * np.log(beta) + D / 2 * np.log(alpha) - N / 2 * np.log(2 * np.pi) - beta / 2 * res - alpha / 2 * mm - logdet / 2
        values.append(ev / N)
    return float(np.mean(values))


features, labels, n, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
F = np.fromfile(features, dtype=np.float32).astype(np.float64).reshape(n, d)
y = np.fromfile(labels, dtype=np.int32)
times, value = [], None
for _ in range(runs):
    start = time.perf_counter()
    value = logme(F, y)
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({"value": value, "ms": times, "numpy": np.__version__}))
