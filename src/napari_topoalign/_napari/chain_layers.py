"""napari layers of a ``Chain``: every graph in one set of layers whose leading axis is the representation,
so the dims slider scrubs the chain (no algorithm here: everything comes from the core).

``chain_layer_data(chain)`` gives the layers as LayerData tuples (pure data, safe to compute in a
worker thread); ``show_chain(viewer, chain)`` adds them, replacing a previous chain's, and puts
the slider on the first representation. At slider position ``i``:

- ``TopoAlign chain nodes`` (``Points``): graph i's nodes in the shared frame, coloured by the region
  track holding them (the same colour all along the chain), grey for none; features
  representation, node, size, track (1-based, 0 for none);
- ``TopoAlign chain edges`` (``Vectors``, lines): graph i's edges;
- ``TopoAlign chain next`` (``Points``): graph i + 1's nodes as faint rings, where the slider goes next;
- ``TopoAlign chain regions`` (``Shapes``): the matching regions of representations i and i + 1 as
  Bubble Sets, filled around graph i's nodes and outlined around graph i + 1's (the last position
  shows the regions of the last pair on the last graph).
"""

from __future__ import annotations

import numpy as np

from ..regions import region_colours
from .layers import GREY, PREFIX, ROLE_KEY, find_layer, put_layer, to_napari

ROLES = ("chain_regions", "chain_edges", "chain_next", "chain_nodes")
AXIS_LABEL = "representation"


def _at(i: int, pos) -> np.ndarray:
    """(K, 3) napari coordinates of layout positions ``pos`` at slider position ``i``."""
    rc = to_napari(pos)
    return np.column_stack([np.full(len(rc), float(i), np.float32), rc])


def _node_size(chain) -> float:
    """A node diameter in layout units: a third of the typical distance between neighbouring nodes."""
    from scipy.spatial import cKDTree

    gaps = []
    for pos in chain.positions:
        if len(pos) > 1:
            d, _ = cKDTree(pos).query(pos, k=2)
            gaps.append(np.median(d[:, 1]))
    return float(np.clip(np.median(gaps) if gaps else 1.0, 0.5, 5.0))


def chain_layer_data(chain) -> list[tuple]:
    """The chain's layers as (data, kwargs, layer type) tuples, bottom first (see the module docstring)."""
    import pandas as pd

    from ..bubbles import bubble_set

    n = len(chain)
    size = _node_size(chain)
    node_tracks = chain.node_tracks("region")
    max_members = max((len(m) for g in chain.graphs for m in g.members), default=1)
    points, colours, sizes, feats = [], [], [], []
    for i, (g, pos, lab) in enumerate(zip(chain.graphs, chain.positions, node_tracks)):
        points.append(_at(i, pos))
        face = np.tile(GREY, (g.n_nodes, 1))
        face[lab >= 0] = region_colours(lab[lab >= 0])
        colours.append(face)
        members = np.array([len(m) for m in g.members], dtype=float)
        sizes.append(size * (0.6 + 1.4 * np.sqrt(members / max_members)))
        feats.append(pd.DataFrame({"representation": i, "node": np.arange(g.n_nodes), "size": members.astype(int),
                                   "track": lab + 1}))
    meta = {"out_of_slice_display": False}
    nodes = (np.concatenate(points), {
        "name": f"{PREFIX} chain nodes", "face_color": np.concatenate(colours), "size": np.concatenate(sizes),
        "border_color": "#222222", "border_width": 0.08, "features": pd.concat(feats, ignore_index=True),
        "metadata": {ROLE_KEY: "chain_nodes"}, **meta,
    }, "points")

    vectors = []
    for i, (g, pos) in enumerate(zip(chain.graphs, chain.positions)):
        if len(g.edges):
            start = _at(i, pos[g.edges[:, 0]])
            end = _at(i, pos[g.edges[:, 1]])
            vectors.append(np.stack([start, end - start], axis=1))
    edges = (np.concatenate(vectors) if vectors else np.zeros((0, 2, 3), np.float32), {
        "name": f"{PREFIX} chain edges", "edge_width": 0.25 * size, "edge_color": "#8a8a8a", "vector_style": "line",
        "opacity": 0.8, "metadata": {ROLE_KEY: "chain_edges"}, **meta,
    }, "vectors")

    ghost = [_at(i, chain.positions[i + 1]) for i in range(n - 1)]
    nxt = (np.concatenate(ghost) if ghost else np.zeros((0, 3), np.float32), {
        "name": f"{PREFIX} chain next", "face_color": "transparent", "size": 0.7 * size, "opacity": 0.6,
        "border_color": "#e0e0e0", "border_width": 0.12, "metadata": {ROLE_KEY: "chain_next"}, **meta,
    }, "points")

    polygons, faces, outlines = [], [], []
    for t in range(n - 1):
        regions = chain.consecutive_regions(t)
        track_colour = region_colours(np.maximum(chain.item_tracks(t), 0))
        for r, colour in zip(regions, track_colour):
            sides = [(t, chain.positions[t], r.nodes_a, True), (t, chain.positions[t + 1], r.nodes_b, False)]
            if t == n - 2:
                sides.append((t + 1, chain.positions[t + 1], r.nodes_b, True))
            for at, pos, members, filled in sides:
                poly = bubble_set(pos, members)
                if poly.is_empty:
                    continue
                polygons.append(_at(at, np.asarray(poly.exterior.coords)[:-1]))
                faces.append(np.r_[colour[:3], 0.28 if filled else 0.0])
                outlines.append(np.r_[colour[:3], 0.9 if filled else 0.7])
    shapes = (polygons, {
        "name": f"{PREFIX} chain regions", "shape_type": "polygon",
        "face_color": np.array(faces) if faces else "transparent",
        "edge_color": np.array(outlines) if outlines else "transparent", "edge_width": 0.15 * size,
        "metadata": {ROLE_KEY: "chain_regions"},
    }, "shapes")
    return [shapes, edges, nxt, nodes]


def show_chain(viewer, chain, data: list[tuple] | None = None) -> dict:
    """Add the chain's layers (``data`` from ``chain_layer_data``, computed when None), replacing a
    previous chain's; label the leading axis, put the slider on the first representation and fit
    the view. Returns the layers by role."""
    from napari.layers import Layer

    data = chain_layer_data(chain) if data is None else data
    layers = {}
    for layer_data, kwargs, kind in data:
        role = kwargs["metadata"][ROLE_KEY]
        layers[role] = put_layer(viewer, Layer.create(layer_data, kwargs, kind), role)
    dims = viewer.dims
    labels = list(dims.axis_labels)
    labels[dims.ndim - 3] = AXIS_LABEL
    dims.axis_labels = labels
    dims.set_current_step(dims.ndim - 3, 0)
    viewer.reset_view()
    return layers


def chain_position(viewer) -> int | None:
    """The representation the slider is on, or None when no chain is shown."""
    if find_layer(viewer, "chain_nodes") is None or viewer.dims.ndim < 3:
        return None
    return int(round(viewer.dims.point[viewer.dims.ndim - 3]))
