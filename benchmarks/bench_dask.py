"""build_mapper on a zarr array through dask.distributed: time and peak memory per worker.

    python benchmarks/bench_dask.py [--n 10000000] [--dim 64] [--workers 2] [--memory-limit 1.5GB] [--check]

Writes an N x D float32 noisy curve to a zarr store chunk by chunk (never holding it in
memory; rows in random order, so every cover element draws rows from every chunk), starts a
LocalCluster of ``--workers`` single-threaded worker processes with ``--memory-limit`` each,
and builds the mapper graph of ``da.from_zarr(store)`` (l2norm lens, DBSCAN with a given eps).
Prints the wall time, the graph's size and each worker's peak resident memory (ru_maxrss),
against the array's size. ``--check`` also builds in memory and compares (only where N x D fits).
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

CHUNK_ROWS = 100_000
NOISE_64 = 0.5  # per dimension at D = 64, scaled by sqrt(64 / D): about 5.7 between two noisy copies of a point
EPS = 6.0


def write_curve(path: Path, n: int, dim: int, seed: int = 0) -> None:
    """A noisy curve as in bench_mapper (length growing with n, so a fixed local density), chunk by chunk."""
    import zarr

    rng = np.random.default_rng(seed)
    scale = n / 50_000
    basis = np.linalg.qr(rng.normal(size=(dim, 9)))[0].T
    freqs = rng.uniform(1.0, 4.0, 8) * scale
    phases = rng.uniform(0, 2 * np.pi, 8)
    z = zarr.open_array(str(path), mode="w", shape=(n, dim), chunks=(CHUNK_ROWS, dim), dtype="float32")
    for a in range(0, n, CHUNK_ROWS):
        r = np.random.default_rng([seed, a])
        t = r.uniform(0.0, 1.0, min(CHUNK_ROWS, n - a))
        curve = 400.0 * scale * t[:, None] * basis[0] + 60.0 * np.sin(2 * np.pi * freqs * t[:, None] + phases) @ basis[1:]
        noise = NOISE_64 * np.sqrt(64 / dim) * r.normal(size=(len(t), dim))
        z[a : a + len(t)] = (curve + noise).astype(np.float32)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--intervals", type=int, default=None, help="cover elements (default: one per 50k inputs, at least 20)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="1.5GB", help="per worker")
    ap.add_argument("--store", default=None, help="zarr path (default: a temporary directory; reused if it exists)")
    ap.add_argument("--check", action="store_true", help="also build in memory and compare")
    args = ap.parse_args()

    import dask.array as da
    from distributed import Client, LocalCluster

    from napari_topoalign.mapper import MapperParams, build_mapper

    tmp = tempfile.TemporaryDirectory() if args.store is None else None
    store = Path(args.store or tmp.name) / f"curve_{args.n}x{args.dim}.zarr"
    if not store.exists():
        t0 = time.perf_counter()
        write_curve(store, args.n, args.dim)
        print(f"wrote {store} in {time.perf_counter() - t0:.1f} s")
    size_gb = args.n * args.dim * 4 / 1e9
    intervals = args.intervals or max(20, args.n // 50_000)
    params = MapperParams(lens="l2norm", n_intervals=intervals, overlap=0.5, eps=EPS, min_samples=5, metric="euclidean")

    with LocalCluster(
        n_workers=args.workers, threads_per_worker=1, memory_limit=args.memory_limit, dashboard_address=":0"
    ) as cluster, Client(cluster) as client:
        client.run(lambda: __import__("napari_topoalign.mapper_dask"))  # imports (torch) before timing
        X = da.from_zarr(str(store))
        t0 = time.perf_counter()
        g = build_mapper(X, params)
        wall = time.perf_counter() - t0
        peaks = client.run(peak_rss_mb)
    print(
        f"{args.n} x {args.dim} float32 ({size_gb:.2f} GB) in zarr chunks of {CHUNK_ROWS} rows; "
        f"{args.workers} workers x 1 thread, memory limit {args.memory_limit} each"
    )
    print(f"l2norm lens, {intervals} intervals, overlap 0.5, DBSCAN eps {EPS}, min_samples 5")
    print(f"  build_mapper : {wall:.1f} s wall, {g.n_nodes} nodes, {len(g.edges)} edges, {len(g.uncovered)} uncovered")
    for worker, mb in sorted(peaks.items()):
        print(f"  peak RSS {worker}: {mb:,.0f} MB")
    print(f"  peak RSS client: {peak_rss_mb():,.0f} MB")
    if args.check:
        import zarr

        Xm = np.asarray(zarr.open_array(str(store), mode="r")[:])
        h = build_mapper(Xm, params)
        same = h.n_nodes == g.n_nodes and all(np.array_equal(a, b) for a, b in zip(g.members, h.members))
        print(f"  in-memory build: {h.n_nodes} nodes, identical members: {same}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
