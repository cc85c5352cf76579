"""Structurally matching regions between two mapper graphs built on the same inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .checks import check_graph
from .errors import InputShapeError, ParameterError
from .mapper import MapperGraph

ANCHOR_MIN = 0.3  # overlap coefficient |a ∩ b| / min(|a|, |b|) of an anchor pair of nodes
OTHERS = 200  # other inputs each input's organisation agreement looks at
N_RANDOM = 19  # random input sets per region size: beating all of them is p < 0.05
NEAR_PERFECT = 0.9  # agreement reported even where random sets agree as well (graphs alike everywhere)
SPLIT_MARGIN = 0.02  # how much better a candidate's parts must agree for it to be split

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

    ``inputs``: the inputs both sides cover; ``score`` in [0, 1]: how alike A and B organise
    them (see :func:`find_matching_regions`). Equal when all four fields are equal.
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


class _Context:
    """What scoring a region needs, computed once per pair of graphs."""

    def __init__(self, A: MapperGraph, B: MapperGraph, seed: int):
        self.A, self.B = A, B
        self.MA, self.MB = A.membership().tocsr(), B.membership().tocsr()
        self.size_a, self.size_b = self.MA.sum(axis=1).A1, self.MB.sum(axis=1).A1
        self.local = organisation_agreement(A, B, seed=seed)
        self.seed = seed
        self._baselines: dict[int, np.ndarray] = {}

    def region(self, nodes_a: np.ndarray, nodes_b: np.ndarray) -> tuple[float, np.ndarray]:
        """Agreement of a region (mean organisation agreement of its inputs) and its inputs (those both sides cover)."""
        in_a = np.asarray(self.MA[nodes_a].sum(axis=0)).ravel() > 0
        in_b = np.asarray(self.MB[nodes_b].sum(axis=0)).ravel() > 0
        shared = np.flatnonzero(in_a & in_b)
        return (float(self.local[shared].mean()) if len(shared) else 0.0), shared

    def baseline(self, m: int) -> np.ndarray:
        """Mean organisation agreement of ``N_RANDOM`` random sets of ``m`` inputs (fixed seed)."""
        if m not in self._baselines:
            rng = np.random.default_rng([self.seed, m])
            n = self.A.n_inputs
            self._baselines[m] = np.array([self.local[rng.choice(n, m, replace=False)].mean() for _ in range(N_RANDOM)])
        return self._baselines[m]


def organisation_agreement(A: MapperGraph, B: MapperGraph, n_others: int = OTHERS, seed: int = 0) -> np.ndarray:
    """Per input i, how alike A and B place the other inputs relative to it, in [0, 1].

    The Spearman correlation, clipped at 0, of the hop distances from i to ``n_others`` other
    inputs (fixed seed) in A and in B, over those reachable from i in at least one of the two
    graphs (``inf``, unreachable in one graph only, ranks above every finite distance). 1 when
    both graphs order those inputs alike (or place them all at one same distance); 0 for an
    input that reaches nothing in either graph, or sees the others ordered unrelatedly.
    """
    n = A.n_inputs
    m = min(n_others, n - 1)
    out = np.zeros(n)
    if m < 1:
        return out
    graphs = [(G.node_hops(), G.input_nodes()) for G in (A, B)]
    rng = np.random.default_rng(seed)
    block = max(1, 2**16 // m)
    for lo in range(0, n, block):
        rows = np.arange(lo, min(lo + block, n))
        i = np.repeat(rows, m).reshape(len(rows), m)
        j = rng.integers(0, n - 1, i.shape)
        j += j >= i  # uniform over the other inputs
        ha, hb = (_hops_from(rows, j, hops, holders) for hops, holders in graphs)
        out[rows] = _row_spearman(ha, hb)
    return out


def _hops_from(rows: np.ndarray, others: np.ndarray, hops: np.ndarray, holders: np.ndarray) -> np.ndarray:
    """``MapperGraph.input_hops`` from each input of ``rows`` to each input of its row of ``others``:
    the hop distance from input to every node first (min over the nodes holding it), then to inputs."""
    k = len(hops)
    to_node = np.full((len(rows), k + 1), np.inf)  # column k: "no node"
    padded = np.vstack([hops, np.full((1, k), np.inf)]) if k else np.zeros((1, 0))
    for a in range(holders.shape[1]):
        np.minimum(to_node[:, :k], padded[holders[rows, a]], out=to_node[:, :k])
    out = np.full(others.shape, np.inf)
    r = np.arange(len(rows))[:, None]
    for b in range(holders.shape[1]):
        np.minimum(out, to_node[r, np.where(holders[others, b] >= 0, holders[others, b], k)], out=out)
    return out


def _row_spearman(ha: np.ndarray, hb: np.ndarray) -> np.ndarray:
    """Per row, Spearman correlation (clipped at 0) of ``ha`` and ``hb`` over the columns finite in
    either; 1 for rows equal on those columns, 0 for rows with none."""
    from scipy.stats import rankdata

    used = np.isfinite(ha) | np.isfinite(hb)
    equal = np.all((ha == hb) | ~used, axis=1) & used.any(axis=1)
    ranks = []
    for h in (ha, hb):
        h = h.copy()
        top = h[np.isfinite(h)].max() if np.isfinite(h).any() else 0.0
        h[~np.isfinite(h)] = top + 1
        h[~used] = top + 2  # unused columns rank above every used one: the used ranks stay as they are
        ranks.append(rankdata(h, axis=1))
    w = used.astype(np.float64)
    cnt = np.maximum(w.sum(axis=1, keepdims=True), 1.0)
    da, db = [(r - (r * w).sum(axis=1, keepdims=True) / cnt) * w for r in ranks]
    va, vb = (da * da).sum(axis=1), (db * db).sum(axis=1)
    corr = np.divide((da * db).sum(axis=1), np.sqrt(va * vb), out=np.zeros(len(ha)), where=(va > 0) & (vb > 0))
    return np.where(equal, 1.0, np.clip(corr, 0.0, 1.0))


def _anchors(A: MapperGraph, B: MapperGraph, C: sp.csr_matrix, ctx: _Context):
    """Anchor node pairs (i, j): overlap coefficient |a ∩ b| / min(|a|, |b|) >= ANCHOR_MIN and
    the best of row i or of column j; with the number of inputs each pair shares."""
    coo = C.tocoo()
    sa, sb = ctx.size_a[coo.row], ctx.size_b[coo.col]
    inter = coo.data * (sa + sb) / (1.0 + coo.data)  # |a ∩ b| from the Jaccard index
    O = sp.csr_matrix((np.minimum(inter / np.maximum(np.minimum(sa, sb), 1.0), 1.0), (coo.row, coo.col)), shape=C.shape)
    coo = O.tocoo()
    i, j, v = coo.row, coo.col, coo.data
    row_max = np.asarray(O.max(axis=1).todense()).ravel()
    col_max = np.asarray(O.max(axis=0).todense()).ravel()
    keep = (v >= ANCHOR_MIN) & ((v >= row_max[i]) | (v >= col_max[j]))
    order = np.lexsort((j[keep], i[keep]))
    ai, bj = i[keep][order].astype(np.int64), j[keep][order].astype(np.int64)
    shared = np.asarray(ctx.MA[ai].multiply(ctx.MB[bj]).sum(axis=1)).ravel()
    return ai, bj, shared


def find_matching_regions(
    A: MapperGraph, B: MapperGraph, C=None, *, min_score: float = 0.1, min_nodes: int = 2, seed: int = 0
) -> list[Region]:
    """Regions where A and B hold the same inputs organised the same way, best first.

    ``C`` is the Jaccard correspondence (``correspondence(A, B)``, computed when None). Each
    graph may be sliced by its own lens. Anchors are node pairs whose overlap coefficient
    |a ∩ b| / min(|a|, |b|) is >= 0.3 and the best of its row or its column, so a group of
    inputs that one graph cuts into more, smaller nodes than the other still matches. Two
    anchors are linked when their A nodes are equal or adjacent and their B nodes too; each
    connected group of linked anchors is a candidate (each side connected by construction).

    A candidate's ``score`` (its agreement, in [0, 1]) is the mean, over the inputs both its
    sides cover, of their ``organisation_agreement`` (does each input see the others at alike
    hop distances in A and in B?). A candidate is replaced by the Louvain communities of its
    linked anchors (fixed seed), recursively, when their score (0 for a part that would not be
    reported), weighted by their inputs, beats its own by more than 0.02: a region covering
    most inputs survives only when agreeing as a whole beats agreeing in parts. A region is
    reported when its score beats the same mean over each of 19 random sets of as many inputs
    (fixed seed; p < 0.05), or is at least 0.9 (graphs alike everywhere: then random sets
    agree as well), when it is >= ``min_score``, and when each side has >= ``min_nodes``
    nodes. Regions are taken greedily, best first by score × inputs (a region that loses nodes
    to a better one keeps its largest connected remainder, rescored), so no node is in two,
    and returned in that order.
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
    if A.n_nodes == 0 or B.n_nodes == 0:
        return []
    ctx = _Context(A, B, seed)
    ai, bj, cell = _anchors(A, B, C, ctx)
    if len(ai) == 0:
        return []
    PA = sp.csr_matrix((np.ones(len(ai)), (np.arange(len(ai)), ai)), shape=(len(ai), A.n_nodes))
    PB = sp.csr_matrix((np.ones(len(ai)), (np.arange(len(ai)), bj)), shape=(len(ai), B.n_nodes))
    link = (PA @ A.adjacency(self_loops=True) @ PA.T).multiply(PB @ B.adjacency(self_loops=True) @ PB.T).tocsr()
    link.setdiag(0)
    link.eliminate_zeros()

    def candidate(idx):
        """(score, reported?, nodes_a, nodes_b, shared inputs, anchor indices) of a set of anchors."""
        na, nb = np.unique(ai[idx]), np.unique(bj[idx])
        agree, shared = ctx.region(na, nb)
        if len(shared) < 2:
            return 0.0, False, na, nb, shared, idx
        beats = agree > ctx.baseline(len(shared)).max() or agree >= NEAR_PERFECT
        passes = beats and agree >= min_score and min(len(na), len(nb)) >= min_nodes
        return agree, passes, na, nb, shared, idx

    def split(idx):
        """Louvain communities of the linked anchors ``idx`` (fixed seed), or None for one."""
        import networkx as nx

        sub = link[idx][:, idx].tocoo()
        G = nx.Graph()
        G.add_nodes_from(range(len(idx)))
        w = np.minimum(cell[idx][sub.row], cell[idx][sub.col])
        G.add_weighted_edges_from(zip(sub.row.tolist(), sub.col.tolist(), w.tolist()))
        parts = nx.community.louvain_communities(G, weight="weight", seed=seed)
        if len(parts) < 2:
            return None
        return [idx[np.sort(np.fromiter(p, np.int64))] for p in parts]

    def pieces(idx):
        """Connected groups of linked anchors within ``idx``."""
        _, lab = connected_components(link[idx][:, idx], directed=False)
        return [idx[lab == c] for c in np.unique(lab)]

    chosen = []
    stack = [candidate(idx) for idx in pieces(np.arange(len(ai)))]
    while stack:
        parent = stack.pop()
        children = split(parent[5]) if len(parent[5]) > 1 else None
        if children:
            kids = [candidate(k) for part in children for k in pieces(part)]
            sizes = np.array([len(k[4]) for k in kids], dtype=np.float64)
            if np.dot([k[0] * k[1] for k in kids], sizes) / max(sizes.sum(), 1.0) > parent[0] * parent[1] + SPLIT_MARGIN:
                stack.extend(kids)
                continue
        if parent[1]:
            chosen.append(parent)
    return _disjoint(chosen, candidate, pieces, ai, bj, A.n_nodes, B.n_nodes)


def _disjoint(chosen, candidate, pieces, ai, bj, n_a: int, n_b: int) -> list[Region]:
    """Regions taken greedily by score × inputs so that no node is in two; a candidate that
    loses nodes keeps its largest connected remainder, rescored."""

    def rank(c):
        return (-c[0] * len(c[4]), int(c[2][0]))

    chosen = sorted(chosen, key=rank)
    used_a, used_b = np.zeros(n_a, bool), np.zeros(n_b, bool)
    regions = []
    while chosen:
        s, passes, na, nb, shared, idx = chosen.pop(0)
        if used_a[na].any() or used_b[nb].any():
            idx = idx[~used_a[ai[idx]] & ~used_b[bj[idx]]]
            if len(idx):
                c = candidate(max(pieces(idx), key=len))
                if c[1]:
                    chosen.append(c)
                    chosen.sort(key=rank)
            continue
        used_a[na] = True
        used_b[nb] = True
        regions.append(Region(na, nb, shared.astype(np.int64), s))
    return regions
