"""Joint layout (torch, CPU) against ForceAtlas2 and networkx spring_layout on mapper graphs of a knotted curve.

Two noisy representations of 40k points on a trefoil knot -> two mapper graphs of ~1,000 nodes
(300 intervals). Times the joint layout of both graphs against fa2 (300 iterations) and
networkx.spring_layout laying out each graph alone, and prints each layout's neighbourhood
preservation. Then two fragmented ~9k-node graphs (3,000 intervals: hundreds of components), with
the start's and the result's preservation, on one and on two threads, next to the numbers of the
previous solver. Torch runs on one thread, as fa2 does, unless said.

Run: python benchmarks/bench_layout.py
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import torch
from fa2_modified import ForceAtlas2

from napari_topoalign import MapperParams, build_mapper, correspondence
from napari_topoalign.layout import joint_layout, neighbourhood_preservation


def trefoil(n: int, rng) -> np.ndarray:
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    return np.stack([np.sin(t) + 2 * np.sin(2 * t), np.cos(t) - 2 * np.cos(2 * t), -np.sin(3 * t)], axis=1)


def representations(n: int, dim: int = 32, seed: int = 0):
    """Two noisy random linear embeddings of the same knot points."""
    rng = np.random.default_rng(seed)
    P = trefoil(n, rng)
    out = []
    for noise in (0.02, 0.04):
        M = rng.normal(size=(3, dim)) / np.sqrt(3)
        out.append((P @ M + noise * rng.normal(size=(n, dim))).astype(np.float32))
    return out


def timed(f):
    t = time.perf_counter()
    value = f()
    return value, time.perf_counter() - t


def fa2_layout(G):
    fa = ForceAtlas2(verbose=False)
    return fa.forceatlas2_networkx_layout(G, pos=None, iterations=300)


def graphs(n_points: int, n_intervals: int):
    X_a, X_b = representations(n_points)
    params = MapperParams(lens="pca", n_intervals=n_intervals, overlap=0.5, metric="euclidean")
    (A, B), t = timed(lambda: (build_mapper(X_a, params), build_mapper(X_b, params)))
    print(f"  build_mapper x2: {t:.2f} s -> {A.n_nodes} and {B.n_nodes} nodes, {len(A.edges)} and {len(B.edges)} edges")
    return A, B


def _strong_over_random(L, C, n_random=20_000) -> float:
    """Mean distance of strongly corresponding pairs (C >= 0.3) over that of random pairs, in the shared frame."""
    pos_b = L.pos_b - L.offset
    strong = C.multiply(C >= 0.3).tocoo()
    rng = np.random.default_rng(0)
    i, j = rng.integers(len(L.pos_a), size=n_random), rng.integers(len(pos_b), size=n_random)
    d_strong = np.linalg.norm(L.pos_a[strong.row] - pos_b[strong.col], axis=1).mean()
    return float(d_strong / np.linalg.norm(L.pos_a[i] - pos_b[j], axis=1).mean())


def main():
    torch.set_num_threads(1)
    print("== two mapper graphs of ~1,000 nodes (40k points, 300 intervals) ==")
    A, B = graphs(40_000, 300)
    C = correspondence(A, B)
    L, t_joint = timed(lambda: joint_layout(A, B, C, device="cpu"))
    rows = [("joint_layout (A+B together)", t_joint, neighbourhood_preservation(A, L.pos_a), neighbourhood_preservation(B, L.pos_b))]
    Ga, Gb = A.to_networkx(), B.to_networkx()
    for name, f in (("fa2 300 it (A, B alone)", fa2_layout), ("nx.spring_layout (A, B alone)", lambda G: nx.spring_layout(G, seed=0))):
        pa, ta = timed(lambda: f(Ga))
        pb, tb = timed(lambda: f(Gb))
        rows.append((name, ta + tb, neighbourhood_preservation(Ga, pa), neighbourhood_preservation(Gb, pb)))
    print(f"  {'method':32s} {'time (s)':>9s} {'NP(A)':>7s} {'NP(B)':>7s}")
    for name, t, na, nb in rows:
        print(f"  {name:32s} {t:9.2f} {na:7.3f} {nb:7.3f}")
    print(f"  speed-up of joint_layout: {rows[1][1] / t_joint:.1f}x vs fa2, {rows[2][1] / t_joint:.1f}x vs spring_layout")
    print(f"  strongly corresponding pairs (C >= 0.3) sit at {_strong_over_random(L, C):.3f} of the random-pair distance")

    print("== 10k-node graphs (40k points, 3,000 intervals): hundreds of components ==")
    A, B = graphs(40_000, 3000)
    C = correspondence(A, B)
    for name, G in (("A", A), ("B", B)):
        print(f"  {name}: {nx.number_connected_components(G.to_networkx())} connected components")
    start = joint_layout(A, B, C, iterations=0, device="cpu")
    print(f"  start (component MDS fitted onto the joint MDS): NP(A) {neighbourhood_preservation(A, start.pos_a):.3f}, "
          f"NP(B) {neighbourhood_preservation(B, start.pos_b):.3f}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        L, t = timed(lambda: joint_layout(A, B, C, device="cpu"))
        print(f"  joint_layout of both, {threads} thread(s): {t:.2f} s ({len(L.energy)} iterations), "
              f"NP(A) {neighbourhood_preservation(A, L.pos_a):.3f}, NP(B) {neighbourhood_preservation(B, L.pos_b):.3f}, "
              f"strongly corresponding pairs at {_strong_over_random(L, C):.3f} of the random-pair distance")
    torch.set_num_threads(1)
    print("  before (solver of commit fafd0ef, one MDS of the joint graph, measured on this case): "
          "2.1 s on 1 thread, NP(A) 0.248, NP(B) 0.219 (start 0.273 / 0.252), strong pairs at 0.006 of random")
    print("CUDA:", "available, not timed here" if torch.cuda.is_available() else "not available on this machine")


if __name__ == "__main__":
    main()
