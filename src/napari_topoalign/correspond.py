"""Correspondence between the nodes of two mapper graphs built on the same inputs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .checks import check_graph
from .errors import InputShapeError, InvalidValuesError, ParameterError

MEASURES = ("jaccard", "overlap")


def correspondence(A, B, measure: str = "jaccard") -> sp.csr_matrix:
    """Sparse (K_A, K_B) overlap of the member sets of the nodes of ``A`` and ``B``.

    ``measure="jaccard"``: |a ∩ b| / |a ∪ b|; ``"overlap"``: |a ∩ b| / min(|a|, |b|).
    Entries are in (0, 1]; node pairs sharing no input are not stored.
    Computed from the sparse membership matrices, so it scales to graphs of 10k+ nodes.
    """
    check_graph(A, "A")
    check_graph(B, "B")
    if not isinstance(measure, str) or measure not in MEASURES:
        raise ParameterError(f"measure={measure!r} is not known; use one of {', '.join(MEASURES)}.")
    if A.n_inputs != B.n_inputs:
        raise InputShapeError(
            f"graph A was built on {A.n_inputs} inputs but graph B on {B.n_inputs}; "
            "both graphs must be built on the same inputs in the same order."
        )
    return set_overlap(A.membership(), B.membership(), measure)


def set_overlap(MA: sp.csr_matrix, MB: sp.csr_matrix, measure: str = "jaccard") -> sp.csr_matrix:
    """Sparse overlap ("jaccard" or "overlap") between the rows of two 0/1 (sets × inputs) matrices."""
    inter = (MA @ MB.T).tocoo()
    size_a = np.asarray(MA.sum(axis=1), dtype=np.float64).ravel()
    size_b = np.asarray(MB.sum(axis=1), dtype=np.float64).ravel()
    i, j, n = inter.row, inter.col, inter.data.astype(np.float64)
    keep = n > 0
    i, j, n = i[keep], j[keep], n[keep]
    if measure == "jaccard":
        value = n / (size_a[i] + size_b[j] - n)
    else:
        value = n / np.minimum(size_a[i], size_b[j])
    return sp.csr_matrix((value, (i, j)), shape=(MA.shape[0], MB.shape[0]))


def as_correspondence(A, B, C=None) -> sp.csr_matrix:
    """``C`` checked against the graphs and returned as float64 csr; ``None`` computes ``correspondence(A, B)``."""
    if C is None:
        return correspondence(A, B)
    check_graph(A, "A")
    check_graph(B, "B")
    try:
        C = sp.csr_matrix(C, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValuesError(f"C must be a numeric (K_A, K_B) matrix: {exc}") from exc
    if C.shape != (A.n_nodes, B.n_nodes):
        raise InputShapeError(
            f"C has shape {C.shape} but the graphs have {A.n_nodes} and {B.n_nodes} nodes; "
            "pass correspondence(A, B) or None."
        )
    if not np.isfinite(C.data).all() or (C.data < 0).any():
        raise InvalidValuesError("C must hold finite, non-negative correspondence weights.")
    C.eliminate_zeros()
    return C
