"""napari layers drawn from an ``Alignment`` (no algorithm here: everything comes from the core).

Coordinates: the layout's ``(x, y)`` becomes napari's ``(row, col) = (-y, x)`` (``to_napari``),
so the picture matches a y-up plot of the same layout; Bubble Sets, links and motif outlines
use the same conversion. Sizes and widths are in layout units, scaled by the typical
nearest-neighbour distance between nodes.

Every layer made here is named ``"TopoAlign ..."`` (``PREFIX``) and carries
``layer.metadata["topoalign"] = <role>`` (``ROLE_KEY``); it never touches the user's own layers.
The drawing layers (``DRAWING_ROLES``: bubbles, links, edges and nodes of each graph) are made
once per viewer and then updated in place: napari needs 0.1-0.8 s of the GUI thread to add a
layer and runs a full garbage collection to remove one. Other layers of a role are replaced at
their place in the layer list.

API (called by the widgets):

- ``show_alignment(viewer, alignment, inputs=None) -> AlignmentLayers``: node ``Points`` and edge
  ``Vectors`` per graph (features node, size, lens, region, score; colour by region, matched
  across A and B, grey for none), correspondence links (``Vectors``, strongest link per node,
  hidden when there are more than ``MAX_VISIBLE_LINKS``), Bubble Sets + membranes (``Shapes``, under the graphs, each
  region's bubbles numbered by rank in its colour), and the inputs (``show_inputs_mosaic``)
  beside the graphs when ``inputs`` is given (input positions on a source image coloured by
  region). Stale plugin layers of a previous alignment (motifs, selections, and inputs when
  ``inputs`` has nothing to draw) are removed. The view is fitted to the drawing (``fit_view``).
- ``show_alignment_steps(viewer, alignment, inputs, prepared=None, graphs_drawn=False)``: the same
  as a generator of short steps for a GUI that must not block; ``prepare(alignment)`` computes
  its heavy parts (Bubble Set polygons, links) in a worker; ``drawing_layers_steps(viewer)`` makes
  the drawing layers one per step; ``empty_drawing(viewer)`` empties them.
- ``show_graphs(viewer, graph_a, graph_b, pos_a, pos_b, names=("A", "B"))`` /
  ``draw_graphs(layers, ...)``: the node and edge layers before an alignment exists (e.g. to
  animate a layout while it runs).
- ``update_positions(viewer_or_layers, pos_a, pos_b)``: moves nodes, edges and links in place
  (sets ``.data`` only; cheap enough for a layout callback). Bubbles are not moved.
- ``colour_nodes(layers, by="region"|"lens"|"score"|"size")``: re-colours the nodes.
- ``highlight_region(layers, index) -> bbox`` emphasises one region's bubbles and membrane
  (``index=None`` resets); ``centre_on(viewer, bbox)`` centres and zooms the view on a bbox
  ``((row0, col0), (row1, col1))``; ``fit_view(viewer, layers)`` fits it to the plugin's drawing
  (``drawing_bbox``: nodes, bubbles, inputs), ignoring other layers such as the hidden
  representation matrices; ``keep_in_view`` refits only when the drawing left the view or became small in it.
- ``show_motifs(layers, matches)``: a ``"TopoAlign motifs"`` ``Shapes`` layer outlining each
  motif instance in A and its counterpart in B, coloured by status (``MOTIF_COLOURS``).
- ``show_inputs_mosaic(viewer, inputs, *, beside=None) -> InputsView``: ``inputs.source_image``
  with a ``Points`` layer of ``inputs.coords``, else an image mosaic of ``inputs.images``,
  placed right of or below the ``beside`` bbox at a graph panel's size; ``InputsView`` maps
  inputs <-> world positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from napari.layers import Image, Points, Shapes, Vectors
from napari.utils.colormaps import ensure_colormap
from scipy.spatial import cKDTree

from ..regions import region_colours, region_of

PREFIX = "TopoAlign"
ROLE_KEY = "topoalign"

GREY = np.array([0.62, 0.62, 0.62, 1.0])
MOTIF_COLOURS = {
    "preserved": np.array([0.20, 0.90, 0.35, 1.0]),
    "broken": np.array([1.00, 0.60, 0.10, 1.0]),
    "absent": np.array([0.95, 0.20, 0.20, 1.0]),
}
#: Links are drawn but hidden by default above this many.
MAX_VISIBLE_LINKS = 60


def to_napari(xy) -> np.ndarray:
    """Layout ``(x, y)`` -> napari ``(row, col) = (-y, x)`` as float32 (K, 2)."""
    xy = np.asarray(xy, dtype=np.float32).reshape(-1, 2)
    return np.column_stack([-xy[:, 1], xy[:, 0]])


def camera_of(viewer):
    """The viewer's camera: ``viewer.scene.camera`` (napari >= 0.9), else ``viewer.camera``."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def _canvas_size(viewer) -> np.ndarray:
    canvas = getattr(viewer, "canvas", None)
    size = canvas.size if canvas is not None else viewer._canvas_size
    return np.asarray(size, dtype=float)


def _canvas_aspect(viewer) -> float:
    """The canvas's width / height (1 when unknown)."""
    h, w = _canvas_size(viewer)
    return float(w / h) if h > 0 and w > 0 else 1.0


def find_layer(viewer, role: str):
    """The plugin layer with this role in the viewer, or None."""
    for layer in viewer.layers:
        if layer.metadata.get(ROLE_KEY) == role:
            return layer
    return None


def put_layer(viewer, layer, role: str, *, below=None):
    """Add ``layer`` with ``role``, replacing the plugin layer of the same role in place (else on
    top, or right under the layer ``below`` when given). The user's active layer stays active.
    """
    layer.metadata[ROLE_KEY] = role
    active = viewer.layers.selection.active
    old = find_layer(viewer, role)
    layers = viewer.layers
    # napari makes an inserted layer the active one, which rebuilds the layer controls (0.1-0.3 s
    # per layer under Xvfb): switched off while the plugin inserts its own layers
    activate = getattr(layers, "_activate_on_insert", None)
    if activate is not None:
        layers._activate_on_insert = False
    try:
        if old is None and below is not None and below in layers:
            layers.insert(layers.index(below), layer)
        elif old is None:
            layers.append(layer)
        else:
            index = layers.index(old)
            layers.remove(old)
            layers.insert(index, layer)
    finally:
        if activate is not None:
            layers._activate_on_insert = activate
    if active is not None and active in layers and layers.selection.active is not active:
        layers.selection.active = active
    return layer


def remove_roles(viewer, roles) -> None:
    """Remove the plugin layers with these roles (user layers are never touched)."""
    for layer in [la for la in viewer.layers if la.metadata.get(ROLE_KEY) in roles]:
        viewer.layers.remove(layer)


# ---------------------------------------------------------------------------- inputs


@dataclass(eq=False)
class InputsView:
    """Where the inputs are drawn: a mosaic of tiles or points on a source image.

    ``kind`` is "mosaic" or "source"; world = ``translate + scale * pixel``. ``positions``
    (N, 2) are world (row, col) of each input (tile centres or source coordinates).
    """

    kind: str
    layers: list
    scale: float
    translate: np.ndarray
    positions: np.ndarray
    tile_shape: tuple = (0, 0)
    grid: tuple = (0, 0)
    point_size: float = 0.0

    @property
    def n_inputs(self) -> int:
        return len(self.positions)

    def tile_bboxes(self, indices) -> np.ndarray:
        """(k, 2, 2) world ``[[row0, col0], [row1, col1]]`` of the tiles of these inputs."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        h, w = self.tile_shape
        top_left = np.column_stack([(idx // self.grid[1]) * h, (idx % self.grid[1]) * w]) - 0.5
        corners = np.stack([top_left, top_left + np.array([h, w])], axis=1)
        return self.translate + self.scale * corners

    def bbox(self) -> np.ndarray:
        """World bbox ``[[row0, col0], [row1, col1]]`` of the drawn image."""
        shape = np.asarray(self.layers[0].data.shape[:2], dtype=float)
        return self.translate + self.scale * np.stack([[-0.5, -0.5], shape - 0.5])

    def input_at(self, position) -> int:
        """Index of the input drawn at a world position, or -1."""
        p = np.asarray(position, dtype=float)[-2:]
        if self.kind == "mosaic":
            pixel = (p - self.translate) / self.scale + 0.5
            r, c = np.floor(pixel / np.asarray(self.tile_shape)).astype(int)
            i = r * self.grid[1] + c
            inside = 0 <= r < self.grid[0] and 0 <= c < self.grid[1] and i < self.n_inputs
            return int(i) if inside else -1
        dist, i = cKDTree(self.positions).query(p)
        return int(i) if dist <= self.point_size else -1


def mosaic(images: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The (N, H, W[, C]) images tiled row by row into one image, and the grid's (rows, cols)."""
    n, h, w = images.shape[:3]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    pad = np.zeros((rows * cols - n,) + images.shape[1:], dtype=images.dtype)
    tiles = np.concatenate([images, pad]).reshape((rows, cols) + images.shape[1:])
    tiles = np.swapaxes(tiles, 1, 2)  # rows, h, cols, w[, c]
    return tiles.reshape((rows * h, cols * w) + images.shape[3:]), (rows, cols)


def _placement(shape, beside, aspect=1.0) -> tuple[float, np.ndarray]:
    """Scale and translate putting an image of ``shape`` (h, w) beside the bbox ``beside``.

    The image's longer side matches one graph panel (the bbox's height, or half its width
    when the graphs sit side by side); it goes right of the bbox or below it, whichever
    makes the whole drawing's width / height closer to ``aspect`` (the canvas's), and is
    centred along the bbox.
    """
    if beside is None:
        return 1.0, np.zeros(2)
    (r0, c0), (r1, c1) = np.asarray(beside, dtype=float)
    height, width = max(r1 - r0, 1e-6), max(c1 - c0, 1e-6)
    scale = max(height, width / 2) / max(shape)
    h, w = scale * np.asarray(shape[:2], dtype=float)
    gap = 0.08 * max(width, height)
    right = (width + gap + w) / max(height, h)
    below = max(width, w) / (height + gap + h)
    if abs(np.log(right / aspect)) <= abs(np.log(below / aspect)):
        corner = np.array([(r0 + r1 - h) / 2, c1 + gap])
    else:
        corner = np.array([r1 + gap, (c0 + c1 - w) / 2])
    return scale, corner + 0.5 * scale


def show_inputs_mosaic(viewer, inputs, *, beside=None) -> InputsView | None:
    """Draw the inputs: ``source_image`` with the ``coords`` marked, else a tile mosaic of
    ``inputs.images``.

    Returns None when the table has neither. ``beside``: a world bbox (the graphs) to place
    the drawing next to, at a comparable size (``_placement``).
    """
    aspect = _canvas_aspect(viewer)
    source = getattr(inputs, "source_image", None)
    coords = getattr(inputs, "coords", None)
    if source is not None and coords is not None:
        source = np.asarray(source)
        scale, translate = _placement(source.shape[:2], beside, aspect)
        image = _image_layer(viewer, source, scale, translate)
        size = max(source.shape[:2]) / 120.0
        points = Points(
            np.asarray(coords, dtype=np.float32), name=f"{PREFIX} input positions", size=size,
            face_color=[0.9, 0.9, 0.9, 0.7], border_width=0, scale=(scale, scale), translate=tuple(translate),
            features=pd.DataFrame({"input": np.arange(len(coords))}),
        )
        put_layer(viewer, points, "input_points")
        positions = translate + scale * np.asarray(coords, dtype=float)
        return InputsView("source", [image, points], scale, translate, positions, point_size=scale * size)
    images = getattr(inputs, "images", None)
    if images is None:
        return None
    images = np.asarray(images)
    tiles, grid = mosaic(images)
    h, w = images.shape[1:3]
    scale, translate = _placement(tiles.shape[:2], beside, aspect)
    layer = _image_layer(viewer, tiles, scale, translate)
    remove_roles(viewer, ("input_points",))
    idx = np.arange(len(images))
    centres = np.column_stack([(idx // grid[1] + 0.5) * h, (idx % grid[1] + 0.5) * w]) - 0.5
    return InputsView("mosaic", [layer], scale, translate, translate + scale * centres, (h, w), grid)


def image_kwargs(data) -> dict:
    """``rgb`` and (grey images) contrast limits spanning the data, e.g. 0..16 digits in uint8."""
    data = np.asarray(data)
    rgb = data.ndim == 3 and data.shape[-1] in (3, 4)
    kwargs = {"rgb": rgb}
    if not rgb and data.size:
        lo, hi = float(data.min()), float(data.max())
        kwargs["contrast_limits"] = (lo, hi) if hi > lo else (lo, lo + 1)
    return kwargs


def _image_layer(viewer, data, scale, translate) -> Image:
    """The "inputs" image layer showing ``data``: the existing one moved into place when it already
    shows the same pixels (no new layer), else a new one replacing it."""
    old = find_layer(viewer, "inputs")
    if isinstance(old, Image) and old.data.shape == data.shape and np.array_equal(old.data, data):
        old.scale, old.translate, old.visible = (scale, scale), tuple(translate), True
        return old
    layer = Image(data, name=f"{PREFIX} inputs", scale=(scale, scale), translate=tuple(translate), **image_kwargs(data))
    return put_layer(viewer, layer, "inputs")


# ---------------------------------------------------------------------------- graphs


@dataclass(eq=False)
class AlignmentLayers:
    """The plugin's layers for one alignment (``alignment`` is None for ``show_graphs``)."""

    viewer: object
    alignment: object
    nodes_a: Points
    nodes_b: Points
    edges_a: Vectors
    edges_b: Vectors
    unit: float
    links: Vectors | None = None
    bubbles: Shapes | None = None
    motifs: Shapes | None = None
    inputs: InputsView | None = None
    bubble_style: dict = field(default_factory=dict, repr=False)

    @property
    def graph_layers(self) -> list:
        return [self.nodes_a, self.nodes_b, self.edges_a, self.edges_b]


def _unit(pos_a, pos_b) -> float:
    """The drawing's length unit: the median nearest-neighbour distance between nodes, at least a
    quarter of the mean spacing of a graph's nodes over its bounding box (so clumps stay visible)."""
    parts = [np.asarray(p, float).reshape(-1, 2) for p in (pos_a, pos_b)]
    pts = np.concatenate(parts)
    if len(pts) < 2:
        return 1.0
    dist = cKDTree(pts).query(pts, k=2)[0][:, 1]
    dist = dist[dist > 0]
    spacing = max(np.sqrt(np.prod(np.ptp(p, axis=0) + 1e-12) / len(p)) for p in parts if len(p))
    unit = max(float(np.median(dist)) if len(dist) else 0.0, 0.25 * spacing)
    if unit > 0:
        return unit
    span = float(np.ptp(pts, axis=0).max())
    return span / 10 if span > 0 else 1.0


def _node_sizes(graph_a, graph_b, unit) -> tuple[np.ndarray, np.ndarray]:
    """Diameters ∝ sqrt(members), the median node 0.7 units wide, capped at 2.5 units."""
    counts = [np.fromiter((len(m) for m in g.members), float, g.n_nodes) for g in (graph_a, graph_b)]
    both = np.concatenate(counts)
    median = float(np.median(both)) if len(both) else 1.0
    c = 0.7 * unit / np.sqrt(max(median, 1.0))
    return tuple(np.minimum(c * np.sqrt(n), 2.5 * unit) for n in counts)


def _node_lens(graph) -> np.ndarray:
    M = graph.membership()
    counts = np.maximum(np.asarray(M.sum(axis=1)).ravel(), 1)
    return (M @ np.asarray(graph.lens, dtype=float)) / counts


def _node_regions(k: int, regions, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Region of each node (the best region holding it; -1 for none) and that region's score."""
    region = region_of(regions, k, f"nodes_{side}")
    scores = np.array([float(r.score) for r in regions] + [np.nan])
    return region, scores[region]  # -1 picks the trailing NaN


def _edge_vectors(edges, pos) -> np.ndarray:
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    start = pos[edges[:, 0]]
    return np.stack([start, pos[edges[:, 1]] - start], axis=1)


def _edge_colours(weight) -> np.ndarray:
    w = np.clip(np.asarray(weight, dtype=float), 0, 1)
    colours = np.tile([0.85, 0.85, 0.85, 1.0], (len(w), 1))
    colours[:, 3] = 0.35 + 0.65 * w
    return colours


#: The plugin's drawing layers, bottom to top, made once per viewer and then updated in place
#: (adding a layer costs napari 0.1-0.8 s on the GUI thread, removing one a full gc.collect).
DRAWING_ROLES = ("bubbles", "links", "edges_a", "edges_b", "nodes_a", "nodes_b")
_NODE_COLUMNS = ("node", "size", "lens", "region", "score")


def _empty_layer(role: str):
    """An empty layer for ``role`` with its features' columns, to be filled by ``draw_graphs`` & co."""
    empty = np.zeros((0, 2))
    if role.startswith("nodes"):
        features = pd.DataFrame({c: np.zeros(0, float if c in ("lens", "score") else np.int64) for c in _NODE_COLUMNS})
        return Points(empty, name=f"{PREFIX} {role}", border_width=0.08, border_color=[0.1, 0.1, 0.1, 1],
                      features=features)
    if role.startswith("edges") or role == "links":
        columns = ("source", "target", "jaccard") if role != "links" else ("node_a", "node_b", "jaccard")
        features = pd.DataFrame({c: np.zeros(0, float if c == "jaccard" else np.int64) for c in columns})
        return Vectors(np.zeros((0, 2, 2)), name=f"{PREFIX} {role}", vector_style="line", features=features)
    features = pd.DataFrame({"region": np.zeros(0, np.int64), "part": np.zeros(0, object), "score": np.zeros(0),
                             "label": np.zeros(0, object)})
    return Shapes(name=f"{PREFIX} bubbles", features=features, text={"string": "{label}", "size": 14,
                                                                    "anchor": "upper_left"})


def drawing_layers_steps(viewer):
    """The plugin's drawing layers (``DRAWING_ROLES``) in ``viewer``: the existing ones, and empty
    new ones where missing, one per step (a generator; returns the ``AlignmentLayers``)."""
    found = {}
    for role in DRAWING_ROLES:
        layer = find_layer(viewer, role)
        if layer is None or not isinstance(layer, _KIND[role]):
            layer = put_layer(viewer, _empty_layer(role), role)
            yield
        found[role] = layer
    return AlignmentLayers(viewer, None, found["nodes_a"], found["nodes_b"], found["edges_a"], found["edges_b"], 1.0,
                           links=found["links"], bubbles=found["bubbles"])


_KIND = {role: Points if role.startswith("nodes") else Shapes if role == "bubbles" else Vectors for role in DRAWING_ROLES}


def empty_drawing(viewer) -> None:
    """Empty the plugin's drawing layers in place (nothing aligned to show)."""
    for role in DRAWING_ROLES:
        layer = find_layer(viewer, role)
        if isinstance(layer, Shapes):
            if layer.nshapes:
                layer.data = []
        elif layer is not None:
            layer.data = np.zeros((0, 2) if isinstance(layer, Points) else (0, 2, 2))


def drain(steps):
    """Run a generator of drawing steps to its end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def draw_graphs(layers: AlignmentLayers, graph_a, graph_b, pos_a, pos_b, names=("A", "B"), *, regions=()) -> None:
    """Put both graphs into the node and edge layers (in place): positions ``pos_a``, ``pos_b``
    (shared frame), features node, size, lens, region, score, sizes, colours, names."""
    pa, pb = to_napari(pos_a), to_napari(pos_b)
    unit = _unit(pa, pb)
    sizes = _node_sizes(graph_a, graph_b, unit)
    for graph, pos, size, name, side in ((graph_a, pa, sizes[0], names[0], "a"), (graph_b, pb, sizes[1], names[1], "b")):
        nodes, vectors = getattr(layers, f"nodes_{side}"), getattr(layers, f"edges_{side}")
        region, score = _node_regions(graph.n_nodes, regions, side)
        nodes.data = pos
        nodes.features = pd.DataFrame({
            "node": np.arange(graph.n_nodes),
            "size": np.fromiter((len(m) for m in graph.members), np.int64, graph.n_nodes),
            "lens": _node_lens(graph),
            "region": region,
            "score": score,
        })
        if len(pos):
            nodes.size = size
        nodes.name = f"{PREFIX} {name} nodes"
        edges = np.asarray(graph.edges, dtype=np.int64).reshape(-1, 2)
        weight = np.asarray(graph.edge_weight, dtype=float)
        vectors.data = _edge_vectors(edges, pos)
        vectors.features = pd.DataFrame({"source": edges[:, 0], "target": edges[:, 1], "jaccard": weight})
        if len(edges):
            vectors.edge_color = _edge_colours(weight)
        vectors.edge_width = 0.12 * unit
        vectors.name = f"{PREFIX} {name} edges"
    layers.unit = unit
    colour_nodes(layers, "region")


def show_graphs(viewer, graph_a, graph_b, pos_a, pos_b, names=("A", "B"), *, regions=()) -> AlignmentLayers:
    """Node and edge layers of both graphs at layout positions ``pos_a``, ``pos_b`` (shared frame)."""
    layers = drain(drawing_layers_steps(viewer))
    draw_graphs(layers, graph_a, graph_b, pos_a, pos_b, names, regions=regions)
    return layers


def colour_nodes(layers: AlignmentLayers, by: str = "region") -> None:
    """Colour nodes by "region" (matched colours, grey for none) or by a numeric feature via viridis."""
    for nodes in (layers.nodes_a, layers.nodes_b):
        values = np.asarray(nodes.features[by], dtype=float)
        if by == "region":
            colours = np.where((values >= 0)[:, None], region_colours(np.maximum(values, 0).astype(int)), GREY)
        else:
            both = np.concatenate([np.asarray(n.features[by], float) for n in (layers.nodes_a, layers.nodes_b)])
            finite = both[np.isfinite(both)]
            lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
            t = (values - lo) / (hi - lo) if hi > lo else np.full(len(values), 0.5)
            colours = ensure_colormap("viridis").map(np.nan_to_num(t, nan=0.0))
            colours[~np.isfinite(values)] = GREY
        if len(values):
            nodes.face_color = colours


# ---------------------------------------------------------------------------- alignment


def _links(C, pa, pb):
    """Strongest link of every node of A and of B (deduplicated): (L, 2, 2) vectors, pairs, weights."""
    C = sp.csr_matrix(C)
    pairs = []
    if C.nnz:
        rows = np.flatnonzero(np.diff(C.indptr))
        pairs.append(np.column_stack([rows, np.asarray(C[rows].argmax(axis=1)).ravel()]))
        Cc = C.tocsc()
        cols = np.flatnonzero(np.diff(Cc.indptr))
        pairs.append(np.column_stack([np.asarray(Cc[:, cols].argmax(axis=0)).ravel(), cols]))
    pairs = np.unique(np.concatenate(pairs), axis=0) if pairs else np.zeros((0, 2), np.int64)
    weight = np.asarray(C[pairs[:, 0], pairs[:, 1]]).ravel() if len(pairs) else np.zeros(0)
    start = pa[pairs[:, 0]]
    return np.stack([start, pb[pairs[:, 1]] - start], axis=1), pairs, weight


def _polygon_rings(geom, tolerance) -> list[np.ndarray]:
    """Exterior rings (napari coords, closing vertex dropped) of a Polygon or MultiPolygon."""
    if geom is None or geom.is_empty:
        return []
    geom = geom.simplify(tolerance, preserve_topology=True)
    parts = getattr(geom, "geoms", [geom])
    return [to_napari(np.asarray(p.exterior.coords)[:-1]) for p in parts if not p.is_empty and len(p.exterior.coords) > 3]


@dataclass(eq=False)
class BubbleParts:
    """The Bubble Sets and membranes of an alignment as napari polygons, ready to add: ``rings``
    (napari coordinates), ``features`` (region, part, score, label: each region's bubbles numbered
    by rank), ``style`` (face, edge, width) and the text colours."""

    rings: list
    features: pd.DataFrame
    style: dict
    text_colour: object


def bubble_parts(alignment, unit) -> BubbleParts:
    """Bubble Sets and membranes of ``alignment`` as ``BubbleParts`` (numpy and shapely only: safe off the GUI thread)."""
    bubbles = alignment.bubbles()
    shapes, rows = [], []
    for part, k in (("membrane", 2), ("a", 0), ("b", 1)):  # membranes first: drawn underneath
        for r, triple in enumerate(bubbles):
            rings = _polygon_rings(triple[k], 0.03 * unit)
            areas = [_ring_area(ring) for ring in rings]
            for j, ring in enumerate(rings):
                shapes.append(ring)
                label = str(r + 1) if part != "membrane" and j == int(np.argmax(areas)) else ""
                rows.append((r, part, float(alignment.regions[r].score), label))
    features = pd.DataFrame(rows, columns=["region", "part", "score", "label"]).astype({"region": np.int64})
    region = features["region"].to_numpy()
    edge = region_colours(region)
    face = edge.copy()
    membrane = features["part"].to_numpy() == "membrane"
    face[:, 3] = np.where(membrane, 0.12, 0.45)  # membranes: a faint band without outline, as in the report
    edge[membrane, 3] = 0.0
    style = {"face": face, "edge": edge, "width": 0.15 * unit}
    return BubbleParts(shapes, features, style, _lighter(edge) if len(shapes) > 1 else "white")


#: Polygons added to the bubbles layer per GUI slice (napari triangulates them as they are added).
BUBBLES_PER_STEP = 4


def draw_bubbles_steps(layers: AlignmentLayers, parts: BubbleParts):
    """Replace the bubbles layer's polygons with ``parts``, ``BUBBLES_PER_STEP`` per step (a generator)."""
    shapes = layers.bubbles
    shapes.visible = False
    if shapes.nshapes:
        shapes.data = []
    style = parts.style
    for i in range(0, len(parts.rings), BUBBLES_PER_STEP):
        chunk = slice(i, i + BUBBLES_PER_STEP)
        shapes.feature_defaults = parts.features.iloc[chunk][:1].reset_index(drop=True)
        shapes.add_polygons(parts.rings[chunk], edge_width=style["width"], edge_color=style["edge"][chunk],
                            face_color=style["face"][chunk])
        yield
    shapes.features = parts.features
    shapes.text = {"string": "{label}", "color": parts.text_colour, "size": 14, "anchor": "upper_left"}
    shapes.visible = True
    layers.bubble_style = style


def _ring_area(ring) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _lighter(colours, amount=0.45) -> np.ndarray:
    """``colours`` mixed with white (readable on their own translucent fill), opaque."""
    out = np.asarray(colours, dtype=float).copy()
    out[:, :3] += amount * (1 - out[:, :3])
    out[:, 3] = 1.0
    return out


def _paint_regions(view: InputsView, regions) -> None:
    """Colour the input positions on a source image by their best region (light grey for none)."""
    region = region_of(regions, view.n_inputs, "inputs")
    colours = np.where((region >= 0)[:, None], region_colours(np.maximum(region, 0)), [[0.9, 0.9, 0.9, 0.5]])
    points = view.layers[1]
    points.features["region"] = region
    if len(colours):
        points.face_color = colours


def drawing_bbox(layers) -> np.ndarray:
    """World bbox ``[[row0, col0], [row1, col1]]`` of the plugin's drawing: nodes (with their
    size), Bubble Sets and the inputs drawn beside the graphs (when visible)."""
    corners = []
    for nodes in (layers.nodes_a, layers.nodes_b):
        if len(nodes.data):
            r = np.asarray(nodes.size, dtype=float).reshape(len(nodes.data), -1)[:, :1] / 2
            corners += [(nodes.data - r).min(axis=0), (nodes.data + r).max(axis=0)]
    if layers.bubbles is not None and layers.bubbles.nshapes and layers.bubbles.visible:
        pts = np.concatenate(layers.bubbles.data)
        corners += [pts.min(axis=0), pts.max(axis=0)]
    if layers.inputs is not None and layers.inputs.layers[0].visible:
        corners += list(layers.inputs.bbox())
    if not corners:
        return np.array([[0.0, 0.0], [1.0, 1.0]])
    corners = np.asarray(corners, dtype=float)[:, -2:]
    return np.stack([corners.min(axis=0), corners.max(axis=0)])


def visible_rect(viewer) -> np.ndarray:
    """World ``[[row0, col0], [row1, col1]]`` the 2-D canvas shows now."""
    camera = camera_of(viewer)
    half = _canvas_size(viewer) / (2 * camera.zoom)
    centre = np.asarray(camera.center, dtype=float)[-2:]
    return np.stack([centre - half, centre + half])


def fit_view(viewer, layers, margin: float = 0.1) -> None:
    """Centre and zoom the view on the plugin's drawing (``drawing_bbox``), whatever else is loaded."""
    centre_on(viewer, drawing_bbox(layers), margin)


def keep_in_view(viewer, layers) -> None:
    """Refit the view (``fit_view``) when the drawing leaves it or shrinks to under half its size."""
    box, rect = drawing_bbox(layers), visible_rect(viewer)
    inside = (box[0] >= rect[0]).all() and (box[1] <= rect[1]).all()
    if not inside or ((box[1] - box[0]) < 0.5 * (rect[1] - rect[0])).all():
        fit_view(viewer, layers)


@dataclass(eq=False)
class Prepared:
    """What ``show_alignment_steps`` draws that can be computed off the GUI thread (``prepare``)."""

    alignment: object
    unit: float
    bubbles: BubbleParts
    links: tuple  # (vectors (L, 2, 2), pairs (L, 2), weights (L,))


def prepare(alignment) -> Prepared:
    """Bubble Sets and correspondence links of ``alignment`` ready to draw (numpy only: safe in a worker)."""
    lay = alignment.layout
    pa, pb = to_napari(lay.pos_a), to_napari(lay.pos_b)
    unit = _unit(pa, pb)
    return Prepared(alignment, unit, bubble_parts(alignment, unit), _links(alignment.correspondence, pa, pb))


def _draw_links(layer: Vectors, links, unit) -> None:
    vectors, pairs, weight = links
    layer.data = vectors
    layer.features = pd.DataFrame({"node_a": pairs[:, 0], "node_b": pairs[:, 1], "jaccard": weight})
    if len(weight):
        colours = np.tile([1.0, 1.0, 1.0, 1.0], (len(weight), 1))
        colours[:, 3] = 0.1 + 0.5 * np.clip(weight, 0, 1)
        layer.edge_color = colours
    layer.edge_width = 0.08 * unit
    layer.visible = len(weight) <= MAX_VISIBLE_LINKS


def show_alignment(viewer, alignment, inputs=None) -> AlignmentLayers:
    """Create or replace all plugin layers for ``alignment`` (see the module docstring)."""
    return drain(show_alignment_steps(viewer, alignment, inputs))


def show_alignment_steps(viewer, alignment, inputs=None, *, prepared: Prepared | None = None, graphs_drawn=False):
    """``show_alignment`` in steps: a generator yielding after each piece of drawing (each a short
    slice of the GUI's event loop), returning the ``AlignmentLayers``. The drawing layers are
    reused in place (``drawing_layers_steps``). ``prepared``: ``prepare(alignment)`` made off the
    GUI thread; ``graphs_drawn``: the node and edge layers already hold these graphs (drawn while
    the layout ran), so only their final positions, regions and colours are set."""
    if prepared is None or prepared.alignment is not alignment:
        prepared = prepare(alignment)
    remove_roles(viewer, ("motifs", "selection", "input_selection"))
    layers = yield from drawing_layers_steps(viewer)
    names = tuple(getattr(alignment, "names", ("A", "B")))
    lay = alignment.layout
    if graphs_drawn:
        update_positions(layers, lay.pos_a, lay.pos_b)
        for side in ("a", "b"):
            nodes = getattr(layers, f"nodes_{side}")
            features = nodes.features.copy()
            features["region"], features["score"] = _node_regions(len(nodes.data), alignment.regions, side)
            nodes.features = features
        colour_nodes(layers, "region")
    else:
        draw_graphs(layers, alignment.graph_a, alignment.graph_b, lay.pos_a, lay.pos_b, names, regions=alignment.regions)
    yield
    _draw_links(layers.links, prepared.links, prepared.unit)
    yield
    yield from draw_bubbles_steps(layers, prepared.bubbles)
    layers.alignment = alignment
    layers.inputs = None if inputs is None else show_inputs_mosaic(viewer, inputs, beside=drawing_bbox(layers))
    if layers.inputs is None:
        remove_roles(viewer, ("inputs", "input_points"))
    elif layers.inputs.kind == "source":
        _paint_regions(layers.inputs, alignment.regions)
    fit_view(viewer, layers)
    return layers


def _layers_of(viewer_or_layers) -> dict:
    if isinstance(viewer_or_layers, AlignmentLayers):
        la = viewer_or_layers
        return {"nodes_a": la.nodes_a, "nodes_b": la.nodes_b, "edges_a": la.edges_a, "edges_b": la.edges_b, "links": la.links}
    return {role: find_layer(viewer_or_layers, role) for role in ("nodes_a", "nodes_b", "edges_a", "edges_b", "links")}


def update_positions(viewer_or_layers, pos_a, pos_b) -> None:
    """Move nodes, edges and links to new layout positions in place (no layer is re-created)."""
    found = _layers_of(viewer_or_layers)
    pa, pb = to_napari(pos_a), to_napari(pos_b)
    for side, pos in (("a", pa), ("b", pb)):
        nodes = found[f"nodes_{side}"]
        if nodes is None:
            raise ValueError("no TopoAlign node layers to move: show the graphs first (show_alignment)")
        if len(nodes.data) != len(pos):
            raise ValueError(
                f"graph {side.upper()} has {len(nodes.data)} nodes drawn but {len(pos)} positions were given; "
                "show the new graphs with show_graphs/show_alignment before moving them"
            )
        nodes.data = pos
        edges = found[f"edges_{side}"]
        if edges is not None and len(edges.data):
            f = edges.features
            edges.data = _edge_vectors(np.column_stack([f["source"], f["target"]]), pos)
    links = found["links"]
    if links is not None and len(links.data):
        f = links.features
        start = pa[f["node_a"].to_numpy()]
        links.data = np.stack([start, pb[f["node_b"].to_numpy()] - start], axis=1)


# ---------------------------------------------------------------------------- emphasis


def highlight_region(layers: AlignmentLayers, index: int | None) -> np.ndarray | None:
    """Emphasise region ``index`` in the bubbles layer (others fade); None resets all.

    Returns the region's world bbox ``[[row0, col0], [row1, col1]]`` (None when reset).
    """
    shapes, style = layers.bubbles, layers.bubble_style
    if shapes is None or shapes.nshapes == 0:
        return None
    region = shapes.features["region"].to_numpy()
    face, edge = style["face"].copy(), style["edge"].copy()
    width = np.full(len(region), style["width"])
    if index is not None:
        if not 0 <= index < len(layers.alignment.regions):
            raise IndexError(f"region {index} does not exist; there are {len(layers.alignment.regions)} regions")
        chosen = region == index
        bubble = shapes.features["part"].to_numpy() != "membrane"  # membranes never get an outline
        face[~chosen, 3] *= 0.3
        edge[~chosen & bubble, 3] = 0.3
        face[chosen, 3] = np.minimum(face[chosen, 3] * 1.5, 0.7)
        edge[chosen & bubble] = [1.0, 1.0, 1.0, 1.0]
        width[chosen] *= 2.5
    shapes.face_color = face
    shapes.edge_color = edge
    shapes.edge_width = width.tolist()
    if index is None:
        return None
    pts = np.concatenate([shapes.data[i] for i in np.flatnonzero(chosen)])
    return np.stack([pts.min(axis=0), pts.max(axis=0)])


def centre_on(viewer, bbox, margin: float = 0.15) -> None:
    """Centre the 2-D view on a world bbox ``[[row0, col0], [row1, col1]]`` and zoom to fit it."""
    bbox = np.asarray(bbox, dtype=float).reshape(2, 2)
    camera = camera_of(viewer)
    camera.center = tuple(bbox.mean(axis=0))
    extent = np.maximum(bbox[1] - bbox[0], 1e-9)
    camera.zoom = float((1 - margin) * np.min(_canvas_size(viewer) / extent))


def show_motifs(layers: AlignmentLayers, matches) -> Shapes:
    """Outline each motif instance (in A) and its counterpart (in B), coloured by status.

    ``matches``: ``MotifMatch`` objects (``.motif.nodes``, ``.motif.kind``, ``.counterpart``,
    ``.status``). Features per shape: match, kind, side, status.
    """
    from shapely.geometry import MultiPoint

    pad = 0.9 * layers.unit
    shapes, rows = [], []
    for side, nodes_layer in (("a", layers.nodes_a), ("b", layers.nodes_b)):
        pos = np.asarray(nodes_layer.data, dtype=float)
        for i, m in enumerate(matches):
            nodes = np.asarray(m.motif.nodes if side == "a" else m.counterpart, dtype=np.int64)
            if len(nodes) == 0:
                continue
            hull = MultiPoint(pos[nodes][:, ::-1] * [1, -1]).convex_hull.buffer(pad, quad_segs=4)
            for ring in _polygon_rings(hull, 0.05 * layers.unit):
                shapes.append(ring)
                rows.append((i, m.motif.kind, side, m.status))
    features = pd.DataFrame(rows, columns=["match", "kind", "side", "status"])
    edge = np.array([MOTIF_COLOURS[s] for s in features["status"]]).reshape(-1, 4)
    face = edge.copy()
    face[:, 3] = 0.12
    layer = Shapes(
        shapes, shape_type="polygon", name=f"{PREFIX} motifs", features=features,
        edge_width=0.25 * layers.unit, **({"edge_color": edge, "face_color": face} if len(shapes) else {}),
    )
    layers.motifs = put_layer(layers.viewer, layer, "motifs")
    return layer
