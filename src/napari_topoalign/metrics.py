"""Alignment scores: topological (graph hop-distance agreement) and geometric (CKA, Procrustes, mutual kNN)."""

from __future__ import annotations

import numpy as np

from .checks import as_matrix, check_same_inputs, overflow_safe_scale
from .errors import InputShapeError, InvalidValuesError, ParameterError
from .mapper import input_pairs
from .neighbours import nearest

#: input pairs compared by ``topology_score`` (all pairs when there are fewer)
TOPOLOGY_PAIRS = 20000


def linear_cka(X, Y) -> float:
    """Linear CKA (Kornblith et al. 2019) of two representations of the same inputs, in [0, 1].

    ``||Yc^T Xc||_F² / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` on column-centred data (feature-space form,
    so 10k × 1024 is quick). 1 for representations equal up to rotation and isotropic scaling.
    """
    X, Y = _centred_pair(X, Y, "CKA")
    cross = np.linalg.norm(Y.T @ X) ** 2
    return float(cross / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))


def procrustes_similarity(X, Y) -> float:
    """Orthogonal Procrustes similarity of two representations of the same inputs, in [0, 1].

    ``||Yc^T Xc||_* / (||Xc||_F ||Yc||_F)`` (nuclear norm) on column-centred data: 1 minus half the
    squared Procrustes distance between the two, each scaled to unit Frobenius norm, after the best
    rotation (Ding et al. 2021; Williams et al. 2021). 1 for representations equal up to rotation,
    isotropic scaling and translation; unlike CKA it weighs every direction by its variance, so a
    few dominant directions that agree do not hide disagreement in the rest.
    """
    X, Y = _centred_pair(X, Y, "Procrustes similarity")
    nuclear = np.linalg.svd(Y.T @ X, compute_uv=False).sum()
    return float(min(nuclear / (np.linalg.norm(X) * np.linalg.norm(Y)), 1.0))


def _centred_pair(X, Y, what: str) -> tuple[np.ndarray, np.ndarray]:
    X = as_matrix(X, "X", np.float64)
    Y = as_matrix(Y, "Y", np.float64)
    check_same_inputs(X, Y, names=("X", "Y"))
    out = []
    for name, Z in (("X", X), ("Y", Y)):
        Z = Z - Z.mean(axis=0)
        if not np.any(Z):
            raise InvalidValuesError(f"{name} is constant across inputs; {what} needs some variation.")
        out.append(Z)
    return out[0], out[1]


def mutual_knn(X, Y, k: int = 10) -> float:
    """Mutual k-nearest-neighbour alignment (Huh et al. 2024), in [0, 1].

    Mean over inputs of |kNN_X(i) ∩ kNN_Y(i)| / k, Euclidean neighbours, each input excluded from
    its own list. 1: every input has the same k neighbours in both representations. Neighbours
    are ranked by float64 distance, distances equal to 12 significant digits by input index, so a
    rotated, rescaled or translated copy gives exactly 1.0.
    """
    X = as_matrix(X, "X", np.float64)
    Y = as_matrix(Y, "Y", np.float64)
    check_same_inputs(X, Y, names=("X", "Y"))
    X, Y = X * overflow_safe_scale(X), Y * overflow_safe_scale(Y)  # exact (a power of two); neighbours are scale-free
    n = X.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n - 1:
        raise ParameterError(f"k={k!r}; pass an integer from 1 to N - 1 = {n - 1}.")
    nx_, ny_ = _exact_knn(X, k), _exact_knn(Y, k)
    shared = (nx_[:, :, None] == ny_[:, None, :]).any(axis=2).sum(axis=1)
    return float(shared.mean() / k)


#: Float64 differences ``_exact_knn`` holds at once (2 MB): cache-sized blocks ran 2.7x faster
#: than 128 MB ones, whose fresh pages the kernel also had to zero on each call in a busy process.
_DIFF_ELEMENTS = 2**18


def _exact_knn(X: np.ndarray, k: int) -> np.ndarray:
    """(N, k) indices of each row's k nearest other rows: float32 candidates (2k + 8 of them),
    re-ranked by float64 distance rounded to 12 significant digits, then by index."""
    m = min(2 * k + 8, len(X) - 1)
    cand = nearest(X, m)[1]
    d = np.empty(cand.shape)
    block = max(1, _DIFF_ELEMENTS // (m * X.shape[1]))
    for lo in range(0, len(X), block):
        diff = X[cand[lo : lo + block]] - X[lo : lo + block, None, :]
        d[lo : lo + block] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    scale = np.maximum(d.max(axis=1, keepdims=True), np.finfo(np.float64).tiny)
    order = np.lexsort((cand, np.round(d / scale, 12)), axis=1)
    return np.take_along_axis(cand, order, axis=1)[:, :k]


def hop_agreement(hops_a: np.ndarray, hops_b: np.ndarray) -> float:
    """Spearman correlation of two graphs' hop distances over the same input pairs, clipped to [0, 1].

    ``inf`` (different components, or an input in no node) ranks above every finite distance.
    Identical distances give 1.0; distances constant on one side only (nothing to rank) give 0.0.
    """
    from scipy.stats import rankdata

    if np.array_equal(hops_a, hops_b):
        return 1.0 if len(hops_a) else 0.0
    ra, rb = rankdata(hops_a), rankdata(hops_b)  # inf ranks last, tied
    ra -= ra.mean()
    rb -= rb.mean()
    denom = np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))
    return float(np.clip(np.dot(ra, rb) / denom, 0.0, 1.0)) if denom > 0 else 0.0


def topology_score(A, B, *, n_pairs: int = TOPOLOGY_PAIRS, seed: int = 0) -> float:
    """How alike two mapper graphs of the same inputs organise them, in [0, 1]: the Spearman
    correlation, over a fixed-seed sample of input pairs, of the graph distance between the
    nodes holding the two inputs in A and in B, clipped at 0. The graph distance is the
    shortest path with edges as long as -ln of their Jaccard weight (``node_distances``): finer
    than hop counts, which tie most pairs; ``inf`` across components or for an input in no
    node ranks above every finite distance.

    1: every pair is as near in A as in B, relative to the other pairs (identical graphs, or a
    rotated, rescaled or translated copy of a representation). About 0: unrelated organisation
    (e.g. one side's rows shuffled), whatever the two graphs' shapes. It depends only on which
    inputs each node holds and on the edges, so it is invariant to node order and to anything
    in the data the graphs do not see; a loop cut open, or two clusters joined by a bridge,
    lowers it through the pairs whose hop distance changes.
    """
    if A.n_inputs != B.n_inputs:
        raise InputShapeError(
            f"graph A was built on {A.n_inputs} inputs but graph B on {B.n_inputs}; both must be built on the same inputs."
        )
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, (int, np.integer)) or n_pairs < 1:
        raise ParameterError(f"n_pairs must be a positive integer, got {n_pairs!r}.")
    if A.n_inputs < 2:
        return 0.0
    i, j = input_pairs(A.n_inputs, int(n_pairs), seed)
    return hop_agreement(A.input_hops(i, j, A.node_distances()), B.input_hops(i, j, B.node_distances()))


def alignment_scores(X_a, X_b, A, B, C=None) -> dict[str, float]:
    """Named alignment scores shown to users, each in [0, 1] (1 = aligned).

    "topology" (see ``topology_score``) always; "cka", "procrustes" and "mutual_knn" (k = 10,
    fewer for tiny inputs) when both ``X_a`` and ``X_b`` are given. ``C`` (the correspondence) is
    accepted for the pipeline's call and checked for shape; no score needs it.
    """
    if C is not None and np.shape(C) != (A.n_nodes, B.n_nodes):
        raise InputShapeError(f"C must have shape {(A.n_nodes, B.n_nodes)}; got {np.shape(C)}.")
    scores = {"topology": topology_score(A, B)}
    if X_a is not None and X_b is not None:
        X_a, X_b = as_matrix(X_a, "X_a"), as_matrix(X_b, "X_b")
        check_same_inputs(X_a, X_b)
        scores["cka"] = linear_cka(X_a, X_b)
        scores["procrustes"] = procrustes_similarity(X_a, X_b)
        if len(X_a) > 1:
            scores["mutual_knn"] = mutual_knn(X_a, X_b, k=min(10, len(X_a) - 1))
    return scores
