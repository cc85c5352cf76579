"""Joint layout (torch, CPU) against ForceAtlas2 and networkx spring_layout on mapper graphs of a knotted curve.

Two noisy representations of 40k points on a trefoil knot -> two mapper graphs of ~1,000 nodes
(300 intervals). Times the joint layout of both graphs against fa2 (300 iterations) and
networkx.spring_layout laying out each graph alone, and prints each layout's neighbourhood
preservation. Then 10k-node timings. Torch runs on one thread, as fa2 does.

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
    params = MapperParams(lens="pca", n_intervals=n_intervals, overlap=0.5)
    (A, B), t = timed(lambda: (build_mapper(X_a, params), build_mapper(X_b, params)))
    print(f"  build_mapper x2: {t:.2f} s -> {A.n_nodes} and {B.n_nodes} nodes, {len(A.edges)} and {len(B.edges)} edges")
    return A, B


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
    gap = np.linalg.norm(L.pos_a[:, None] - (L.pos_b - L.offset)[None], axis=2)
    strong = C.multiply(C >= 0.3).tocoo()
    print(f"  strongly corresponding pairs (C >= 0.3): mean distance {gap[strong.row, strong.col].mean():.2f} "
          f"vs random pairs {gap.mean():.2f} (layout extent 100)")

    print("== 10k-node graphs (40k points, 3,000 intervals) ==")
    A, B = graphs(40_000, 3000)
    L, t = timed(lambda: joint_layout(A, B, device="cpu"))
    print(f"  joint_layout of both: {t:.2f} s ({len(L.energy)} iterations), "
          f"NP(A) {neighbourhood_preservation(A, L.pos_a):.3f}, NP(B) {neighbourhood_preservation(B, L.pos_b):.3f}")
    print("CUDA:", "available, not timed here" if torch.cuda.is_available() else "not available on this machine")


if __name__ == "__main__":
    main()
