"""k nearest neighbours by Euclidean distance, in float32 torch blocks (never an N×N matrix)."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import torch

_BLOCK_ELEMENTS = 2**25  # distances held at once (128 MB of float32)
_REUSED: ContextVar[dict | None] = ContextVar("reused_neighbours", default=None)


@contextmanager
def reuse_neighbours():
    """Within this block, ``nearest(Z, k)`` of all rows is computed once per content of ``Z`` and ``k``
    (e.g. a chain scoring each representation against two neighbours). The results are shared:
    read them, do not modify them."""
    token = _REUSED.set({})
    try:
        yield
    finally:
        _REUSED.reset(token)


def nearest(Z: np.ndarray, k: int, queries: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances and indices, each (len(queries), k), of every query row's ``k`` nearest
    other rows of ``Z``, nearest first. ``queries`` are row indices of ``Z`` (default: all rows)."""
    reused = _REUSED.get()
    if reused is None or queries is not None:
        return _nearest(Z, k, queries)
    Z = np.ascontiguousarray(Z, dtype=np.float32)
    key = (Z.shape, int(k), hashlib.blake2b(Z.view(np.uint8).ravel(), digest_size=16).digest())
    if key not in reused:
        reused[key] = _nearest(Z, k, None)
    return reused[key]


def _nearest(Z: np.ndarray, k: int, queries: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    Zt = torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float32))
    rows = np.arange(len(Z)) if queries is None else np.asarray(queries, dtype=np.int64)
    block = int(np.clip(_BLOCK_ELEMENTS // max(len(Z), 1), 64, 2048))
    sq = (Zt * Zt).sum(dim=1)
    dist = np.empty((len(rows), k), dtype=np.float32)
    index = np.empty((len(rows), k), dtype=np.int64)
    for lo in range(0, len(rows), block):
        q = torch.from_numpy(rows[lo : lo + block])
        d2 = sq[q, None] + sq[None, :] - 2.0 * (Zt[q] @ Zt.T)
        d2[torch.arange(len(q)), q] = float("inf")  # a row is not its own neighbour
        values, idx = torch.topk(d2, k, dim=1, largest=False)
        dist[lo : lo + len(q)] = values.clamp_min(0).numpy()
        index[lo : lo + len(q)] = idx.numpy()
    return dist, index
