"""Shared fixtures for the napari tests: a small hand-made alignment with known topology.

Graph A is a loop of 12 nodes over 240 inputs on a circle; graph B is a path of 10 nodes over
the same inputs (the circle cut open). Two regions match arcs of the loop to stretches of the
path. Everything is built by hand, so the tests know the right answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from shapely.geometry import LineString, MultiPoint
from shapely.ops import unary_union

from napari_topoalign.mapper import MapperGraph, nerve

N_INPUTS = 240


def _windows(t, n_nodes, width, wrap):
    """Members of n_nodes overlapping windows over t in [0, 1)."""
    centres = (np.arange(n_nodes) + 0.5) / n_nodes
    d = np.abs(t[None, :] - centres[:, None])
    if wrap:
        d = np.minimum(d, 1 - d)
    return [np.flatnonzero(row <= width / 2) for row in d]


def _graph(members, n):
    edges, weight = nerve(members, n)
    return MapperGraph(
        members, edges, weight, intervals=np.zeros((1, 2)), node_interval=np.zeros(len(members), int),
        lens=np.linspace(0, 1, n), n_inputs=n, uncovered=np.zeros(0, int),
    )


def _bubble(pos, nodes, radius=0.35):
    pts = pos[nodes]
    return unary_union([MultiPoint(pts).buffer(radius), LineString(pts).buffer(radius / 2)])


@dataclass(eq=False)
class HandAlignment:
    """The fields of ``Alignment`` that the napari layers read."""

    graph_a: MapperGraph
    graph_b: MapperGraph
    correspondence: sp.csr_matrix
    layout: object
    regions: list
    scores: dict = field(default_factory=dict)
    names: tuple = ("loop", "path")

    def bubbles(self):
        out = []
        for r in self.regions:
            a = _bubble(self.layout.pos_a, r.nodes_a)
            b = _bubble(self.layout.pos_b, r.nodes_b)
            out.append((a, b, LineString([a.centroid, b.centroid]).buffer(0.3)))
        return out


def make_alignment():
    t = (np.arange(N_INPUTS) + 0.5) / N_INPUTS
    A = _graph(_windows(t, 12, 1.6 / 12, wrap=True), N_INPUTS)
    B = _graph(_windows(t, 10, 1.6 / 10, wrap=False), N_INPUTS)
    Ma, Mb = A.membership(), B.membership()
    inter = (Ma @ Mb.T).toarray()
    union = np.add.outer(Ma.sum(1).A1, Mb.sum(1).A1) - inter
    C = sp.csr_matrix(np.where(inter > 0, inter / np.maximum(union, 1), 0))
    angle = 2 * np.pi * (np.arange(12) + 0.5) / 12
    pos_a = np.column_stack([2 * np.cos(angle), 2 * np.sin(angle)]).astype(np.float32)
    offset = np.array([7.0, 0.0], np.float32)
    s = (np.arange(10) + 0.5) / 10
    pos_b = (np.column_stack([2.2 * np.cos(2 * np.pi * s), 2.2 * np.sin(2 * np.pi * s)]) + offset).astype(np.float32)
    layout = SimpleNamespace(pos_a=pos_a, pos_b=pos_b, offset=offset, mode="side_by_side")
    regions = [
        SimpleNamespace(nodes_a=np.array([1, 2, 3, 4]), nodes_b=np.array([1, 2, 3]), inputs=np.arange(20, 100), score=0.8),
        SimpleNamespace(nodes_a=np.array([7, 8, 9]), nodes_b=np.array([6, 7]), inputs=np.arange(150, 200), score=0.6),
    ]
    return HandAlignment(A, B, C, layout, regions, scores={"topology": 0.7})


@pytest.fixture
def alignment():
    return make_alignment()


@pytest.fixture
def image_inputs():
    rng = np.random.default_rng(0)
    return SimpleNamespace(
        n_inputs=N_INPUTS, images=rng.integers(0, 255, (N_INPUTS, 8, 8), dtype=np.uint8),
        source_image=None, coords=None, texts=[f"input {i}" for i in range(N_INPUTS)],
    )


@pytest.fixture
def source_inputs():
    t = (np.arange(N_INPUTS) + 0.5) / N_INPUTS
    coords = np.column_stack([100 + 80 * np.sin(2 * np.pi * t), 100 + 80 * np.cos(2 * np.pi * t)])
    return SimpleNamespace(
        n_inputs=N_INPUTS, images=None, source_image=np.zeros((200, 200), np.float32), coords=coords, texts=None,
    )
