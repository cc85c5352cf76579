"""align_chain against running ``align`` on each consecutive pair, for 7 layers of 1,000 - 10,000 inputs.

The layers: 7 representations of the same points on a trefoil knot, each a noisy random linear
embedding in 64-D whose noise grows along the chain (0.02 to 0.14), as a model's layers drift
from one another. Both sides use the same mapper settings (lens pca, 30 intervals, automatic eps).
``align_chain`` builds 7 graphs and lays them out in one optimisation of all 7; the pairwise
baseline runs ``align`` 6 times (12 mapper graphs, 6 joint layouts of two graphs). Prints the
time of each and their ratio, in one process, torch on one thread; the chain's pair scores
equal the pairwise ones where both build the same graphs (they do here: same parameters).

Run: python benchmarks/bench_chain.py [--quick]   (--quick: 1,000 and 3,000 inputs only)
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from napari_topoalign import MapperParams, align, align_chain

N_LAYERS = 7
PARAMS = MapperParams(lens="pca", n_intervals=30, metric="euclidean")


def layers(n: int, dim: int = 64, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    P = np.stack([np.sin(t) + 2 * np.sin(2 * t), np.cos(t) - 2 * np.cos(2 * t), -np.sin(3 * t)], axis=1)
    out = []
    for k in range(N_LAYERS):
        M = rng.normal(size=(3, dim)) / np.sqrt(3)
        out.append((P @ M + (0.02 + 0.02 * k) * rng.normal(size=(n, dim))).astype(np.float32))
    return out


def main(quick: bool) -> None:
    torch.set_num_threads(1)
    sizes = (1000, 3000) if quick else (1000, 3000, 10000)
    print(f"{N_LAYERS} layers, consecutive pairs, torch on 1 thread, CPU")
    print(f"{'inputs':>7} {'nodes/graph':>12} {'align_chain':>12} {'6 x align':>10} {'ratio':>6}  scores equal")
    for n in sizes:
        X = layers(n)
        t0 = time.perf_counter()
        chain = align_chain(X, PARAMS, device="cpu")
        t_chain = time.perf_counter() - t0
        t0 = time.perf_counter()
        pairwise = [align(X[i], X[i + 1], PARAMS, device="cpu") for i in range(N_LAYERS - 1)]
        t_pairs = time.perf_counter() - t0
        same = all(al.scores.keys() == ref.scores.keys()
                   and all(abs(al.scores[k] - ref.scores[k]) <= 1e-12 for k in al.scores)  # BLAS rounding aside
                   for al, ref in zip(chain.alignments, pairwise))
        nodes = np.mean([g.n_nodes for g in chain.graphs])
        print(f"{n:>7} {nodes:>12.0f} {t_chain:>11.2f}s {t_pairs:>9.2f}s {t_pairs / t_chain:>5.2f}x  {same}")


if __name__ == "__main__":
    main("--quick" in sys.argv)
