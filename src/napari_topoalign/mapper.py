"""Mapper graphs: lens -> overlapping cover -> clustering per cover element -> nerve."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class MapperParams:
    """Parameters of one mapper graph (plain data, validated by ``build_mapper``).

    ``lens``: "l2norm", "pca", "density", "eccentricity" or an (N,) array.
    ``overlap``: fraction of an interval's length shared with its neighbour.
    ``cover``: "uniform" (equal lengths) or "balanced" (equal counts).
    ``clusterer``: "dbscan" or "single" (single linkage cut at ``eps``).
    ``eps=None``: chosen from the knee of the sorted k-NN distances.
    """

    lens: Any = "l2norm"
    n_intervals: int = 20
    overlap: float = 0.5
    cover: str = "uniform"
    clusterer: str = "dbscan"
    eps: float | None = None
    min_samples: int = 3
    metric: str = "euclidean"

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

    def membership(self) -> sp.csr_matrix:
        """Sparse K×N 0/1 matrix: row k marks the inputs of node k."""
        return membership_matrix(self.members, self.n_inputs)

    def to_networkx(self):
        """A ``networkx.Graph`` with node attributes size, members, lens (mean) and edge weight."""
        import networkx as nx

        G = nx.Graph()
        for k, m in enumerate(self.members):
            G.add_node(k, size=int(len(m)), members=m, lens=float(self.lens[m].mean()) if len(m) else 0.0)
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
