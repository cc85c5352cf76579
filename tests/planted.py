"""Planted pairs of representations with known topological differences (tests and benchmarks/bench_validity.py).

Each pair describes the same inputs twice; linear CKA rates the two close, while the mapper
graphs differ in a known place. Every generator returns ``(X_a, X_b, changed)``: two float32
N×D arrays and the indices of the inputs whose neighbourhood structure differs.
"""

from __future__ import annotations

import numpy as np


def _embed(P: np.ndarray, dim: int, noise: float, rng) -> np.ndarray:
    """Points ``P`` (N×2) placed in ``dim`` dimensions by a fixed random rotation, plus isotropic noise."""
    Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    X = np.zeros((len(P), dim))
    X[:, : P.shape[1]] = P
    return ((X + rng.normal(scale=noise, size=X.shape)) @ Q).astype(np.float32)


def circle_pair(n: int = 1500, *, cut: bool, seed: int = 0, dim: int = 8, gap: float = 0.15):
    """A noisy circle (radius 10) against, if ``cut``, the same circle opened at angle 0: every
    input keeps its angle order, the arc shrinks by ``gap`` of the turn, so the inputs on both
    sides of angle 0 lie apart. Without ``cut``, B is A with fresh noise (the matching pair)."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    X_a = _embed(10 * np.stack([np.cos(t), np.sin(t)], 1), dim, 0.25, np.random.default_rng(seed + 1))
    s = t * (1 - gap) + np.pi * gap if cut else t
    X_b = _embed(10 * np.stack([np.cos(s), np.sin(s)], 1), dim, 0.25, np.random.default_rng(seed + 2))
    ends = np.minimum(t, 2 * np.pi - t) < 2 * np.pi * 0.1
    return X_a, X_b, np.flatnonzero(ends) if cut else np.zeros(0, np.int64)


def clusters_pair(n: int = 1500, *, bridged: bool, seed: int = 0, dim: int = 8, bridge: float = 0.1):
    """Two round clusters (radius 2, centres 12 apart) against, if ``bridged``, the same two
    joined by a bridge: the ``bridge`` share of inputs nearest the other cluster leave their
    cluster's rim for the segment between the clusters, in the same order. Without
    ``bridged``, B is A with fresh noise (the matching pair)."""
    rng = np.random.default_rng(seed)
    side = np.where(np.arange(n) < n // 2, -1.0, 1.0)
    r = 2 * np.sqrt(rng.uniform(0, 1, n))
    phi = rng.uniform(0, 2 * np.pi, n)
    P = np.stack([6 * side + r * np.cos(phi), r * np.sin(phi)], 1)
    X_a = _embed(P, dim, 0.1, np.random.default_rng(seed + 1))
    inner = -side * P[:, 0]  # larger = nearer the other cluster
    moved = np.zeros(0, np.int64)
    Pb = P.copy()
    if bridged:
        m = int(bridge * n) // 2
        moved = []
        for s in (-1.0, 1.0):
            idx = np.flatnonzero(side == s)
            idx = idx[np.argsort(-inner[idx])][:m]  # nearest the other cluster first
            x = s * np.linspace(0.05, 4.6, m)  # from the middle out to the cluster's rim, in order
            Pb[idx] = np.stack([x, rng.normal(scale=0.05, size=m)], 1)
            moved.append(idx)
        moved = np.sort(np.concatenate(moved))
    X_b = _embed(Pb, dim, 0.1, np.random.default_rng(seed + 2))
    return X_a, X_b, moved


def regions_pair(seed: int = 0, *, dim: int = 3):
    """Shared structure under different lenses plus a scrambled part: a circle (radius 4, 600
    inputs) and a segment (250) that B keeps, and a disc (350) whose rows B permutes among
    themselves. B is A stretched threefold along y and rotated, so each side's first principal
    axis (the default lens) differs. Returns ``(X_a, X_b, shared, scrambled)``."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, 600)
    circle = 4 * np.stack([np.cos(t), np.sin(t)], 1)
    segment = np.stack([np.full(250, 12.0), np.linspace(0, 8, 250)], 1)
    s, r = rng.uniform(0, 2 * np.pi, 350), 3 * np.sqrt(rng.uniform(0, 1, 350))
    disc = np.stack([6 + r * np.cos(s), 10 + r * np.sin(s)], 1)
    P = np.concatenate([circle, segment, disc]) + rng.normal(scale=0.05, size=(1200, 2))
    shared, scrambled = np.arange(850), np.arange(850, 1200)
    perm = np.arange(1200)
    perm[scrambled] = rng.permutation(scrambled)
    X_a = _embed(P, dim, 0.0, np.random.default_rng(seed + 1))
    X_b = _embed(P[perm] * [1.0, 3.0], dim, 0.0, np.random.default_rng(seed + 2))
    return X_a, X_b, shared, scrambled
