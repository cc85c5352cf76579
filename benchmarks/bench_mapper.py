"""build_mapper against KeplerMapper on a noisy curve in 384-D (same lens, cover and DBSCAN).

    python benchmarks/bench_mapper.py [--quick]

Both run single-threaded (torch, BLAS and OpenMP pools limited to one thread), so the
comparison is of algorithms, not of thread pools on a possibly shared machine.
Prints both times (wall and process CPU: on a shared machine CPU time is the steadier), node counts and the speed ratio at 50,000 inputs (10,000 with --quick),
then build_mapper's scaling at 10k / 50k / 200k inputs (--quick: 10k only).
"""

import argparse
import time

import numpy as np

from napari_topoalign.mapper import MapperParams, build_mapper

D = 384
EPS = 9.0
MIN_SAMPLES = 5
N_INTERVALS = 50
OVERLAP = 0.5


def noisy_curve(n: int, seed: int = 0) -> np.ndarray:
    """n points along a smooth curve in 384-D plus isotropic noise, float32, at a fixed density.

    The curve drifts away from the origin while winding through 8 random directions, so the
    l2norm lens folds it; its length grows with n, so every size has the same local density:
    with noise 0.2 per dimension (about 5.5 between two points) each input has a few hundred
    others within eps = 9.
    """
    rng = np.random.default_rng(seed)
    scale = n / 50_000
    t = np.sort(rng.uniform(0.0, 1.0, n))
    basis = np.linalg.qr(rng.normal(size=(D, 9)))[0].T
    freqs = rng.uniform(1.0, 4.0, 8) * scale
    phases = rng.uniform(0, 2 * np.pi, 8)
    curve = 400.0 * scale * t[:, None] * basis[0] + 60.0 * np.sin(2 * np.pi * freqs * t[:, None] + phases) @ basis[1:]
    X = curve + 0.2 * rng.normal(size=(n, D))
    return X[rng.permutation(n)].astype(np.float32)


def run_ours(X: np.ndarray):
    p = MapperParams(lens="l2norm", n_intervals=N_INTERVALS, overlap=OVERLAP, eps=EPS, min_samples=MIN_SAMPLES)
    t0, c0 = time.perf_counter(), time.process_time()
    g = build_mapper(X, p)
    return time.perf_counter() - t0, time.process_time() - c0, g.n_nodes


def run_kmapper(X: np.ndarray):
    import kmapper as km
    from sklearn.cluster import DBSCAN

    mapper = km.KeplerMapper(verbose=0)
    t0, c0 = time.perf_counter(), time.process_time()
    lens = np.linalg.norm(X, axis=1).reshape(-1, 1)
    graph = mapper.map(
        lens,
        X,
        cover=km.Cover(n_cubes=N_INTERVALS, perc_overlap=OVERLAP),
        clusterer=DBSCAN(eps=EPS, min_samples=MIN_SAMPLES),
    )
    return time.perf_counter() - t0, time.process_time() - c0, len(graph["nodes"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k inputs only")
    args = ap.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)

    n = 10_000 if args.quick else 50_000
    X = noisy_curve(n)
    run_ours(X[:2000])  # warm-up (imports, thread pools)
    t_ours, c_ours, k_ours = run_ours(X)
    t_km, c_km, k_km = run_kmapper(X)
    print(f"{n} x {D} float32, one thread, lens=l2norm, {N_INTERVALS} intervals, overlap {OVERLAP}, DBSCAN eps {EPS}, min_samples {MIN_SAMPLES}")
    print(f"  build_mapper : {t_ours:8.2f} s wall {c_ours:8.2f} s CPU  {k_ours} nodes")
    print(f"  KeplerMapper : {t_km:8.2f} s wall {c_km:8.2f} s CPU  {k_km} nodes")
    print(f"  speed-up     : {t_km / t_ours:8.1f} x wall {c_km / c_ours:6.1f} x CPU   node count ratio {k_ours / max(k_km, 1):.3f}")

    sizes = [10_000] if args.quick else [10_000, 50_000, 200_000]
    print("build_mapper scaling:")
    for m in sizes:
        t, c, k = run_ours(noisy_curve(m))
        print(f"  {m:>7} inputs: {t:8.2f} s wall {c:8.2f} s CPU  {k} nodes")


if __name__ == "__main__":
    main()
