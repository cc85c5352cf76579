"""Alignment scores: geometric (linear CKA, mutual kNN) and topological (edge preservation)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .checks import as_matrix, check_same_inputs, overflow_safe_scale
from .correspond import as_correspondence
from .errors import InvalidValuesError, ParameterError
from .neighbours import nearest


def linear_cka(X, Y) -> float:
    """Linear CKA (Kornblith et al. 2019) of two representations of the same inputs, in [0, 1].

    ``||Yc^T Xc||_F² / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` on column-centred data (feature-space form,
    so 10k × 1024 is quick). 1 for representations equal up to rotation and isotropic scaling.
    """
    X = _centred(as_matrix(X, "X", np.float64), "X")
    Y = _centred(as_matrix(Y, "Y", np.float64), "Y")
    check_same_inputs(X, Y, names=("X", "Y"))
    cross = np.linalg.norm(Y.T @ X) ** 2
    return float(cross / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))


def _centred(X: np.ndarray, name: str) -> np.ndarray:
    X = X - X.mean(axis=0)
    if not np.any(X):
        raise InvalidValuesError(f"{name} is constant across inputs; CKA needs some variation.")
    return X


def mutual_knn(X, Y, k: int = 10) -> float:
    """Mutual k-nearest-neighbour alignment (Huh et al. 2024), in [0, 1].

    Mean over inputs of |kNN_X(i) ∩ kNN_Y(i)| / k, Euclidean neighbours, each input excluded from
    its own list. 1: every input has the same k neighbours in both representations.
    """
    X = as_matrix(X, "X")
    Y = as_matrix(Y, "Y")
    check_same_inputs(X, Y, names=("X", "Y"))
    X, Y = X * np.float32(overflow_safe_scale(X)), Y * np.float32(overflow_safe_scale(Y))  # neighbours are scale-free
    n = X.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n - 1:
        raise ParameterError(f"k={k!r}; pass an integer from 1 to N - 1 = {n - 1}.")
    nx_, ny_ = nearest(X, k)[1], nearest(Y, k)[1]
    shared = (nx_[:, :, None] == ny_[:, None, :]).any(axis=2).sum(axis=1)
    return float(shared.mean() / k)


def edge_preservation(A, B, C=None) -> float:
    """Share of each graph's edge weight that the correspondence carries onto the other graph, in [0, 1].

    Each node is sent to its best-matching node of the other graph (largest entry of its row of
    ``C``; the first on ties; nodes without any match are sent nowhere). An edge (i, j) of A is
    preserved when i and j land on the same node of B or on two adjacent nodes. The result is the
    preserved fraction of A's edge weight averaged with the same from B to A (through C^T).
    1: every edge lands on an edge or a node of the other graph (e.g. identical graphs); 0: none
    does (or nothing corresponds). A graph without edges contributes nothing; 1.0 if neither has any.
    """
    C = as_correspondence(A, B, C)
    scores = [s for s in (_carried(A, B, C), _carried(B, A, C.T.tocsr())) if s is not None]
    return float(np.mean(scores)) if scores else 1.0


def _carried(A, B, C: sp.csr_matrix):
    if len(A.edges) == 0:
        return None
    has_match = np.diff(C.indptr) > 0
    best = np.asarray(C.argmax(axis=1)).ravel() if C.shape[1] else np.zeros(C.shape[0], np.int64)
    near = B.adjacency(self_loops=True)
    i, j = np.asarray(A.edges, dtype=np.int64).T
    ok = has_match[i] & has_match[j]
    kept = np.zeros(len(i), bool)
    kept[ok] = np.asarray(near[best[i[ok]], best[j[ok]]]).ravel()
    w = np.asarray(A.edge_weight, dtype=np.float64)
    return float(np.sum(w * kept) / np.sum(w)) if w.sum() > 0 else float(kept.mean())


def alignment_scores(X_a, X_b, A, B, C=None) -> dict[str, float]:
    """Named alignment scores shown to users, each in [0, 1] (1 = aligned).

    "edge_preservation" (see ``edge_preservation``) and "node_match" (mean over the nodes of both
    graphs of their best correspondence with a node of the other graph) always; "cka" and
    "mutual_knn" (k = 10, fewer for tiny inputs) when both ``X_a`` and ``X_b`` are given.
    """
    C = as_correspondence(A, B, C)
    best_a = C.max(axis=1).toarray().ravel() if C.shape[1] else np.zeros(C.shape[0])
    best_b = C.max(axis=0).toarray().ravel() if C.shape[0] else np.zeros(C.shape[1])
    best = np.concatenate([best_a, best_b])
    scores = {
        "edge_preservation": edge_preservation(A, B, C),
        "node_match": float(best.mean()) if len(best) else 0.0,
    }
    if X_a is not None and X_b is not None:
        X_a, X_b = as_matrix(X_a, "X_a"), as_matrix(X_b, "X_b")
        check_same_inputs(X_a, X_b)
        scores["cka"] = linear_cka(X_a, X_b)
        if len(X_a) > 1:
            scores["mutual_knn"] = mutual_knn(X_a, X_b, k=min(10, len(X_a) - 1))
    return scores
