"""Independent reference values for transferkit's metrics, written from the papers with numpy.

Run:  python3 scripts/reference/metrics.py > test/metrics/reference.json
(numpy 2.x; the output is deterministic). Each metric here is the paper's formula computed the
direct way -- explicit matrices, solves and determinants -- not the spectral shortcuts the
TypeScript code takes, so agreement checks the shortcuts too. Inputs are rounded to float32 first,
since transferkit receives Float32Array data.
"""
import json
import numpy as np

rng = np.random.default_rng(12345)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def logme_direct(F, Y):
    """You et al., ICML 2021: maximise the evidence of y ~ N(Fw, 1/beta), w ~ N(0, 1/alpha) per column."""
    N, D = F.shape
    eig = np.clip(np.linalg.eigvalsh(F.T @ F), 0, None)
    values = []
    for k in range(Y.shape[1]):
        y = Y[:, k]
        alpha, beta = 1.0, 1.0
        for _ in range(11):  # the authors' stopping rule: at most 11 updates, relative change of alpha/beta < 1e-3
            A = alpha * np.eye(D) + beta * F.T @ F
            m = beta * np.linalg.solve(A, F.T @ y)
            gamma = np.sum(beta * eig / (alpha + beta * eig))
            res = np.sum((F @ m - y) ** 2)
            new_alpha, new_beta = gamma / (m @ m), (N - gamma) / res
            done = abs(new_alpha / new_beta - alpha / beta) / (alpha / beta) < 1e-3
            alpha, beta = new_alpha, new_beta
            if done:
                break
        A = alpha * np.eye(D) + beta * F.T @ F
        m = beta * np.linalg.solve(A, F.T @ y)
        res = np.sum((F @ m - y) ** 2)
        _, logdet = np.linalg.slogdet(A)
        ev = N / 2 * np.log(beta) + D / 2 * np.log(alpha) - N / 2 * np.log(2 * np.pi) - beta / 2 * res - alpha / 2 * (m @ m) - logdet / 2
        values.append(ev / N)
    return float(np.mean(values)), [float(v) for v in values]


def one_hot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1
    return out


def mmd2_unbiased(X, Y, sigma=None):
    """Gretton et al., JMLR 2012, eq. 3, Gaussian kernel; sigma = median pairwise distance (pooled)."""
    Z = np.vstack([X, Y])
    d = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1))
    if sigma is None:
        sigma = float(np.median(d[np.triu_indices(len(Z), 1)]))
    K = np.exp(-d ** 2 / (2 * sigma ** 2))
    m, n = len(X), len(Y)
    kxx, kyy, kxy = K[:m, :m], K[m:, m:], K[:m, m:]
    value = (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()
    return float(value), sigma


def coral(X, Y):
    """Sun & Saenko 2016, eq. 1, unbiased covariances."""
    d = X.shape[1]
    return float(np.sum((np.cov(X, rowvar=False) - np.cov(Y, rowvar=False)) ** 2) / (4 * d * d))


def leep(theta, y):
    """Nguyen et al., ICML 2020, eq. 1-2."""
    n, z = theta.shape
    k = y.max() + 1
    joint = np.zeros((k, z))
    for i in range(n):
        joint[y[i]] += theta[i] / n
    cond = joint / joint.sum(0, keepdims=True)
    return float(np.mean(np.log(np.sum(cond[y] * theta, axis=1))))


def h_score(F, y):
    """Bao et al., ICIP 2019: tr(cov(f)^+ cov(E[f|y])), covariances with 1/N, pseudo-inverse."""
    cov_f = np.cov(F, rowvar=False, bias=True)
    g = np.zeros_like(F)
    for c in np.unique(y):
        g[y == c] = F[y == c].mean(0)
    cov_g = np.cov(g, rowvar=False, bias=True)
    return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-10, hermitian=True) @ cov_g))


def nce(z, y):
    """Tran et al., ICCV 2019: -H(Y|Z) from the empirical joint."""
    n = len(y)
    joint = np.zeros((y.max() + 1, z.max() + 1))
    for a, b in zip(y, z):
        joint[a, b] += 1 / n
    pz = joint.sum(0)
    mask = joint > 0
    return float(np.sum(joint[mask] * np.log((joint / pz[None, :])[mask])))


def labelled_features(n, d, k, signal):
    y = np.arange(n) % k
    rng.shuffle(y)
    centres = rng.normal(size=(k, d))
    return f32(signal * centres[y] + rng.normal(size=(n, d))), y


cases = {}
F, y = labelled_features(40, 6, 3, 1.5)  # N > D
value, per = logme_direct(F, one_hot(y, 3))
cases["logme_tall"] = {"features": F.tolist(), "labels": y.tolist(), "value": value, "perTarget": per}
F, y = labelled_features(12, 20, 3, 1.0)  # D > N
value, per = logme_direct(F, one_hot(y, 3))
cases["logme_wide"] = {"features": F.tolist(), "labels": y.tolist(), "value": value, "perTarget": per}
F = f32(rng.normal(size=(30, 4)))
T = f32(np.stack([F @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.normal(size=30), F[:, 0] ** 2], axis=1))
value, per = logme_direct(F, T)
cases["logme_regression"] = {"features": F.tolist(), "targets": T.tolist(), "value": value, "perTarget": per}
X, Y = f32(rng.normal(size=(30, 4))), f32(rng.normal(0.5, 1, size=(25, 4)))
value, sigma = mmd2_unbiased(X, Y)
cases["mmd"] = {"source": X.tolist(), "target": Y.tolist(), "value": value, "bandwidth": sigma}
cases["coral"] = {"source": X.tolist(), "target": Y.tolist(), "value": coral(X, Y)}
theta = f32(rng.dirichlet(np.ones(4), size=50))
theta = theta / theta.sum(1, keepdims=True)
theta = f32(theta)
y = np.arange(50) % 3
rng.shuffle(y)
cases["leep"] = {"probabilities": theta.tolist(), "labels": y.tolist(), "value": leep(theta / theta.sum(1, keepdims=True), y)}
F, y = labelled_features(60, 5, 4, 1.0)
cases["h_score"] = {"features": F.tolist(), "labels": y.tolist(), "value": h_score(F, y)}
F, y = labelled_features(10, 15, 2, 1.0)  # more features than examples: singular covariance
cases["h_score_wide"] = {"features": F.tolist(), "labels": y.tolist(), "value": h_score(F, y)}
y = np.arange(80) % 3
rng.shuffle(y)
z = np.where(rng.random(80) < 0.7, y, rng.integers(0, 5, 80))
cases["nce"] = {"sourceLabels": z.tolist(), "labels": y.tolist(), "value": nce(z, y)}


def periodic(n, d):
    """F = float32(sin(0.37 i) · (i mod 7 + 1)) over i = 0 … n·d − 1, row-major."""
    i = np.arange(n * d)
    return f32((np.sin(0.37 * i) * (i % 7 + 1)).reshape(n, d))


# Periodic, nearly rank-deficient features: their Gram matrix has a cluster of eigenvalues at rounding
# level, which once kept the QL iteration from converging. Stored by rule, not as 12,000 values.
for name, (n, d) in {"logme_periodic_wide": (100, 120), "logme_periodic_tall": (120, 100)}.items():
    F = periodic(n, d)
    value, per = logme_direct(F, one_hot(np.arange(n) % 3, 3))
    cases[name] = {"rows": n, "cols": d, "features": "sin(0.37 i) * (i mod 7 + 1) as float32, row-major", "labels": "i mod 3", "value": value}

print(json.dumps({"generatedBy": "python3 scripts/reference/metrics.py", "numpy": np.__version__, "cases": cases}))
