"""napari layers drawn from an ``Alignment`` (no algorithm here: everything comes from the core).

Coordinates: the layout's ``(x, y)`` becomes napari's ``(row, col) = (-y, x)`` (``to_napari``),
so the picture matches a y-up plot of the same layout; Bubble Sets, links and motif outlines
use the same conversion. Sizes and widths are in layout units, scaled by the typical
nearest-neighbour distance between nodes.

Every layer made here is named ``"TopoAlign ..."`` (``PREFIX``) and carries
``layer.metadata["topoalign"] = <role>`` (``ROLE_KEY``); re-running replaces the layer of the
same role at its place in the layer list and never touches the user's own layers.

API (called by the widgets):

- ``show_alignment(viewer, alignment, inputs=None) -> AlignmentLayers``: node ``Points`` and edge
  ``Vectors`` per graph (features node, size, lens, region, score; colour by region, matched
  across A and B, grey for none), correspondence links (``Vectors``, strongest link per node,
  hidden when there are more than ``MAX_VISIBLE_LINKS``), Bubble Sets + membranes (``Shapes``, under the graphs, each
  region's bubbles numbered by rank in its colour), and the inputs (``show_inputs_mosaic``)
  beside the graphs when ``inputs`` is given (input positions on a source image coloured by
  region). Stale plugin layers of a previous alignment (motifs, selections, and inputs when
  ``inputs`` has nothing to draw) are removed. The view is fitted to the drawing (``fit_view``).
- ``show_graphs(viewer, graph_a, graph_b, pos_a, pos_b, names=("A", "B"))``: the same node and
  edge layers before an alignment exists (e.g. to animate a layout while it runs).
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


def put_layer(viewer, layer, role: str):
    """Add ``layer`` with ``role``, replacing the plugin layer of the same role in place.

    The user's active layer stays active.
    """
    layer.metadata[ROLE_KEY] = role
    active = viewer.layers.selection.active
    old = find_layer(viewer, role)
    if old is None:
        viewer.add_layer(layer)
    else:
        index = viewer.layers.index(old)
        viewer.layers.remove(old)
        viewer.layers.insert(index, layer)
    if active is not None and active in viewer.layers:
        viewer.layers.selection.active = active
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
        image = _image_layer(source, scale, translate)
        size = max(source.shape[:2]) / 120.0
        points = Points(
            np.asarray(coords, dtype=np.float32), name=f"{PREFIX} input positions", size=size,
            face_color=[0.9, 0.9, 0.9, 0.7], border_width=0, scale=(scale, scale), translate=tuple(translate),
            features=pd.DataFrame({"input": np.arange(len(coords))}),
        )
        put_layer(viewer, image, "inputs")
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
    layer = put_layer(viewer, _image_layer(tiles, scale, translate), "inputs")
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


def _image_layer(data, scale, translate) -> Image:
    return Image(data, name=f"{PREFIX} inputs", scale=(scale, scale), translate=tuple(translate), **image_kwargs(data))


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


def _graph_layers(graph, pos, sizes, region, score, name, side, unit):
    nodes = Points(
        pos, name=f"{PREFIX} {name} nodes", size=sizes, border_width=0.08, border_color=[0.1, 0.1, 0.1, 1],
        features=pd.DataFrame(
            {
                "node": np.arange(graph.n_nodes),
                "size": np.fromiter((len(m) for m in graph.members), np.int64, graph.n_nodes),
                "lens": _node_lens(graph),
                "region": region,
                "score": score,
            }
        ),
    )
    edges = np.asarray(graph.edges, dtype=np.int64).reshape(-1, 2)
    weight = np.asarray(graph.edge_weight, dtype=float)
    kwargs = {"edge_color": _edge_colours(weight)} if len(edges) else {}
    vectors = Vectors(
        _edge_vectors(edges, pos), name=f"{PREFIX} {name} edges", edge_width=0.12 * unit,
        vector_style="line", features=pd.DataFrame({"source": edges[:, 0], "target": edges[:, 1], "jaccard": weight}),
        **kwargs,
    )
    return nodes, vectors


def show_graphs(viewer, graph_a, graph_b, pos_a, pos_b, names=("A", "B"), *, regions=()) -> AlignmentLayers:
    """Node and edge layers of both graphs at layout positions ``pos_a``, ``pos_b`` (shared frame)."""
    pa, pb = to_napari(pos_a), to_napari(pos_b)
    unit = _unit(pa, pb)
    sizes = _node_sizes(graph_a, graph_b, unit)
    made = []
    for graph, pos, size, name, side in ((graph_a, pa, sizes[0], names[0], "a"), (graph_b, pb, sizes[1], names[1], "b")):
        region, score = _node_regions(graph.n_nodes, regions, side)
        made.append(_graph_layers(graph, pos, size, region, score, name, side, unit))
    (nodes_a, edges_a), (nodes_b, edges_b) = made
    for layer, role in ((edges_a, "edges_a"), (edges_b, "edges_b"), (nodes_a, "nodes_a"), (nodes_b, "nodes_b")):
        put_layer(viewer, layer, role)
    layers = AlignmentLayers(viewer, None, nodes_a, nodes_b, edges_a, edges_b, unit)
    colour_nodes(layers, "region")
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


def _bubble_layer(alignment, unit) -> tuple[Shapes, dict]:
    """Bubble Sets and membranes, each region's bubbles numbered (rank, 1 = best) in its colour."""
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
    text = {"string": "{label}", "color": _lighter(edge) if len(shapes) > 1 else "white", "size": 14,
            "anchor": "upper_left"}
    layer = Shapes(
        shapes, shape_type="polygon", name=f"{PREFIX} bubbles", features=features,
        face_color=face if len(shapes) else "transparent", edge_color=edge if len(shapes) else "white",
        edge_width=style["width"], text=text if len(shapes) else None,
    )
    return layer, style


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


def show_alignment(viewer, alignment, inputs=None) -> AlignmentLayers:
    """Create or replace all plugin layers for ``alignment`` (see the module docstring)."""
    lay = alignment.layout
    remove_roles(viewer, ("motifs", "selection", "input_selection"))
    bubble_layer, style = _bubble_layer(alignment, _unit(to_napari(lay.pos_a), to_napari(lay.pos_b)))
    put_layer(viewer, bubble_layer, "bubbles")
    vectors, pairs, weight = _links(alignment.correspondence, to_napari(lay.pos_a), to_napari(lay.pos_b))
    colours = np.tile([1.0, 1.0, 1.0, 1.0], (len(weight), 1))
    colours[:, 3] = 0.1 + 0.5 * np.clip(weight, 0, 1)
    links = Vectors(
        vectors, name=f"{PREFIX} links", vector_style="line", visible=len(weight) <= MAX_VISIBLE_LINKS,
        features=pd.DataFrame({"node_a": pairs[:, 0], "node_b": pairs[:, 1], "jaccard": weight}),
        **({"edge_color": colours} if len(weight) else {}),
    )
    put_layer(viewer, links, "links")
    layers = show_graphs(
        viewer, alignment.graph_a, alignment.graph_b, lay.pos_a, lay.pos_b,
        tuple(getattr(alignment, "names", ("A", "B"))), regions=alignment.regions,
    )
    links.edge_width = 0.08 * layers.unit
    layers.alignment, layers.links, layers.bubbles, layers.bubble_style = alignment, links, bubble_layer, style
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
