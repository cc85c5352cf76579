"""build_mapper against KeplerMapper on a family of data shapes (same lens, cover and DBSCAN).

    python benchmarks/bench_mapper.py [--shape all|curve|blobs|uneven|lowdim|highdim] [--quick] [--repeat N] [--scaling]

Both run single-threaded (torch, BLAS and OpenMP pools limited to one thread), so the
comparison is of algorithms, not of thread pools on a possibly shared machine. For each
shape it prints both wall times, node counts, the speed ratio, and the time of merely
computing every cover element's full distance block (``torch.cdist`` in float32 over the
element's rows, what a per-element clusterer without pruning pays) as a floor that the
pruning must beat. The shapes:

  curve    50k x 384, a noisy curve folded by the l2norm lens: few large clusters
  blobs    50k x 384, 400 tight blobs at scattered norms: many small clusters
  uneven   50k x 64, blobs of Pareto sizes and spreads over a 5 % uniform background
  lowdim   200k x 3, a noisy conical spiral
  highdim  20k x 2048, a noisy curve

``--quick`` divides every size by 5; ``--repeat N`` times each side N times and prints the
best (timings on a shared machine vary by a third between runs); ``--scaling`` adds build_mapper alone on the curve at
10k / 50k / 200k inputs.
"""

import argparse
import time

import numpy as np

from napari_topoalign.mapper import MapperParams, build_mapper

MIN_SAMPLES = 5
N_INTERVALS = 50
OVERLAP = 0.5


def noisy_curve(n: int, D: int = 384, noise: float = 0.2, seed: int = 0) -> np.ndarray:
    """n points along a smooth curve in D dimensions plus isotropic noise, float32, at a fixed density.

    The curve drifts away from the origin while winding through 8 random directions, so the
    l2norm lens folds it; its length grows with n, so every size has the same local density:
    with noise 0.2 per dimension in 384-D (about 5.5 between two points) each input has a
    few hundred others within eps = 9.
    """
    rng = np.random.default_rng(seed)
    scale = n / 50_000
    t = np.sort(rng.uniform(0.0, 1.0, n))
    basis = np.linalg.qr(rng.normal(size=(D, 9)))[0].T
    freqs = rng.uniform(1.0, 4.0, 8) * scale
    phases = rng.uniform(0, 2 * np.pi, 8)
    curve = 400.0 * scale * t[:, None] * basis[0] + 60.0 * np.sin(2 * np.pi * freqs * t[:, None] + phases) @ basis[1:]
    X = curve + noise * rng.normal(size=(n, D))
    return X[rng.permutation(n)].astype(np.float32)


def blobs(n: int, D: int, n_blobs: int, spread, size_shape: float | None = None, background: float = 0.0, seed: int = 0):
    """Gaussian blobs whose centres have norms uniform in [20, 60], float32.

    ``spread`` is one standard deviation per dimension or a (low, high) range drawn
    log-uniformly per blob; ``size_shape`` draws blob weights from a Pareto law (None: equal);
    ``background`` is the fraction of inputs drawn uniformly over the blobs' bounding box.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_blobs, D))
    centres *= (rng.uniform(20, 60, n_blobs) / np.linalg.norm(centres, axis=1))[:, None]
    weight = rng.pareto(size_shape, n_blobs) + 1 if size_shape else np.ones(n_blobs)
    if np.ndim(spread):
        s = np.exp(rng.uniform(np.log(spread[0]), np.log(spread[1]), n_blobs))
    else:
        s = np.full(n_blobs, float(spread))
    n_bg = int(background * n)
    label = rng.choice(n_blobs, n - n_bg, p=weight / weight.sum())
    X = centres[label] + s[label, None] * rng.normal(size=(n - n_bg, D))
    X = np.r_[X, rng.uniform(centres.min(0), centres.max(0), size=(n_bg, D))]
    return X[rng.permutation(n)].astype(np.float32)


def spiral(n: int, noise: float = 0.02, seed: int = 0) -> np.ndarray:
    """A noisy conical spiral in 3-D (six turns), float32."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 1, n)
    X = np.c_[np.cos(12 * t) * (1 + t), np.sin(12 * t) * (1 + t), 2 * t] + noise * rng.normal(size=(n, 3))
    return X.astype(np.float32)


# name -> (what it shows, data for a size divisor, eps)
SHAPES = {
    "curve": ("few large clusters", lambda q: noisy_curve(50_000 // q), 9.0),
    "blobs": ("many small clusters", lambda q: blobs(50_000 // q, 384, 400 // q, 1.0), 30.0),
    "uneven": ("uneven density", lambda q: blobs(50_000 // q, 64, 300 // q, (0.5, 2.0), 1.2, 0.05), 12.0),
    "lowdim": ("low dimension", lambda q: spiral(200_000 // q), 0.02),
    "highdim": ("high dimension", lambda q: noisy_curve(20_000 // q, D=2048), 14.0),
}


def run_ours(X: np.ndarray, eps: float):
    p = MapperParams(lens="l2norm", n_intervals=N_INTERVALS, overlap=OVERLAP, eps=eps, min_samples=MIN_SAMPLES,
                     metric="euclidean")
    t0 = time.perf_counter()
    g = build_mapper(X, p)
    return time.perf_counter() - t0, g.n_nodes


def run_kmapper(X: np.ndarray, eps: float):
    import kmapper as km
    from sklearn.cluster import DBSCAN

    mapper = km.KeplerMapper(verbose=0)
    t0 = time.perf_counter()
    lens = np.linalg.norm(X, axis=1).reshape(-1, 1)
    graph = mapper.map(
        lens,
        X,
        cover=km.Cover(n_cubes=N_INTERVALS, perc_overlap=OVERLAP),
        clusterer=DBSCAN(eps=eps, min_samples=MIN_SAMPLES),
    )
    return time.perf_counter() - t0, len(graph["nodes"])


def run_distance_blocks(X: np.ndarray, eps: float) -> float:
    """Seconds to compute every cover element's full float32 distance block with torch.cdist (in row chunks)."""
    import torch

    from napari_topoalign.mapper import _kepler_intervals

    lens = np.linalg.norm(X, axis=1)
    lo, hi = _kepler_intervals(float(lens.min()), float(lens.max()), N_INTERVALS, OVERLAP)
    t0 = time.perf_counter()
    for a, b in zip(lo, hi):
        Xk = torch.from_numpy(X[(lens >= a) & (lens <= b)])
        chunk = max(1, 2**24 // max(len(Xk), 1))
        for s in range(0, len(Xk), chunk):
            torch.cdist(Xk[s : s + chunk], Xk)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="all", choices=["all", *SHAPES])
    ap.add_argument("--quick", action="store_true", help="every size divided by 5")
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs of each side")
    ap.add_argument("--scaling", action="store_true", help="also build_mapper alone on the curve at 10k/50k/200k")
    args = ap.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
    q = 5 if args.quick else 1
    run_ours(noisy_curve(2000), 9.0)  # warm-up (imports, thread pools)

    print(f"one thread, lens=l2norm, {N_INTERVALS} intervals, overlap {OVERLAP}, DBSCAN min_samples {MIN_SAMPLES}")
    print("| shape | data | eps | ours s (nodes) | KeplerMapper s (nodes) | speed-up | distance blocks s | ours / blocks |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in SHAPES if args.shape == "all" else [args.shape]:
        what, make, eps = SHAPES[name]
        X = make(q)
        t_ours, k_ours = min(run_ours(X, eps) for _ in range(args.repeat))
        t_km, k_km = min(run_kmapper(X, eps) for _ in range(args.repeat))
        t_blocks = run_distance_blocks(X, eps)
        print(
            f"| {name} ({what}) | {X.shape[0]} x {X.shape[1]} | {eps:g} | {t_ours:.2f} ({k_ours}) | {t_km:.2f} ({k_km}) "
            f"| {t_km / t_ours:.1f}x | {t_blocks:.2f} | {t_ours / t_blocks:.2f} |",
            flush=True,
        )

    if args.scaling:
        print("build_mapper scaling on the curve:")
        for m in [10_000, 50_000, 200_000]:
            t, k = run_ours(noisy_curve(m), 9.0)
            print(f"  {m:>7} inputs: {t:8.2f} s  {k} nodes")


if __name__ == "__main__":
    main()
