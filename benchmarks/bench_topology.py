"""Do mapper graphs come out right by default? Shapes of known topology and real embeddings.

    PYTHONPATH=src python benchmarks/bench_topology.py [--quick] [--cases N] [--no-real]

Shapes (scale 1): a circle, two circles (gap 1), a figure-eight (two tangent circles), stars with
3 and 5 arms (a Y and a more-armed tree), and three blobs whose spreads (0.1, 0.03, 0.01) and
counts (10 : 3 : 1) differ tenfold. Each case draws a size (1k-20k), a noise level (rms length of
the isotropic noise vector, 0.5-5% of the scale) and an ambient dimension (2-512; the plane is
rotated at random into it) from a fixed seed. A graph is right when it has the right number of
components and independent cycles, and for a tree also one leaf per arm and a branch node. The
cycles are counted as the first Betti number of the graph's clique complex (edges - nodes +
components - rank of the triangles' boundary matrix), so the triangles that a grid cover's
overlapping cells add to the nerve are not counted as loops; for a 1-D cover with overlap <= 0.5
there are few and it equals the graph's cycle rank.
For each candidate setting (the defaults first) the table gives the fraction right per family,
next to KeplerMapper with its own defaults (sum lens, 10 cubes, 10% overlap, DBSCAN(0.5, 3)).

On real embeddings (``benchmarks/real_embeddings.py``) it prints, per candidate, the mean and
worst uncovered fraction and the mean and worst ``graph_faithfulness`` over the layers.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parent))

from napari_topoalign.errors import ParameterError  # noqa: E402
from napari_topoalign.mapper import MapperParams, build_mapper, graph_faithfulness  # noqa: E402

CANDIDATES = {
    "defaults": MapperParams(),
    "pca lens (1-D)": MapperParams(lens="pca"),
    "pca3 grid 5x5x5": MapperParams(lens="pca3"),
    "l2norm lens": MapperParams(lens="l2norm"),
    "20 intervals": MapperParams(n_intervals=20),
    "overlap 0.3": MapperParams(overlap=0.3),
    "min_samples 3": MapperParams(min_samples=3),
    "min_samples 15": MapperParams(min_samples=15),
    "hdbscan": MapperParams(clusterer="hdbscan"),
    "single first-gap": MapperParams(clusterer="single"),
    "pca2 grid 6x6": MapperParams(lens="pca2", n_intervals=6),
}
FAMILIES = ("circle", "two circles", "figure-eight", "Y (3 arms)", "star (5 arms)", "blobs")
SIZES = (1000, 2000, 5000, 10000, 20000)
NOISES = (0.005, 0.01, 0.02, 0.05)
DIMS = (2, 8, 32, 128, 512)


# --------------------------------------------------------------------------- shapes


def _ring(n, rng, centre=(0.0, 0.0), radius=1.0):
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[radius * np.cos(t) + centre[0], radius * np.sin(t) + centre[1]]


def _star(n, rng, arms):
    arm = rng.integers(0, arms, n)
    r = rng.uniform(0, 1, n)
    angle = arm * 2 * np.pi / arms + rng.uniform(0, 2 * np.pi)
    return np.c_[r * np.cos(angle), r * np.sin(angle)]


def _blobs(n, rng):
    counts = np.round(n * np.array([10, 3, 1]) / 14).astype(int)
    spreads = (0.1, 0.03, 0.01)
    centres = ((0.0, 0.0), (1.5, 0.0), (0.75, 1.3))
    return np.vstack([rng.normal(c, s, size=(k, 2)) for k, s, c in zip(counts, spreads, centres)])


def shape(family: str, n: int, rng) -> tuple[np.ndarray, dict]:
    """2-D points of a family and its expected topology."""
    if family == "circle":
        return _ring(n, rng), dict(components=1, cycles=1)
    if family == "two circles":
        return np.r_[_ring(n // 2, rng), _ring(n - n // 2, rng, (3.0, 0.0))], dict(components=2, cycles=2)
    if family == "figure-eight":
        return np.r_[_ring(n // 2, rng, (-1.0, 0.0)), _ring(n - n // 2, rng, (1.0, 0.0))], dict(components=1, cycles=2)
    if family.startswith("Y") or family.startswith("star"):
        arms = 3 if family.startswith("Y") else 5
        return _star(n, rng, arms), dict(components=1, cycles=0, leaves=arms)
    return _blobs(n, rng), dict(components=3, cycles=0)


def embed(Y: np.ndarray, dim: int, noise: float, rng) -> np.ndarray:
    """Rotate the plane at random into ``dim`` dimensions and add noise of rms length ``noise``."""
    Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    X = np.pad(Y, ((0, 0), (0, dim - 2))) @ Q
    return (X + rng.normal(scale=noise / np.sqrt(dim), size=X.shape)).astype(np.float32)


def cases(n_cases: int, max_size: int, seed: int = 0):
    """``n_cases`` per family, each with a size, noise and dimension drawn with a fixed seed."""
    rng = np.random.default_rng(seed)
    sizes = [s for s in SIZES if s <= max_size]
    for family in FAMILIES:
        for _ in range(n_cases):
            yield family, int(rng.choice(sizes)), float(rng.choice(NOISES)), int(rng.choice(DIMS)), int(rng.integers(1 << 31))


def topology(n_nodes: int, edges: np.ndarray) -> dict:
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    A = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n_nodes, n_nodes))
    ncomp, _ = connected_components(A, directed=False)
    deg = np.bincount(edges.ravel(), minlength=n_nodes)
    cycles = len(edges) - n_nodes + ncomp - _triangle_boundary_rank(n_nodes, edges)
    return dict(components=ncomp, cycles=cycles, leaves=int((deg == 1).sum()), branches=int((deg >= 3).sum()))


def _triangle_boundary_rank(n_nodes: int, edges: np.ndarray) -> int:
    """Rank of the boundary map from the graph's triangles (3-cliques) to its edges."""
    if len(edges) == 0:
        return 0
    index = {(int(a), int(b)): k for k, (a, b) in enumerate(edges)}
    nbrs = [set() for _ in range(n_nodes)]
    for a, b in edges:
        nbrs[a].add(int(b))
    rows, cols = [], []
    t = 0
    for a, b in edges:  # a < b < c
        for c in nbrs[a] & nbrs[b]:
            rows += [index[(a, b)], index[(a, c)], index[(b, c)]]
            cols += [t, t, t]
            t += 1
    if t == 0:
        return 0
    B = sp.csr_matrix((np.tile([1.0, -1.0, 1.0], t), (rows, cols)), shape=(len(edges), t))
    return int(np.linalg.matrix_rank((B @ B.T).toarray()))  # rank B = rank B Bᵀ, an edges × edges matrix


def is_right(got: dict, want: dict) -> bool:
    ok = got["components"] == want["components"] and got["cycles"] == want["cycles"]
    if "leaves" in want:
        ok = ok and got["leaves"] == want["leaves"] and got["branches"] >= 1
    return ok


def kepler_topology(X: np.ndarray) -> dict:
    """Topology of KeplerMapper's graph with its own defaults."""
    import kmapper as km

    mapper = km.KeplerMapper(verbose=0)
    lens = mapper.fit_transform(X)
    graph = mapper.map(lens, X)
    names = {name: k for k, name in enumerate(graph["nodes"])}
    edges = {tuple(sorted((names[a], names[b]))) for a, targets in graph["links"].items() for b in targets}
    return topology(len(names), np.array(sorted(edges), dtype=np.int64).reshape(-1, 2))


def sweep(candidates: dict, n_cases: int, max_size: int) -> None:
    results = {name: {f: [] for f in FAMILIES} for name in [*candidates, "KeplerMapper defaults"]}
    seconds = dict.fromkeys(results, 0.0)
    for family, n, noise, dim, seed in cases(n_cases, max_size):
        Y, want = shape(family, n, np.random.default_rng(seed))
        X = embed(Y, dim, noise, np.random.default_rng(seed + 1))
        for name, params in candidates.items():
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    g = build_mapper(X, params)
                except ParameterError:  # e.g. a 3-D lens of 2-D data: the case does not count for it
                    continue
            seconds[name] += time.perf_counter() - t0
            results[name][family].append(is_right(topology(g.n_nodes, g.edges), want))
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results["KeplerMapper defaults"][family].append(is_right(kepler_topology(X), want))
        seconds["KeplerMapper defaults"] += time.perf_counter() - t0
    total = len(FAMILIES) * n_cases
    print(f"\nfraction right over {total} cases ({n_cases} per family; sizes <= {max_size}):\n")
    short = [f.split(" (")[0] for f in FAMILIES]
    print(f"| setting | {' | '.join(short)} | all | seconds |")
    print("|---" * (len(FAMILIES) + 3) + "|")
    for name, per in results.items():
        cells = [f"{np.mean(per[f]):.2f}" for f in FAMILIES]
        every = np.mean([x for f in FAMILIES for x in per[f]])
        print(f"| {name} | {' | '.join(cells)} | **{every:.2f}** | {seconds[name]:.0f} |")


def real(candidates: dict, datasets) -> None:
    import real_embeddings

    print("\nreal embeddings, over all layers: uncovered fraction and graph_faithfulness (mean / worst):\n")
    print("| setting | " + " | ".join(f"{d} uncovered | {d} faithful" for d in datasets) + " |")
    print("|---" * (1 + 2 * len(datasets)) + "|")
    data = {d: real_embeddings.load(d)["layers"] for d in datasets}
    for name, params in candidates.items():
        cells = []
        for d in datasets:
            unc, fai = [], []
            for X in data[d]:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    g = build_mapper(X, params)
                unc.append(g.uncovered_fraction)
                fai.append(graph_faithfulness(X, g))
            cells += [f"{np.mean(unc):.2f} / {np.max(unc):.2f}", f"{np.mean(fai):.2f} / {np.min(fai):.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 cases per family up to 5k inputs, defaults only")
    ap.add_argument("--cases", type=int, default=10, help="cases per shape family (default 10)")
    ap.add_argument("--no-real", action="store_true", help="skip the real embeddings")
    ap.add_argument("--no-shapes", action="store_true", help="skip the shape sweep")
    ap.add_argument("--settings", help="comma-separated candidate names to run (default: all)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    names = args.settings.split(",") if args.settings else ["defaults"] if args.quick else list(CANDIDATES)
    candidates = {name: CANDIDATES[name] for name in names}
    if not args.no_shapes:
        sweep(candidates, 2 if args.quick else args.cases, 5000 if args.quick else max(SIZES))
    if not args.no_real:
        real(candidates, ("minilm_sentences", "digits_cnn") if args.quick else
             ("minilm_sentences", "minilm_captions", "digits_cnn", "effnet_photos"))


if __name__ == "__main__":
    main()
