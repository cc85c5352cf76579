"""Mapper graphs: lens -> overlapping cover -> clustering per cover element -> nerve."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class MapperParams:
    """Parameters of one mapper graph (plain data, validated by ``build_mapper``).

    ``lens``: "auto", "pca", "pca2"/"pca3" (the first two/three principal components: a 2-D/3-D
    lens), "l2norm", "density", "eccentricity", or an (N,), (N, 2) or (N, 3) array.
    ``metric``: "auto", "euclidean", "cosine", or "centred-cosine" (cosine of the inputs minus
    their mean: the direction of each input from the centre of the data, its length ignored).
    "auto" (lens and metric) tells low-dimensional data from embeddings. When the first two
    principal components hold at least 95% of the variance (a curve or a sheet, whose other
    directions clustering within each interval resolves) the lens is "pca" and the metric
    "euclidean". Otherwise the variance is spread over many directions, which a 1-D lens would
    collapse into a path: the lens is "pca3", and with 32 or more features (an embedding, whose
    input lengths vary with things other than meaning, while dropping the one radial direction
    loses little) the metric is "centred-cosine", else "euclidean". ``graph.params`` records
    what was chosen.
    ``n_intervals``: intervals of the cover, per lens dimension (an int, or one per dimension);
    None: see ``default_intervals`` (8-15 for a 1-D lens, by N; 10 × 10; 5 × 5 × 5).
    ``overlap``: fraction of an interval's length shared with its neighbour.
    ``cover``: "uniform" (equal lengths) or "balanced" (equal counts); a grid for a 2-D or 3-D lens.
    ``clusterer``: "dbscan", "single" (single linkage cut at ``eps``; with ``eps=None`` at the
    first gap of its merge heights, per cover element) or "hdbscan" (no eps; recorded as None).
    ``eps=None`` for DBSCAN: 1.5 × the 0.9 quantile of the distance to the ceil(2 ln N)-th nearest neighbour.
    ``min_samples=None``: floor(ln N), at least 2 (5 at 150 inputs, 6 at 1,000, 9 at 10,000):
    larger data need more neighbours to tell a cluster from a stray tail of one.
    """

    lens: Any = "auto"
    n_intervals: int | tuple[int, ...] | None = None
    overlap: float = 0.5
    cover: str = "uniform"
    clusterer: str = "dbscan"
    eps: float | None = None
    min_samples: int | None = None
    metric: str = "auto"

    def with_eps(self, eps: float) -> "MapperParams":
        return replace(self, eps=float(eps))


@dataclass(eq=False)
class MapperGraph:
    """A mapper graph: nodes are clusters of inputs, edges join nodes that share inputs."""

    members: list[np.ndarray]
    edges: np.ndarray
    edge_weight: np.ndarray
    intervals: np.ndarray
    node_interval: np.ndarray
    lens: np.ndarray
    n_inputs: int
    uncovered: np.ndarray
    params: MapperParams = field(default_factory=MapperParams)

    @property
    def n_nodes(self) -> int:
        return len(self.members)

    @property
    def uncovered_fraction(self) -> float:
        """Fraction of the inputs that lie in no node."""
        return len(self.uncovered) / self.n_inputs if self.n_inputs else 0.0

    def coverage_warning(self) -> str | None:
        """A sentence with the uncovered fraction and what to change when it exceeds 10%, else None."""
        frac = self.uncovered_fraction
        if frac <= UNCOVERED_WARN:
            return None
        p = self.params
        if p.clusterer == "hdbscan":
            fix = f"lower min_samples (now {p.min_samples}) or use clusterer='dbscan'"
        elif p.eps is None:
            fix = f"lower min_samples (now {p.min_samples}) or give an eps"
        else:
            fix = f"raise eps (now {p.eps:.4g}), lower min_samples (now {p.min_samples}) or use eps=None"
        return (
            f"{100 * frac:.0f}% of the inputs ({len(self.uncovered)} of {self.n_inputs}) are in no node of the "
            f"mapper graph, so the graph does not describe them; {fix}."
        )

    def membership(self) -> sp.csr_matrix:
        """Sparse K×N 0/1 matrix: row k marks the inputs of node k."""
        return membership_matrix(self.members, self.n_inputs)

    def adjacency(self, self_loops: bool = False) -> sp.csr_matrix:
        """Symmetric 0/1 K×K adjacency of the nodes; ``self_loops=True`` also sets the diagonal."""
        e = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        loops = np.arange(self.n_nodes) if self_loops else np.zeros(0, np.int64)
        rows = np.concatenate([e[:, 0], e[:, 1], loops])
        cols = np.concatenate([e[:, 1], e[:, 0], loops])
        S = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(self.n_nodes, self.n_nodes))
        S.data[:] = 1.0  # a repeated edge counts once
        return S

    def node_hops(self) -> np.ndarray:
        """K×K hop distances between nodes (float64; ``inf`` between components)."""
        from scipy.sparse.csgraph import shortest_path

        if self.n_nodes == 0:
            return np.zeros((0, 0))
        return shortest_path(self.adjacency(), method="D", unweighted=True, directed=False)

    def node_distances(self) -> np.ndarray:
        """K×K shortest-path lengths between nodes with each edge as long as -ln of its Jaccard
        weight (``edge_weight``): 0 for nodes holding the same inputs, longer the fewer inputs two
        nodes share, so that a diagonal step of a grid cover (few shared inputs) is longer than a
        step to a face neighbour; ``inf`` between components."""
        from scipy.sparse.csgraph import shortest_path

        if self.n_nodes == 0:
            return np.zeros((0, 0))
        e = np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        length = np.maximum(-np.log(self.edge_weight), 1e-12)  # csgraph drops zero-length edges
        L = sp.csr_matrix((length, (e[:, 0], e[:, 1])), shape=(self.n_nodes, self.n_nodes))
        return shortest_path(L, method="D", directed=False)

    def input_hops(self, i, j, hops: np.ndarray | None = None) -> np.ndarray:
        """Hop distance between the closest nodes holding input ``i[p]`` and input ``j[p]``, for each p.

        0 when the two inputs share a node; ``inf`` when either is uncovered or their nodes lie
        in different components. ``hops`` is ``node_hops()`` (computed when None) or any other
        K×K node distance, e.g. ``node_distances()``.
        """
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        hops = self.node_hops() if hops is None else hops
        holders = self.input_nodes()
        out = np.full(len(i), np.inf)
        if self.n_nodes == 0:
            return out
        padded = np.vstack([hops, np.full((1, self.n_nodes), np.inf)])  # row -1: "no node"
        for a in range(holders.shape[1]):
            row = padded[holders[i, a]]
            for b in range(holders.shape[1]):
                cb = holders[j, b]
                d = np.where(cb >= 0, row[np.arange(len(i)), np.maximum(cb, 0)], np.inf)
                np.minimum(out, d, out=out)
        return out

    def input_nodes(self) -> np.ndarray:
        """N×m int array: the nodes holding each input (``m`` the most any input is in), padded with -1."""
        M = self.membership().T.tocsr()
        counts = np.diff(M.indptr)
        width = max(int(counts.max()) if len(counts) else 0, 1)
        out = np.full((self.n_inputs, width), -1, dtype=np.int64)
        rows = np.repeat(np.arange(self.n_inputs), counts)
        cols = np.arange(len(M.indices)) - np.repeat(M.indptr[:-1], counts)
        out[rows, cols] = M.indices
        return out

    def first_lens(self) -> np.ndarray:
        """(N,): each input's lens value, or its first coordinate for a 2-D or 3-D lens (the first
        principal component for "pca2"/"pca3")."""
        return np.asarray(self.lens, dtype=float).reshape(self.n_inputs, -1)[:, 0]

    def to_networkx(self):
        """A ``networkx.Graph`` with node attributes size, members, lens (mean of ``first_lens``)
        and edge weight."""
        import networkx as nx

        lens = self.first_lens()
        G = nx.Graph()
        for k, m in enumerate(self.members):
            G.add_node(k, size=int(len(m)), members=m, lens=float(lens[m].mean()) if len(m) else 0.0)
        G.add_weighted_edges_from(
            (int(i), int(j), float(w)) for (i, j), w in zip(self.edges, self.edge_weight)
        )
        return G


def membership_matrix(members: list[np.ndarray], n_inputs: int) -> sp.csr_matrix:
    """Sparse K×N 0/1 float32 matrix of node memberships."""
    sizes = np.fromiter((len(m) for m in members), dtype=np.int64, count=len(members))
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.concatenate(members).astype(np.int64) if len(members) else np.zeros(0, np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(members), n_inputs))


def nerve(members: list[np.ndarray], n_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges (i < j) between nodes that share at least one input, with Jaccard weights."""
    M = membership_matrix(members, n_inputs)
    shared = sp.triu(M @ M.T, k=1).tocoo()
    sizes = np.asarray(M.sum(axis=1)).ravel()
    order = np.lexsort((shared.col, shared.row))
    i, j, inter = shared.row[order], shared.col[order], shared.data[order]
    keep = inter > 0
    i, j, inter = i[keep], j[keep], inter[keep]
    weight = inter / (sizes[i] + sizes[j] - inter)
    return np.stack([i, j], axis=1).astype(np.int64).reshape(-1, 2), weight.astype(np.float64)


# --------------------------------------------------------------------------- build_mapper

# the named choices of MapperParams' lens, cover, clusterer and metric
LENSES = ("auto", "pca", "pca2", "pca3", "l2norm", "density", "eccentricity")
COVERS = ("uniform", "balanced")
CLUSTERERS = ("dbscan", "single", "hdbscan")
METRICS = ("auto", "euclidean", "cosine", "centred-cosine")
UNCOVERED_WARN = 0.10  # build_mapper warns when more than this fraction of inputs is in no node
_GRAPH_BLOCK = 128
_KDTREE_MAX_DIM = 8
_HUBS = 16  # hubs per block of the radius graph (_thin_block)
_PIVOT_RETRY = 16  # after a block whose pivots pruned under 5% of the columns, try them again this many blocks on
_EPS_QUERIES = 1000  # inputs (fixed seed) whose k-NN distances choose eps, up to _EPS_FULL inputs
_EPS_FULL = 250_000  # above it, _EPS_QUERIES * sqrt(_EPS_FULL / N) queries: choosing eps stays well under the build
_EPS_QUANTILE = 0.9
_EPS_FACTOR = 1.5
_GAP_BINS = 10  # histogram bins of the first-gap rule
_PLANAR_SHARE = 0.95  # "auto": low-dimensional data when the first two principal components hold this share of the variance
_SHARE_SAMPLE = 20_000  # rows (fixed seed) whose principal components decide "auto"
_EMBEDDING_DIM = 32  # metric "auto": centred cosine for spread data with at least this many features
_INTERVALS = {2: 10, 3: 5}  # n_intervals=None for a 2-D or 3-D lens: 100 or 125 cover elements
_INPUTS_PER_INTERVAL = 60  # n_intervals=None for a 1-D lens: N / 60 intervals, 8 to 15


def default_intervals(n_inputs: int, lens_dims: int) -> int:
    """``n_intervals`` for ``n_intervals=None``: per dimension 10 for a 2-D lens and 5 for a 3-D
    one; for a 1-D lens N / 60 rounded, at least 8 and at most 15, so that an interval (sharing
    half with each neighbour) holds about 120 inputs or more, and the finer intervals of larger
    data separate the arms of a tree that run across the lens."""
    if lens_dims > 1:
        return _INTERVALS[lens_dims]
    return int(np.clip(round(n_inputs / _INPUTS_PER_INTERVAL), 8, 15))


class UncoveredInputsWarning(UserWarning):
    """More than ``UNCOVERED_WARN`` of the inputs lie in no node of a mapper graph."""


def build_mapper(X, params: MapperParams = MapperParams()) -> MapperGraph:
    """Mapper graph of the rows of ``X``: lens -> overlapping cover (intervals, or a grid for a
    2-D or 3-D lens) -> clusters per cover element -> nerve.

    For "dbscan" and "single" with a given eps, one sparse eps-neighbourhood graph of all inputs
    is computed once (only pairs of inputs that can share a cover element, in float32 blocks,
    borderline pairs re-checked in float64); each cover element's DBSCAN is then the connected
    components of its core points plus border points, exactly as scikit-learn's
    ``DBSCAN(eps, min_samples)`` on that element's inputs taken in index order. Nodes are ordered
    by cover element, then smallest member. Warns (``UncoveredInputsWarning``) when more than
    10% of the inputs are in no node.
    """
    from .checks import as_matrix, check_mapper_params, overflow_safe_scale, rescaled_params, unscaled_graph

    params = check_mapper_params(params)
    if _is_dask_array(X):
        from .mapper_dask import build_mapper_dask

        return build_mapper_dask(X, params)
    X = as_matrix(X, "X")
    params = resolve_auto(X, params)
    if params.metric == "centred-cosine":  # cosine of the centred rows: build on them, record what was asked
        graph = _build(centred_rows(X), replace(params, metric="cosine"))
        graph.params = replace(graph.params, metric="centred-cosine")
        return graph
    scale = overflow_safe_scale(X)  # float32 distances of X would overflow or underflow
    if scale != 1.0:
        return unscaled_graph(_build(X * np.float32(scale), rescaled_params(params, scale)), params, scale)
    return _build(X, params)


def resolve_auto(X, params: MapperParams) -> MapperParams:
    """``params`` with lens "auto", metric "auto" and ``min_samples=None`` resolved for the (N, D)
    array ``X`` (numpy or dask; see ``MapperParams``). Only "auto" reads rows: at most
    ``_SHARE_SAMPLE`` of them (fixed seed)."""
    if params.min_samples is None:
        params = replace(params, min_samples=max(2, int(np.floor(np.log(max(X.shape[0], 1))))))
    auto_lens = isinstance(params.lens, str) and params.lens == "auto"
    if not auto_lens and params.metric != "auto":
        return params
    rows = np.sort(np.random.default_rng(0).choice(X.shape[0], _SHARE_SAMPLE, replace=False)) \
        if X.shape[0] > _SHARE_SAMPLE else slice(None)
    sample = np.asarray(X[rows], dtype=np.float64)
    _, share = _pca(sample, 3)
    spread = len(share) == 3 and 0 < share[:2].sum() < _PLANAR_SHARE  # (no variance at all: not spread)
    if params.metric == "auto":
        params = replace(params, metric="centred-cosine" if spread and X.shape[1] >= _EMBEDDING_DIM else "euclidean")
    if auto_lens:
        params = replace(params, lens="pca3" if spread else "pca")
    return params


def centred_rows(X: np.ndarray) -> np.ndarray:
    """The rows of ``X`` minus their mean, scaled to unit length, as float32; the inputs at the
    mean raise ``InvalidValuesError`` (``check_off_mean``)."""
    Xc = X.astype(np.float64) - X.mean(axis=0, dtype=np.float64)
    norms = np.linalg.norm(Xc, axis=1, keepdims=True)
    check_off_mean(int((norms == 0).sum()))
    return (Xc / norms).astype(np.float32)


def check_off_mean(at_mean: int) -> None:
    """Raise ``InvalidValuesError`` when ``at_mean`` inputs equal the mean of all inputs (metric
    "centred-cosine" gives them no direction)."""
    if at_mean:
        from .errors import InvalidValuesError

        raise InvalidValuesError(
            f"{at_mean} inputs equal the mean of all inputs, so metric 'centred-cosine' gives them "
            "no direction; drop them or use metric='euclidean'."
        )


def _build(X: np.ndarray, params: MapperParams) -> MapperGraph:
    """``build_mapper`` on a checked float32 ``X`` whose float32 distances neither overflow nor underflow."""
    Z = _working_space(X, params.metric)
    lens, params = _lens(X, params, Z)
    L = lens.reshape(len(lens), -1)
    bounds = _cover(L, params)
    if params.clusterer == "hdbscan":
        params = replace(params, eps=None)
    elif params.eps is None and params.clusterer == "dbscan":
        params = params.with_eps(_auto_eps(Z, params.metric))

    order, sorted_lens, starts, ends = _element_ranges(L[:, 0], *bounds[0])
    lo, hi = bounds[0]
    degree = None
    if params.eps is not None:
        thin = _hub_min_degree(params) if len(bounds) == 1 else None  # grid cells are not position ranges
        r, c, degree = _radius_graph(X, Z, order, sorted_lens, lo, hi, starts, ends, params.eps, params.metric,
                                     _lipschitz(params), thin)
    else:
        r = c = np.zeros(0, np.int32)
    if degree is not None:
        first, _ = _element_span(sorted_lens, lo, hi)

    members: list[np.ndarray] = []
    node_interval: list[int] = []
    for k, (i0, inside) in enumerate(_cells(L, order, starts, ends, bounds)):
        s, e = int(starts[i0]), int(ends[i0])
        pos = np.flatnonzero(inside) + s  # lens-sorted positions of the cell's inputs
        if len(pos) == 0:
            continue
        j0, j1 = np.searchsorted(r, np.array([s, e], dtype=r.dtype))
        pairs = core = None
        if params.eps is not None:
            u, v = r[j0:j1], c[j0:j1]
            local = np.full(e - s + 1, -1, dtype=np.int64)  # slot e - s: "outside the cell"
            local[pos - s] = np.arange(len(pos))
            lu, lv = local[u - s], local[np.minimum(v, e) - s]
            keep = (lu >= 0) & (lv >= 0)
            pairs = (lu[keep], lv[keep])
        if degree is not None:
            core = degree[pos, i0 - first[pos]] + 1 >= params.min_samples
        clusters = element_clusters(X, order[pos], sorted_lens[pos], params, pairs, core=core)
        members.extend(clusters)
        node_interval.extend([k] * len(clusters))
    return assemble_graph(members, node_interval, bounds, lens, params)


def _is_dask_array(X) -> bool:
    import sys

    da = sys.modules.get("dask.array")
    return da is not None and isinstance(X, da.Array)


def _hub_min_degree(p: MapperParams) -> int:
    """Neighbours a hub of the radius graph needs (``_thin_block``): a core point's, or none for single linkage."""
    return p.min_samples - 1 if p.clusterer == "dbscan" else 0


def _lipschitz(p: MapperParams) -> bool:
    """Whether the lens is 1-Lipschitz in the metric (lens gaps bound distances, so they prune pairs)."""
    return p.metric == "euclidean" and isinstance(p.lens, str) and p.lens in ("l2norm", "pca", "pca2", "pca3")


def _element_ranges(lens: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """``order`` (stable lens order), the sorted lens, and each cover element's ``[start, end)`` in it."""
    order = np.argsort(lens, kind="stable")
    sorted_lens = lens[order]
    starts = np.searchsorted(sorted_lens, lo, side="left")
    ends = np.searchsorted(sorted_lens, hi, side="right")
    return order, sorted_lens, starts, ends


def element_clusters(X: np.ndarray, rows: np.ndarray, lens: np.ndarray, p: MapperParams, pairs=None, inputs=None,
                     core=None) -> list[np.ndarray]:
    """The clusters of one cover element: sorted int64 arrays of input indices, ordered by smallest member.

    ``X[rows]`` are the element's inputs in lens order (``lens`` their sorted lens values) and
    ``inputs`` their input indices (default ``rows``). ``pairs`` are its eps-graph edges
    ``u < v`` (local positions, sorted by u) when already known, with ``core`` the DBSCAN core
    mask when some edges were thinned away (``_thin_block``); otherwise they are computed from
    ``X[rows]``. HDBSCAN and the first-gap rule (``p.eps`` None) read ``X[rows]`` instead.
    Both the in-memory and the dask build cluster every element here.
    """
    inputs = rows if inputs is None else inputs
    if p.eps is None:
        labels = cluster_cover_element(inputs, None, None, _working_space(X[rows], p.metric), p)
        return _split_by_label(inputs, labels)
    if pairs is None:
        Xk = X[rows]
        m = len(rows)
        one = np.array([0]), np.array([m])  # one element: every position
        eps, metric = float(p.eps), p.metric
        u, v, degree = _radius_graph(Xk, _working_space(Xk, metric), np.arange(m), lens, lens[:1], lens[-1:], *one,
                                     eps, metric, _lipschitz(p), _hub_min_degree(p))
        pairs = u, v
        core = None if degree is None else degree[:, 0] + 1 >= p.min_samples
    u, v = pairs
    return _split_by_label(inputs, cluster_cover_element(inputs, u, v, None, p, core))


def assemble_graph(members, node_interval, bounds, lens, params: MapperParams) -> MapperGraph:
    """The MapperGraph of the clusters ``members`` (node k from cover element ``node_interval[k]``;
    ``bounds`` is ``_cover``'s list); warns when more than 10% of the inputs are in no node."""
    n = len(lens)
    covered = np.zeros(n, dtype=bool)
    if members:
        covered[np.concatenate(members)] = True
    edges, weight = nerve(members, n)
    graph = MapperGraph(
        members=members,
        edges=edges,
        edge_weight=weight,
        intervals=_cell_bounds(bounds),
        node_interval=np.asarray(node_interval, dtype=np.int64),
        lens=lens,
        n_inputs=n,
        uncovered=np.flatnonzero(~covered).astype(np.int64),
        params=params,
    )
    advice = graph.coverage_warning()
    if advice:
        import warnings

        warnings.warn(advice, UncoveredInputsWarning, stacklevel=4)
    return graph


def check_params(p: MapperParams) -> None:
    """Raise ``ParameterError`` saying what to change when ``p`` is not a valid set of parameters."""
    from .errors import ParameterError

    if isinstance(p.lens, str):
        if p.lens not in LENSES:
            raise ParameterError(f"unknown lens {p.lens!r}; use one of {', '.join(LENSES)} or an (N,) or (N, 2) array.")
    if p.cover not in COVERS:
        raise ParameterError(f"unknown cover {p.cover!r}; use one of {', '.join(COVERS)}.")
    if p.clusterer not in CLUSTERERS:
        raise ParameterError(f"unknown clusterer {p.clusterer!r}; use one of {', '.join(CLUSTERERS)}.")
    if p.metric not in METRICS:
        raise ParameterError(f"unknown metric {p.metric!r}; use one of {', '.join(METRICS)}.")
    counts = p.n_intervals if isinstance(p.n_intervals, (tuple, list)) else [p.n_intervals]
    if p.n_intervals is not None and (not 1 <= len(counts) <= 3 or any(
        isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1 for c in counts
    )):
        raise ParameterError(
            f"n_intervals must be an integer >= 1 (or one per dimension of a 2-D or 3-D lens) or None "
            f"(automatic), got {p.n_intervals!r}."
        )
    if not isinstance(p.overlap, (int, float, np.floating, np.integer)) or not 0.0 <= float(p.overlap) < 1.0:
        raise ParameterError(f"overlap must be a fraction in [0, 1), got {p.overlap!r}.")
    if p.min_samples is not None and (
        isinstance(p.min_samples, bool) or not isinstance(p.min_samples, (int, np.integer)) or p.min_samples < 1
    ):
        raise ParameterError(f"min_samples must be an integer >= 1 or None (automatic), got {p.min_samples!r}.")
    if p.eps is not None:
        if not isinstance(p.eps, (int, float, np.floating, np.integer)) or not np.isfinite(p.eps) or p.eps <= 0:
            raise ParameterError(f"eps must be a positive finite number or None (automatic), got {p.eps!r}.")


def _working_space(X: np.ndarray, metric: str) -> np.ndarray:
    """Rows in which squared euclidean distance decides neighbourhood: centred X, or unit rows for cosine."""
    if metric == "cosine":
        from .errors import InvalidValuesError

        norms = np.linalg.norm(X.astype(np.float64), axis=1)
        if (norms == 0).any():
            raise InvalidValuesError(
                f"{int((norms == 0).sum())} rows of X are all zero; cosine distance is undefined for them. "
                "Drop those inputs or use metric='euclidean'."
            )
        return (X / norms[:, None]).astype(np.float32)
    return X - X.mean(axis=0, dtype=np.float64).astype(np.float32)


def _eps_sq(eps: float, metric: str) -> float:
    """The threshold on squared working-space distance equivalent to ``eps`` in the metric."""
    return 2.0 * eps if metric == "cosine" else eps * eps


def _lens(X: np.ndarray, p: MapperParams, Z: np.ndarray) -> tuple[np.ndarray, MapperParams]:
    """The lens value of every input (float64, finite), shape (N,) or (N, d) for a d-D lens, and
    ``p`` with ``n_intervals=None`` resolved to its count ("auto" is resolved before, by ``resolve_auto``).

    ``Z`` is ``_working_space(X, p.metric)``. "pca", "pca2", "pca3": scores on the first one,
    two or three principal components; "l2norm": row norm of X;
    "density": distance to the min_samples-th nearest other input in the metric (exact, O(N²)
    in float32 blocks); "eccentricity": root-mean-square euclidean distance to all inputs.
    """
    from .errors import InputShapeError, InvalidValuesError, ParameterError

    if not isinstance(p.lens, str):
        lens = np.asarray(p.lens)
        if lens.ndim == 2 and lens.shape[1] == 1:
            lens = lens[:, 0]
        if lens.ndim not in (1, 2) or lens.shape[0] != X.shape[0] or (lens.ndim == 2 and lens.shape[1] > 3):
            raise InputShapeError(
                f"lens array has shape {lens.shape} but X has {X.shape[0]} inputs; pass one value per input, "
                f"shape ({X.shape[0]},), or up to three, shape ({X.shape[0]}, 2) or ({X.shape[0]}, 3)."
            )
        if not np.issubdtype(lens.dtype, np.number) or np.iscomplexobj(lens):
            raise InvalidValuesError(f"lens array has non-numeric values (dtype {lens.dtype}).")
        lens = lens.astype(np.float64)
        if not np.isfinite(lens).all():
            raise InvalidValuesError(
                f"lens array has {int((~np.isfinite(lens)).sum())} NaN or infinite values; every input needs a finite lens value."
            )
    elif p.lens in ("pca", "pca2", "pca3"):
        k = 1 if p.lens == "pca" else int(p.lens[-1])
        if X.shape[1] < k:
            raise ParameterError(f"lens={p.lens!r} needs {k} features but X has {X.shape[1]}; use lens='pca'.")
        scores, _ = _pca(X, k)
        lens = scores[:, 0] if k == 1 else scores
    elif p.lens == "l2norm":
        lens = _l2norm(X)
    elif p.lens == "density":
        k = max(p.min_samples, 1)
        lens = _knn_distance(Z, np.arange(X.shape[0]), k)
        if p.metric == "cosine":
            lens = lens**2 / 2.0
    else:
        lens = _eccentricity(X)
    L = lens.reshape(len(lens), -1)
    span = L.max(axis=0) - L.min(axis=0)
    if not (span > 1e-9 * max(1.0, np.abs(L).max())).all():
        raise ParameterError(
            "the lens is constant over the inputs (e.g. l2norm of unit-normalised embeddings), so it cannot "
            "separate them; choose lens='pca', 'density', 'eccentricity' or pass an (N,) array."
        )
    if isinstance(p.n_intervals, (tuple, list)) and len(p.n_intervals) != L.shape[1]:
        raise ParameterError(
            f"n_intervals {tuple(p.n_intervals)} gives {len(p.n_intervals)} counts but the lens has "
            f"{L.shape[1]} dimension(s); give one count per lens dimension (or one integer for all)."
        )
    if p.n_intervals is None:
        p = replace(p, n_intervals=default_intervals(L.shape[0], L.shape[1]))
    return lens, p


def _l2norm(X: np.ndarray) -> np.ndarray:
    """Euclidean norm of every row (float64 sums)."""
    return np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))


def _pca(X: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores on the first principal components, shape (N, k) with k = min(n_components, D) (unit
    loadings, each signed so its largest entry is positive), and the fraction of the total
    variance each component holds."""
    Xc = X.astype(np.float64) - X.mean(axis=0, dtype=np.float64)
    k = min(n_components, X.shape[1])
    if X.shape[1] <= 2048:
        values, vecs = np.linalg.eigh(Xc.T @ Xc)
        V, variance = vecs[:, ::-1][:, :k], values[::-1][:k]
    else:
        from sklearn.utils.extmath import randomized_svd

        _, sv, vt = randomized_svd(Xc, k, random_state=0)
        V, variance = vt.T, sv**2
    V = V * np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(V.shape[1])])
    total = float(np.einsum("ij,ij->", Xc, Xc))
    return Xc @ V, np.clip(variance, 0.0, None) / total if total > 0 else np.zeros(k)


def _eccentricity(X: np.ndarray) -> np.ndarray:
    """Root-mean-square euclidean distance to all inputs: sqrt(||x - m||^2 + mean_j ||x_j - m||^2), m the mean.

    This is the p=2 eccentricity, computed exactly without an N×N matrix.
    """
    Xc = X.astype(np.float64) - X.mean(axis=0, dtype=np.float64)
    sq = np.einsum("ij,ij->i", Xc, Xc)
    return np.sqrt(sq + sq.mean())


def _knn_distance(Z: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Euclidean distance from each query row of ``Z`` to its k-th nearest other row."""
    from .neighbours import nearest

    k = min(k, Z.shape[0] - 1)
    if k < 1:
        return np.zeros(len(queries))
    d2, _ = nearest(Z, k, queries)
    return np.sqrt(d2[:, -1].astype(np.float64))


def _auto_eps(Z: np.ndarray, metric: str, quantile: float = _EPS_QUANTILE, factor: float = _EPS_FACTOR) -> float:
    """DBSCAN radius: ``factor`` × the ``quantile`` of the distance from an input to its k-th nearest
    other input, k = ceil(2 ln N).

    A random sample of N points on a curve or sheet is connected at radius r once the r-balls
    hold about ln N points each (for a curve, the widest gap between neighbours grows as ln N
    times the mean spacing), so k grows as ln N rather than being fixed; 1.5 × the 0.9 quantile
    keeps nine inputs in ten well inside a connected neighbourhood at every noise level and
    density while staying a local scale, far below the distances between separate structures.
    At most 1,000 inputs (fixed seed) are queried against all inputs: O(1000 · N · D); above
    250,000 inputs 1,000 · sqrt(250,000 / N) of them (500 at 1M), so that choosing eps costs a
    shrinking share of the build (the 0.9 quantile of 500 draws is within ±0.03 of its rank). Inputs
    repeated many times would make the quantile 0; it is then taken over the positive distances.
    """
    from .errors import EmptyInputError

    n = Z.shape[0]
    queries = np.arange(n)
    n_queries = _EPS_QUERIES if n <= _EPS_FULL else int(np.ceil(_EPS_QUERIES * np.sqrt(_EPS_FULL / n)))
    if n > n_queries:
        queries = np.sort(np.random.default_rng(0).choice(n, n_queries, replace=False))
    d = _knn_distance(Z, queries, int(np.ceil(2 * np.log(max(n, 2)))))
    if not np.quantile(d, quantile) > 0:
        d = d[d > 0]
    if len(d) == 0:
        raise EmptyInputError(
            "cannot choose eps automatically: all inputs are identical (or there is only one); pass eps explicitly."
        )
    eps_w = factor * float(np.quantile(d, quantile))
    return eps_w**2 / 2.0 if metric == "cosine" else eps_w


def _cover(L: np.ndarray, p: MapperParams) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per lens dimension, the closed intervals (lo, hi) of the cover in lens units.

    "uniform" places them as KeplerMapper's ``Cover(n_cubes, perc_overlap)``: centres evenly
    from min + range/(2n) to max - range/(2n), half-width range / (2n(1 - overlap)).
    "balanced" tiles the ranks 0..N-1 exactly with n equal-length intervals, each sharing the
    fraction ``overlap`` with its neighbour (so all hold the same number of inputs, give or
    take ties), and maps the rank bounds back to lens values. A 2-D or 3-D lens is covered by the
    grid of its dimensions' intervals.
    """
    counts = p.n_intervals if isinstance(p.n_intervals, (tuple, list)) else [p.n_intervals] * L.shape[1]
    return [_intervals(L[:, d], int(counts[d]), float(p.overlap), p.cover) for d in range(L.shape[1])]


def _intervals(lens: np.ndarray, n: int, overlap: float, cover: str) -> tuple[np.ndarray, np.ndarray]:
    if cover == "uniform":
        return _kepler_intervals(float(lens.min()), float(lens.max()), n, overlap)
    s = np.sort(lens)
    length = (len(s) - 1) / (n - (n - 1) * overlap)
    rlo = np.arange(n) * length * (1 - overlap)
    rhi = rlo + length
    lo = s[np.clip(np.ceil(rlo - 1e-9).astype(np.int64), 0, len(s) - 1)]
    hi = s[np.clip(np.floor(rhi + 1e-9).astype(np.int64), 0, len(s) - 1)]
    return lo, hi


def _kepler_intervals(vmin: float, vmax: float, n: int, overlap: float) -> tuple[np.ndarray, np.ndarray]:
    span = vmax - vmin
    inset = (span - (n - 1) / n * span) / 2
    radius = span / (2 * n * (1 - overlap))
    centres = np.linspace(vmin + inset, vmax - inset, num=n)
    return centres - radius, centres + radius


def _cells(L: np.ndarray, order: np.ndarray, starts: np.ndarray, ends: np.ndarray, bounds: list):
    """Yield each cover element as (its first-dimension interval, a mask over lens-sorted positions
    starts[i]..ends[i]-1 of the inputs it holds), grid cells in KeplerMapper's order (first
    dimension outermost, last innermost)."""
    from itertools import product

    for i in range(len(starts)):
        s, e = int(starts[i]), int(ends[i])
        if len(bounds) == 1:
            yield i, np.ones(max(e - s, 0), dtype=bool)
            continue
        rest = L[order[s:e]]
        masks = [[(rest[:, d] >= lo) & (rest[:, d] <= hi) for lo, hi in zip(*bounds[d])] for d in range(1, len(bounds))]
        for combo in product(*masks):
            yield i, np.logical_and.reduce(combo)


def _cell_bounds(bounds: list) -> np.ndarray:
    """``intervals`` of the graph: (n, 2) [lo, hi] for a 1-D cover; (cells, d, 2) [dimension, lo/hi]
    for the grid of a d-D lens, cells in ``_cells``' order."""
    if len(bounds) == 1:
        return np.stack(bounds[0], axis=1)
    grid = np.meshgrid(*(np.arange(len(lo)) for lo, _ in bounds), indexing="ij")
    return np.stack([np.stack([lo[g.ravel()], hi[g.ravel()]], axis=1) for (lo, hi), g in zip(bounds, grid)], axis=1)


def _radius_graph(X, Z, order, sorted_lens, lo, hi, starts, ends, eps, metric, lipschitz, hub_degree=None):
    """Pairs ``r < c`` of lens-sorted positions within ``eps`` that share a cover element, sorted
    by r, and with ``hub_degree`` set the eps-degrees of every position in its cover elements
    (None on the k-d tree path).

    In at most ``_KDTREE_MAX_DIM`` euclidean dimensions a k-d tree finds all pairs within
    eps (float64). Otherwise rows are taken in blocks of lens-sorted inputs; each block is
    compared only with the later inputs its cover elements reach (and, for a 1-Lipschitz lens,
    whose lens is within eps) whose distances to 8 pivot inputs can be within eps of the
    block's (triangle inequality; skipped while that prunes under 5%), so every pair is
    computed at most once. Pairs within float32 rounding of the threshold are re-checked in
    float64. ``degree[p, j]`` counts the neighbours of position p in cover element
    ``first[p] + j`` (``first``: the first element holding p); pairs that a hub makes redundant
    are then left out (``_thin_block``), so the caller must take DBSCAN's core points from
    ``degree``.
    """
    n = len(order)
    first, last = _element_span(sorted_lens, lo, hi)
    # a later position c shares a cover element with r iff c < lim[r] (cover elements are intervals)
    lim = np.where(first <= last, ends[np.clip(last, 0, len(lo) - 1)], 0)
    if metric == "euclidean" and X.shape[1] <= _KDTREE_MAX_DIM:
        return (*_kdtree_pairs(X[order], eps, lim), None)
    if lipschitz:
        slack = eps * (1 + 1e-6) + 1e-9 * np.abs(sorted_lens).max()
        lim = np.minimum(lim, np.searchsorted(sorted_lens, sorted_lens + slack, side="right"))
    spans = (first, last, starts, ends)
    degree = None if hub_degree is None else np.zeros((n, max(int((last - first).max(initial=0)) + 1, 1)), np.int32)
    rows, cols = [], []
    for a, idx, hit in _block_hits(X, Z, order, lim, eps, metric):
        if degree is not None:
            pairs = _count_degrees(a, idx, hit, spans, degree)
            _thin_block(a, idx, hit, pairs, spans, degree, hub_degree)
        r, c = np.divmod(np.flatnonzero(hit), hit.shape[1])
        rows.append(r.astype(np.int32) + a)
        cols.append(idx[c].astype(np.int32))
    empty = [np.zeros(0, np.int32)]
    return np.concatenate(rows + empty), np.concatenate(cols + empty), degree


def _element_span(sorted_lens: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last cover interval ``[lo, hi]`` holding each sorted lens value (the
    intervals are sorted, so those holding a value are the ones between)."""
    return np.searchsorted(hi, sorted_lens, side="left"), np.searchsorted(lo, sorted_lens, side="right") - 1


def _kdtree_pairs(Xo: np.ndarray, eps: float, lim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``r < c < lim[r]`` of rows of ``Xo`` within euclidean ``eps`` (float64), sorted by r."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(Xo.astype(np.float64)).query_pairs(eps, output_type="ndarray")  # rows i < j
    r, c = pairs[:, 0], pairs[:, 1]
    keep = c < lim[r]
    A = sp.csr_matrix((np.ones(int(keep.sum()), np.int8), (r[keep], c[keep])), shape=(len(Xo), len(Xo)))
    r = np.repeat(np.arange(len(Xo), dtype=np.int32), np.diff(A.indptr))
    return r, A.indices.astype(np.int32)


def _block_hits(X, Z, order, lim, eps, metric):
    """Yield ``(a, idx, hit)`` per block of ``_GRAPH_BLOCK`` lens-sorted positions from ``a``:
    ``hit`` (numpy bool, rows a.., columns at positions ``idx``, the block's own first) marks
    the pairs ``a + r < idx[c] < lim[a + r]`` within eps, exactly."""
    import torch

    n = len(order)
    thr = _eps_sq(eps, metric)
    Zo = Z[order]
    sq = np.einsum("ij,ij->i", Zo, Zo, dtype=np.float64)
    p_lo, p_hi = _pivot_distances(Zo, sq)
    # Z is X rounded to float32 (u = 2^-24): distances in Z and in X differ by < 4 u max|z|
    zround = 4 * 2.0**-24 * float(np.sqrt(sq.max()))
    radius = np.sqrt(thr) * (1 + 1e-4) + zround
    # float32 d2 = |a|^2 + |b|^2 - 2 a.b errs by at most about 2 D u (|a|^2 + |b|^2): pairs with
    # d2 - rel S <= thr + tol0 are candidates, those with d2 + rel S < thr - tol0 are certain
    rel = 2.2 * Z.shape[1] * 2.0**-24
    tol0 = 1e-6 * thr + 2 * zround * np.sqrt(thr)
    upper = ~np.tri(_GRAPH_BLOCK, dtype=bool)
    Zs = torch.from_numpy(Zo)
    pruning = True  # whether the pivots pruned columns lately (tried again every _PIVOT_RETRY blocks)
    for i, a in enumerate(range(0, n, _GRAPH_BLOCK)):
        b = min(a + _GRAPH_BLOCK, n)
        nb = b - a
        c_end = int(lim[a:b].max())
        if c_end <= a + 1:
            continue
        if pruning or i % _PIVOT_RETRY == 0:
            ok = (p_lo[a:c_end] <= p_hi[a:b].max(0) + radius) & (p_hi[a:c_end] >= p_lo[a:b].min(0) - radius)
            ok = ok.all(1)
            ok[:nb] = True
            pruning = ok.mean() < 0.95
        if pruning:
            idx = np.flatnonzero(ok) + a
            C = torch.index_select(Zs, 0, torch.from_numpy(idx)).sub_(Zs[a:b].mean(0))
        else:
            idx = np.arange(a, c_end)
            C = Zs[a:c_end] - Zs[a:b].mean(0)
        csq = torch.linalg.vector_norm(C, dim=1).square_()
        low = csq * (1 - rel)
        v = torch.addmm(low[:nb, None] + low[None, :], C[:nb], C.T, alpha=-2.0).numpy()  # d2 - rel S
        hit = v <= thr + tol0
        hit[:, :nb] &= upper[:nb, :nb]
        cut = np.searchsorted(idx, lim[a:b])
        short = np.flatnonzero(cut < len(idx))
        if len(short):
            hit[short] &= np.arange(len(idx)) < cut[short, None]
        csq = csq.numpy().astype(np.float64)
        band = thr - tol0 - 2 * rel * (csq[:nb, None] + csq.max())  # a row's band holds its pairs' bands
        r, c = np.divmod(np.flatnonzero(hit & (v >= band.astype(np.float32))), len(idx))
        near = v[r, c] + 2 * rel * (csq[r] + csq[c]) >= thr - tol0
        r, c = r[near], c[near]
        if len(r):
            # sums of squared float32 differences err by at most (D + 3) u of the sum: a far tighter
            # band than the product form's; only pairs still inside it are computed in float64
            diff = torch.index_select(Zs, 0, torch.from_numpy(a + r)) - torch.index_select(Zs, 0, torch.from_numpy(idx[c]))
            d2 = torch.linalg.vector_norm(diff, dim=1).square_().numpy().astype(np.float64)
            e = 1.1 * (Z.shape[1] + 3) * 2.0**-24
            within = d2 * (1 + e) < (np.sqrt(thr) - zround) ** 2
            unsure = np.flatnonzero(~within & (d2 * (1 - e) <= (np.sqrt(thr) + zround) ** 2))
            within[unsure] = _exact_within(X, order[r[unsure] + a], order[idx[c[unsure]]], eps, metric)
            hit[r[~within], c[~within]] = False
        yield a, idx, hit


def _count_degrees(a: int, idx: np.ndarray, hit: np.ndarray, spans, degree: np.ndarray) -> np.ndarray:
    """Add the pairs of one block (``_block_hits``) to ``degree[p, j]``, the eps-neighbours of
    position p in cover element ``first[p] + j`` (``spans``: first, last, starts, ends); return
    each row's number of pairs in the block."""
    first, last, starts, ends = spans
    nb, nc = hit.shape
    rows = np.arange(a, a + nb)
    k0, k1 = int(first[a]), int(last[-1 + a + nb])  # the cover elements holding a row of the block
    ks = np.arange(k0, k1 + 1)
    # a row's pairs all lie after it, so in element k those before its end: counts by column
    # segment, summed up to each end; a column's pairs lie before it, so in element k those
    # from its start (a start inside the block sums fewer rows)
    row_cut = np.searchsorted(idx, ends[ks])
    edges = np.concatenate(([0], row_cut[row_cut < nc]))  # ascending (cover elements end in order)
    edges = edges[np.concatenate(([True], edges[1:] > edges[:-1]))]
    in_segment = np.add.reduceat(hit.view(np.uint8), edges, axis=1, dtype=np.int32)
    in_row = np.cumsum(in_segment, axis=1)[:, np.searchsorted(edges, row_cut, side="left") - 1]
    pairs = in_segment.sum(1)
    in_col = np.empty((len(ks), nc), np.int32)
    all_rows = hit.sum(0, dtype=np.int32)
    for i, s in enumerate(starts[ks] - a):
        in_col[i] = all_rows if s <= 0 else hit[s:].sum(0, dtype=np.int32)
    for j in range(degree.shape[1]):
        k = first[rows] + j
        ok = np.flatnonzero(k <= last[rows])
        degree[rows[ok], j] += in_row[ok, k[ok] - k0]
        k = first[idx] + j
        ok = np.flatnonzero((k <= last[idx]) & (k <= k1))
        degree[idx[ok], j] += in_col[k[ok] - k0, ok]
    return pairs


def _thin_block(a: int, idx: np.ndarray, hit: np.ndarray, pairs: np.ndarray, spans, degree: np.ndarray,
                hub_degree: int) -> None:
    """Clear the pairs of one block that a hub makes redundant for DBSCAN (and single linkage).

    A hub is a row of the block with at least ``hub_degree`` neighbours in every cover element
    holding it (a core point wherever it is), chosen greedily by its number of ``pairs`` in the
    block, no two hubs neighbours. A pair r–c is dropped when a hub h is a neighbour of both
    and lies in every element holding r and c: there r and c are joined through the core point
    h, and a border point keeps a core neighbour in the same cluster, so neither core components
    nor the border rule change (degrees were counted before). Pairs of a hub are never dropped.
    """
    first, last, _, _ = spans
    nb = hit.shape[0]
    rows = np.arange(a, a + nb)
    span = (last[rows] - first[rows] + 1)[:, None]
    core = ((degree[rows] >= hub_degree) | (np.arange(degree.shape[1]) >= span)).all(1)
    square = hit[:, :nb] | hit[:, :nb].T
    score = np.where(core, pairs, 0)
    hubs = []
    while len(hubs) < _HUBS:
        h = int(score.argmax())
        if score[h] <= 0:
            break
        hubs.append(h)
        score[square[h]] = 0
        score[h] = 0
    if not hubs:
        return
    H = np.array(hubs)
    reach = square[:, H] & (last[rows][:, None] <= last[a + H][None, :])
    onward = hit[H]
    onward[:, :nb] = square[H]
    onward &= first[idx][None, :] >= first[a + H][:, None]
    for j in range(len(hubs)):
        near = np.flatnonzero(reach[:, j])
        hit[near] &= ~onward[j]


def _pivot_distances(Z: np.ndarray, sq: np.ndarray, n_pivots: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds (float64) of the distances of every row to ``n_pivots`` rows (``sq``: squared norms).

    Pivots are picked by farthest-point sampling from row 0; products are float32, and the
    bounds widen the result by the worst-case float32 rounding of a D-term dot product.
    """
    import torch

    Zt = torch.from_numpy(Z)
    gamma = 1.1 * Z.shape[1] * 2.0**-24
    k = min(n_pivots, len(Z))
    p_lo, p_hi = np.empty((len(Z), k)), np.empty((len(Z), k))
    nearest = np.full(len(Z), np.inf)
    pivot = 0
    for t in range(k):
        s = sq + sq[pivot]
        d2 = s - 2.0 * (Zt @ Zt[pivot]).numpy()
        err = gamma * s
        p_lo[:, t] = np.sqrt(np.maximum(d2 - err, 0.0))
        p_hi[:, t] = np.sqrt(np.maximum(d2 + err, 0.0))
        nearest = np.minimum(nearest, p_hi[:, t])
        pivot = int(np.argmax(nearest))
    return p_lo, p_hi


def _exact_within(X: np.ndarray, i: np.ndarray, j: np.ndarray, eps: float, metric: str) -> np.ndarray:
    """Float64 test ``dist(X[i], X[j]) <= eps`` for a modest number of borderline pairs."""
    return _pair_dissimilarity(X, i, j, metric) <= (eps if metric == "cosine" else eps * eps)


def _pair_dissimilarity(X: np.ndarray, i: np.ndarray, j: np.ndarray, metric: str) -> np.ndarray:
    """Float64 cosine distance, or squared euclidean distance, of each pair ``X[i[p]]``, ``X[j[p]]``
    (increasing in the metric's distance)."""
    xi, xj = X[i], X[j]
    if metric == "cosine":
        xi, xj = xi.astype(np.float64), xj.astype(np.float64)
        return 1.0 - np.einsum("ij,ij->i", xi, xj) / np.sqrt(
            np.einsum("ij,ij->i", xi, xi) * np.einsum("ij,ij->i", xj, xj)
        )
    d = np.subtract(xi, xj, dtype=np.float64)
    return np.einsum("ij,ij->i", d, d)


def cluster_cover_element(idx: np.ndarray, u, v, rows, p: MapperParams, core=None) -> np.ndarray:
    """Cluster labels (-1: noise) of one cover element's inputs.

    ``idx``: the element's inputs (global indices); ``u < v``: local positions of its eps-graph
    edges sorted by u (None when ``p.eps`` is None); ``rows``: the element's working-space rows
    (None when ``p.eps`` is given: only HDBSCAN and the first-gap rule read coordinates);
    ``core``: DBSCAN's core mask when the edges were thinned (else counted from them).
    "dbscan": core points have >= min_samples neighbours counting themselves; clusters are
    components of core points; a border point joins the adjacent cluster whose smallest core
    index is smallest (scikit-learn's expansion order). "single" with eps: components of the
    eps-graph with >= min_samples inputs; without eps: the single-linkage dendrogram cut at the
    first gap of the histogram of its merge heights (Singh, Mémoli, Carlsson 2007). "hdbscan":
    scikit-learn's HDBSCAN(min_cluster_size=min_samples, allow_single_cluster=True).
    """
    from scipy.sparse.csgraph import connected_components

    m = len(idx)
    if p.clusterer == "hdbscan":
        return _hdbscan_labels(rows, p.min_samples)
    if p.clusterer == "single" and p.eps is None:
        return _first_gap_labels(rows, p.min_samples)
    A = _upper_csr(u, v, m)
    if p.clusterer == "dbscan":
        if core is None:
            core = np.diff(A.indptr) + np.bincount(v, minlength=m) + 1 >= p.min_samples
        if not core.all():
            return _dbscan_with_border(u, v, idx, core)
    # every point core (or single linkage): the clusters are the components of the whole graph
    _, comp = connected_components(A, directed=False)
    if p.clusterer == "single":
        comp[np.bincount(comp)[comp] < p.min_samples] = -1
    return comp


def _hdbscan_labels(rows: np.ndarray, min_size: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    if len(rows) < max(min_size, 2):
        return np.full(len(rows), -1, dtype=np.int64)
    model = HDBSCAN(min_cluster_size=max(min_size, 2), min_samples=min(min_size, len(rows) - 1),
                    allow_single_cluster=True, copy=True)
    return model.fit_predict(rows.astype(np.float64)).astype(np.int64)


def _first_gap_labels(rows: np.ndarray, min_size: int) -> np.ndarray:
    """Single linkage cut below the first empty bin of a 10-bin histogram of the merge heights
    (one cluster when no bin is empty); clusters under ``min_size`` inputs are noise."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(rows) < 2:
        return np.where(np.full(len(rows), min_size <= 1), 0, -1).astype(np.int64)
    heights_tree = linkage(rows.astype(np.float64), "single")
    heights = heights_tree[:, 2]
    counts, edges = np.histogram(heights, bins=_GAP_BINS, range=(0.0, float(heights.max()) or 1.0))
    empty = np.flatnonzero(counts == 0)
    cut = edges[empty[0]] if len(empty) else np.inf
    labels = fcluster(heights_tree, t=cut, criterion="distance") if np.isfinite(cut) else np.ones(len(rows), int)
    labels = labels.astype(np.int64)
    labels[np.bincount(labels)[labels] < min_size] = -1
    return labels


def _dbscan_with_border(u: np.ndarray, v: np.ndarray, idx: np.ndarray, core: np.ndarray) -> np.ndarray:
    """DBSCAN labels from the eps-graph edges ``u < v`` and the core mask (see ``cluster_cover_element``)."""
    from scipy.sparse.csgraph import connected_components

    m = len(idx)
    labels = np.full(m, -1, dtype=np.int64)
    core_pos = np.flatnonzero(core)
    if len(core_pos) == 0:
        return labels
    cu, cv = core[u], core[v]
    both = cu & cv
    ncomp, comp = connected_components(_upper_csr(u[both], v[both], m), directed=False)
    first_core = np.full(ncomp, np.iinfo(np.int64).max)
    np.minimum.at(first_core, comp[core_pos], idx[core_pos])
    rank = np.empty(ncomp, dtype=np.int64)  # components of core points first (non-core ones are singletons)
    rank[np.argsort(first_core)] = np.arange(ncomp)
    labels[core_pos] = rank[comp[core_pos]]
    mixed = cu != cv
    border = np.where(cu[mixed], v[mixed], u[mixed])
    nb = rank[comp[np.where(cu[mixed], u[mixed], v[mixed])]]
    best = np.full(m, m, dtype=np.int64)
    np.minimum.at(best, border, nb)
    labels[~core] = np.where(best[~core] < m, best[~core], -1)
    return labels


def _upper_csr(u: np.ndarray, v: np.ndarray, m: int) -> sp.csr_matrix:
    """m×m csr matrix of edges u -> v given sorted by u, built without sorting."""
    indptr = np.searchsorted(u, np.arange(m + 1, dtype=u.dtype))
    return sp.csr_matrix((np.ones(len(u)), v, indptr), shape=(m, m))  # float64: what csgraph works in


def _split_by_label(idx: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """Sorted int64 member arrays of each label >= 0, ordered by smallest member."""
    keep = labels >= 0
    idx, labels = idx[keep].astype(np.int64), labels[keep]
    if len(idx) == 0:
        return []
    o = np.lexsort((idx, labels))
    idx, labels = idx[o], labels[o]
    cuts = np.flatnonzero(np.diff(labels)) + 1
    groups = np.split(idx, cuts)
    groups.sort(key=lambda g: int(g[0]))
    return groups


def graph_faithfulness(X, G: MapperGraph, n_pairs: int = 20000, seed: int = 0) -> float:
    """How well the graph's hop distance between two inputs agrees with their distance in ``X``.

    Spearman correlation, over the input pairs of ``input_pairs(N, n_pairs, seed)``, between ``G.input_hops`` (hops between the closest nodes holding the two inputs) and the
    distance in ``G.params.metric``. Inputs in different components are at infinite hops,
    which ranks above every finite hop count (tied among themselves). Pairs with an uncovered
    input have no hop distance; they count as uncorrelated, i.e. the correlation over the
    other pairs is multiplied by the fraction of pairs whose inputs are both covered, so that
    leaving inputs out never raises the number. In [-1, 1]; 0 when the hops do not vary.
    """
    from scipy.stats import spearmanr

    from .checks import as_matrix

    X = as_matrix(X, "X")
    if X.shape[0] != G.n_inputs:
        from .errors import InputShapeError

        raise InputShapeError(f"X has {X.shape[0]} rows but the graph was built on {G.n_inputs} inputs.")
    n = G.n_inputs
    if n < 2:
        return 0.0
    i, j = input_pairs(n, n_pairs, seed)
    covered = np.ones(n, dtype=bool)
    covered[G.uncovered] = False
    both = covered[i] & covered[j]
    i, j = i[both], j[both]
    hops = G.input_hops(i, j)
    if len(i) < 3 or np.ptp(np.where(np.isinf(hops), -1.0, hops)) == 0:
        return 0.0
    metric = G.params.metric
    if metric == "centred-cosine":
        X, metric = centred_rows(X), "cosine"
    rho = spearmanr(hops, _pair_dissimilarity(X, i, j, metric)).statistic  # ranks: squares will do
    return float(rho) * both.mean() if np.isfinite(rho) else 0.0


def input_pairs(n: int, n_pairs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i != j, of ``n`` inputs: every unordered pair when there are at most
    ``n_pairs`` of them, else ``n_pairs`` drawn uniformly (fixed seed)."""
    if n * (n - 1) // 2 <= n_pairs:
        i, j = np.triu_indices(n, k=1)
        return i.astype(np.int64), j.astype(np.int64)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, n_pairs)
    j = rng.integers(0, n - 1, n_pairs)
    return i, j + (j >= i)  # j uniform over the n - 1 inputs other than i
