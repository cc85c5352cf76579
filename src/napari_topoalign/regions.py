"""Structurally matching regions between two mapper graphs built on the same inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .checks import check_graph
from .errors import InputShapeError, ParameterError
from .mapper import MapperGraph

ANCHOR_MIN = 0.5

#: Region colours, the same in the report and in napari: tab10 without its grey (grey means
#: "in no region"), cycled when there are more regions.
REGION_PALETTE = np.array(
    [
        [0.122, 0.467, 0.706, 1.0],
        [1.000, 0.498, 0.055, 1.0],
        [0.173, 0.627, 0.173, 1.0],
        [0.839, 0.153, 0.157, 1.0],
        [0.580, 0.404, 0.741, 1.0],
        [0.549, 0.337, 0.294, 1.0],
        [0.890, 0.467, 0.761, 1.0],
        [0.737, 0.741, 0.133, 1.0],
        [0.090, 0.745, 0.812, 1.0],
    ]
)


def region_colours(indices) -> np.ndarray:
    """(n, 4) RGBA colours of these region indices (0 = the best region)."""
    return REGION_PALETTE[np.asarray(indices, dtype=np.int64) % len(REGION_PALETTE)]


def region_of(regions, n: int, part: str) -> np.ndarray:
    """For each of ``n`` nodes (``part`` "nodes_a" or "nodes_b") or inputs (``part`` "inputs"),
    the index of the best region holding it; -1 for none."""
    out = np.full(n, -1, dtype=np.int64)
    for i in range(len(regions) - 1, -1, -1):  # best region last, so it wins
        out[np.asarray(getattr(regions[i], part), dtype=np.int64)] = i
    return out


@dataclass(eq=False)
class Region:
    """A connected subgraph of A (``nodes_a``) matched to one of B (``nodes_b``).

    ``inputs``: the inputs both sides cover; ``score`` in [0, 1] (see
    :func:`find_matching_regions`). Equal when all four fields are equal.
    """

    nodes_a: np.ndarray
    nodes_b: np.ndarray
    inputs: np.ndarray
    score: float

    def __eq__(self, other):
        if not isinstance(other, Region):
            return NotImplemented
        return (
            np.array_equal(self.nodes_a, other.nodes_a)
            and np.array_equal(self.nodes_b, other.nodes_b)
            and np.array_equal(self.inputs, other.inputs)
            and float(self.score) == float(other.score)
        )


def _overlap(C: sp.csr_matrix, size_a: np.ndarray, size_b: np.ndarray) -> sp.csr_matrix:
    """Overlap coefficient |a ∩ b| / min(|a|, |b|) of every node pair, from their Jaccard ``C``.

    Unlike Jaccard it stays high when one graph slices a group of inputs into more, smaller
    nodes than the other (two representations with different lenses rarely slice alike).
    """
    coo = C.tocoo()
    sa, sb = size_a[coo.row], size_b[coo.col]
    inter = coo.data * (sa + sb) / (1.0 + coo.data)
    O = sp.csr_matrix((inter / np.maximum(np.minimum(sa, sb), 1.0), (coo.row, coo.col)), shape=C.shape)
    O.data = np.minimum(O.data, 1.0)
    return O


def _anchors(O: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) with O[i, j] >= ANCHOR_MIN that are the best match of row i or of column j."""
    coo = O.tocoo()
    i, j, v = coo.row, coo.col, coo.data
    row_max = np.asarray(O.max(axis=1).todense()).ravel()
    col_max = np.asarray(O.max(axis=0).todense()).ravel()
    keep = (v >= ANCHOR_MIN) & ((v >= row_max[i]) | (v >= col_max[j]))
    order = np.lexsort((j[keep], i[keep]))
    return i[keep][order].astype(np.int64), j[keep][order].astype(np.int64)


def _score(nodes_a, nodes_b, C, SA, SB, MA, MB) -> tuple[float, np.ndarray]:
    """Region score and the inputs shared by both sides."""
    in_a = np.asarray(MA[nodes_a].sum(axis=0)).ravel() > 0
    in_b = np.asarray(MB[nodes_b].sum(axis=0)).ravel() > 0
    shared = np.flatnonzero(in_a & in_b)
    inputs = len(shared) / max(int((in_a | in_b).sum()), 1)
    contained_a = MA[nodes_a] @ in_b / np.maximum(MA[nodes_a].sum(axis=1).A1, 1)
    contained_b = MB[nodes_b] @ in_a / np.maximum(MB[nodes_b].sum(axis=1).A1, 1)
    node = 0.5 * (contained_a.mean() + contained_b.mean())
    sub = C[nodes_a][:, nodes_b].toarray()
    best_b, best_a = sub.argmax(axis=1), sub.argmax(axis=0)
    near_b = SB[nodes_b][:, nodes_b].toarray() > 0
    near_a = SA[nodes_a][:, nodes_a].toarray() > 0
    ea = np.argwhere(np.triu(near_a, 1))
    eb = np.argwhere(np.triu(near_b, 1))
    kept = near_b[best_b[ea[:, 0]], best_b[ea[:, 1]]].sum() + near_a[best_a[eb[:, 0]], best_a[eb[:, 1]]].sum()
    edge = kept / (len(ea) + len(eb)) if len(ea) + len(eb) else 1.0
    return float(np.cbrt(inputs * node * edge)), shared


def find_matching_regions(
    A: MapperGraph, B: MapperGraph, C=None, *, min_score: float = 0.5, min_nodes: int = 2
) -> list[Region]:
    """Regions where A and B cover the same inputs with the same structure, best first.

    ``C`` is the Jaccard correspondence (``correspondence(A, B)``, computed when None).
    Anchors are node pairs whose overlap coefficient |a ∩ b| / min(|a|, |b|) is >= 0.5
    and the best of its row or its column, so a group of inputs that one graph cuts into
    more, smaller nodes than the other still matches. Two anchors (i, j), (i', j') are
    joined when i, i' are equal or adjacent in A and j, j' equal or adjacent in B; each
    connected group of anchors is a candidate region (each side connected by construction).

    ``score`` is the geometric mean of three agreements in [0, 1]: inputs (Jaccard
    of the two sides' input unions), nodes (mean fraction of each node's inputs that the
    other side covers) and edges (fraction of edges, both sides, whose endpoints' best
    Jaccard matches are equal or adjacent on the other side). 1.0 means every node's
    inputs lie in the other side, both sides cover the same inputs and keep each other's
    edges; 0.0 means one agreement is nil. Regions are taken greedily by score, so no
    node is in two regions; a candidate that loses nodes to a better region keeps
    its largest connected remainder and is rescored. Kept: ``score >= min_score``
    and at least ``min_nodes`` nodes on each side.
    """
    check_graph(A, "A")
    check_graph(B, "B")
    if A.n_inputs != B.n_inputs:
        raise InputShapeError(
            f"graph A was built on {A.n_inputs} inputs but graph B on {B.n_inputs}; "
            "both must be built on the same inputs."
        )
    numbers = (int, float, np.integer, np.floating)
    if not isinstance(min_score, numbers) or not isinstance(min_nodes, numbers) or not 0.0 <= min_score <= 1.0 \
            or int(min_nodes) < 1:
        raise ParameterError(
            f"min_score must be in [0, 1] and min_nodes >= 1; got {min_score!r}, {min_nodes!r}."
        )
    if C is None:
        from .correspond import correspondence

        C = correspondence(A, B)
    C = sp.csr_matrix(C, dtype=np.float64)
    if C.shape != (A.n_nodes, B.n_nodes):
        raise InputShapeError(f"C must have shape {(A.n_nodes, B.n_nodes)}; got {C.shape}.")
    SA, SB = A.adjacency(self_loops=True), B.adjacency(self_loops=True)
    MA, MB = A.membership().tocsr(), B.membership().tocsr()
    if A.n_nodes == 0 or B.n_nodes == 0:
        return []
    O = _overlap(C, MA.sum(axis=1).A1, MB.sum(axis=1).A1)
    ai, bj = _anchors(O)
    P = len(ai)
    if P == 0:
        return []
    PA = sp.csr_matrix((np.ones(P), (np.arange(P), ai)), shape=(P, A.n_nodes))
    PB = sp.csr_matrix((np.ones(P), (np.arange(P), bj)), shape=(P, B.n_nodes))
    link = (PA @ SA @ PA.T).multiply(PB @ SB @ PB.T).tocsr()
    _, comp = connected_components(link, directed=False)

    def candidate(idx):
        na, nb = np.unique(ai[idx]), np.unique(bj[idx])
        if min(len(na), len(nb)) < min_nodes:
            return None
        s, shared = _score(na, nb, C, SA, SB, MA, MB)
        return (s, na, nb, shared, idx) if s >= min_score else None

    groups = np.split(np.argsort(comp, kind="stable"), np.cumsum(np.bincount(comp))[:-1])
    cands = [c for c in map(candidate, groups) if c is not None]
    cands.sort(key=lambda c: (-c[0], c[1][0]))
    used_a = np.zeros(A.n_nodes, bool)
    used_b = np.zeros(B.n_nodes, bool)
    regions = []
    while cands:
        s, na, nb, shared, idx = cands.pop(0)
        if used_a[na].any() or used_b[nb].any():
            idx = idx[~used_a[ai[idx]] & ~used_b[bj[idx]]]
            if len(idx) == 0:
                continue
            _, lab = connected_components(link[idx][:, idx], directed=False)
            c = candidate(idx[lab == np.argmax(np.bincount(lab))])
            if c is not None:
                cands.append(c)
                cands.sort(key=lambda c: (-c[0], c[1][0]))
            continue
        used_a[na] = True
        used_b[nb] = True
        regions.append(Region(na, nb, shared.astype(np.int64), s))
    regions.sort(key=lambda r: (-r.score, r.nodes_a[0]))
    return regions
