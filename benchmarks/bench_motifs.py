"""Motif queries: each built-in kind on a 5,000-node mapper-like graph, and the loop
query (``networkx.cycle_basis``) against ``networkx.minimum_cycle_basis``.

    python benchmarks/bench_motifs.py

The graph is a 50 x 100 grid with 60% of its edges removed at random (many loops,
branches, flares and chains, like a noisy mapper graph); the comparison with
``minimum_cycle_basis`` runs on a 10 x 15 grid of the same kind (150 nodes),
since the minimum basis is far slower. Times are the best of 3 calls
(one call for ``minimum_cycle_basis``).
"""

import time

import networkx as nx
import numpy as np

from napari_topoalign.motifs import find_motifs


def sparse_grid(rows, cols, keep=0.4, seed=0):
    G = nx.convert_node_labels_to_integers(nx.grid_2d_graph(rows, cols))
    rng = np.random.default_rng(seed)
    edges = list(G.edges)
    drop = rng.random(len(edges)) > keep
    G.remove_edges_from([e for e, d in zip(edges, drop) if d])
    return G


def timed(fn, *args, repeats=3, **kw):
    """Result and best time of ``repeats`` calls."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        best = min(best, time.perf_counter() - t0)
    return out, best


def main():
    G = sparse_grid(50, 100, keep=0.6)
    print(f"graph: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges")
    total = 0.0
    for kind in ("branch", "loop", "flare", "path"):
        found, dt = timed(find_motifs, G, kind)
        total += dt
        print(f"  {kind:6s}: {len(found):5d} found in {1e3 * dt:7.1f} ms")
    print(f"  all built-in kinds: {total:.3f} s")
    small = sparse_grid(10, 15, keep=0.6)
    loops, t_ours = timed(find_motifs, small, "loop")
    basis, t_min = timed(nx.minimum_cycle_basis, small, repeats=1)
    assert len(loops) == len(basis)
    print(f"loops on {small.number_of_nodes()} nodes ({len(loops)} independent cycles): "
          f"find_motifs {1e3 * t_ours:.1f} ms, minimum_cycle_basis {1e3 * t_min:.1f} ms, "
          f"ratio {t_min / t_ours:.0f}x")


if __name__ == "__main__":
    main()
