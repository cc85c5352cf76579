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

- ``show_alignment(viewer, alignment, inputs=None, colour_by="region") -> AlignmentLayers``: node
  ``Points`` and edge ``Vectors`` per graph (features: ``node_stats.node_table``; A's nodes discs,
  B's squares, each side's outlines, edges and title in its hue ``SIDE_HUE``; B's panel
  ``PANEL_GAP`` × the extent right of A's or below it, whichever fits the canvas), panel titles
  (``"TopoAlign titles"``), correspondence links (``Vectors``, strongest link per node, hidden
  when there are more than ``MAX_VISIBLE_LINKS``), Bubble Sets + membranes (``Shapes``, under the
  graphs) with each region's number (rank) at its bubbles' visual centre (``"TopoAlign region
  numbers"``), a legend pinned to the canvas's top-left corner (``"TopoAlign legend"``), node
  descriptions on hover (``hover.NodeHover``), and the inputs (``show_inputs_mosaic``) beside the
  graphs when ``inputs`` is given (input positions on a source image coloured by region). Stale
  plugin layers of a previous alignment (motifs, selections, and inputs when ``inputs`` has
  nothing to draw) are removed. The view is fitted to the drawing (``fit_view``).
- ``show_alignment_steps(viewer, alignment, inputs, prepared=None, graphs_drawn=False)``: the same
  as a generator of short steps for a GUI that must not block; ``prepare(alignment, canvas_aspect,
  inputs)`` computes its heavy parts (Bubble Set polygons, links) in a worker;
  ``drawing_layers_steps(viewer)`` makes the drawing layers, each new layer added in one step and
  first painted in the next (``put_layer_steps``); ``empty_drawing(viewer)`` empties them.
- ``show_graphs(viewer, graph_a, graph_b, pos_a, pos_b, names=("A", "B"), **kwargs)`` /
  ``draw_graphs(layers, ...)``: the node and edge layers, titles, colouring and hover before an
  alignment exists (e.g. to animate a layout while it runs, or a preview after Build).
- ``update_positions(viewer_or_layers, pos_a, pos_b)``: moves nodes, edges, links and titles in
  place (sets ``.data`` only; cheap enough for a layout callback). Bubbles are not moved.
- ``colour_nodes(layers, by)``: colours both graphs by ``by``, one of ``colour_choices(layers)``
  ("region", an input column — dominant value paled by impurity, or numeric mean —, lens, size,
  strength, region score), and shows its legend (``show_legend``).
- ``highlight_region(layers, index) -> bbox`` emphasises one region's bubbles and membrane
  (``index=None`` resets); ``centre_on(viewer, bbox)`` centres and zooms the view on a bbox
  ``((row0, col0), (row1, col1))``; ``fit_view(viewer, layers)`` fits it to the plugin's drawing
  (``drawing_bbox``: nodes, titles, bubbles, inputs), ignoring other layers such as the hidden
  representation matrices, and keeps the legend's corner free; ``keep_in_view`` refits only when
  the drawing left the view or became small in it.
- ``show_motifs(layers, matches)``: a ``"TopoAlign motifs"`` ``Shapes`` layer outlining each
  motif instance in A and its counterpart in B, coloured by status (``MOTIF_COLOURS``), listed in
  the legend; ``focus_motif(layers, instance)`` shows one instance and its counterpart only and
  zooms to both.
- ``show_inputs_mosaic(viewer, inputs, *, beside=None) -> InputsView``: ``inputs.source_image``
  with a ``Points`` layer of ``inputs.coords``, else an image mosaic of ``inputs.images``,
  placed right of the ``beside`` bbox at its height or below it at its width (whichever fits
  the canvas); ``InputsView`` maps inputs <-> world positions.
"""

from __future__ import annotations

import string
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from napari.layers import Image, Points, Shapes, Vectors
from napari.utils.colormaps import ensure_colormap
from scipy.spatial import cKDTree

from ..node_stats import CATEGORICAL, colour_columns, feature_key, node_table
from ..regions import region_colours, region_of
from ._reader import INPUTS_KEY

PREFIX = "TopoAlign"
ROLE_KEY = "topoalign"
TEXT_STYLE_KEY = "topoalign_text_style"  # the text style a text layer was given (``_set_text``)

GREY = np.array([0.62, 0.62, 0.62, 1.0])
MOTIF_COLOURS = {
    "preserved": np.array([0.20, 0.90, 0.35, 1.0]),
    "broken": np.array([1.00, 0.60, 0.10, 1.0]),
    "absent": np.array([0.95, 0.20, 0.20, 1.0]),
}
#: Links are drawn but hidden by default above this many.
MAX_VISIBLE_LINKS = 60
#: Each graph's own look: node symbol, and the hue of its node outlines, edges and title.
SIDE_SYMBOL = {"a": "disc", "b": "square"}
SIDE_HUE = {"a": np.array([0.40, 0.72, 1.00, 1.0]), "b": np.array([1.00, 0.62, 0.28, 1.0])}
SIDE_MARK = {"a": "●", "b": "■"}
#: Gap between the side-by-side panels, as a fraction of the larger panel's extent.
PANEL_GAP = 0.15
#: Colours of categorical node values (dominant labels): Okabe–Ito, then lighter extras; cycled.
LABEL_PALETTE = np.array(
    [
        [0.90, 0.62, 0.00, 1.0], [0.34, 0.71, 0.91, 1.0], [0.00, 0.62, 0.45, 1.0], [0.94, 0.89, 0.26, 1.0],
        [0.00, 0.45, 0.70, 1.0], [0.84, 0.37, 0.00, 1.0], [0.80, 0.47, 0.65, 1.0], [0.95, 0.95, 0.95, 1.0],
        [0.60, 0.87, 0.54, 1.0], [0.99, 0.70, 0.80, 1.0], [0.70, 0.60, 0.95, 1.0], [0.55, 0.35, 0.20, 1.0],
    ]
)
#: Screen pixels kept free left of the drawing for the legend (when not on top of it).
LEGEND_ROOM_PX = 230.0
#: Text size (screen pixels) of titles, legend entries and region numbers.
TEXT_SIZE = {"title": 15, "legend": 12, "region": 14}


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


def canvas_aspect(viewer) -> float:
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
        with _controls_on_demand(viewer, old):
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
    _no_repaint_on_zoom(viewer, [layer])
    return layer


#: Yielded by a drawing step after which the canvas paints: a GUI running the steps starts the
#: next one only after that paint (``widgets.align._Stepper``).
PAINT_DUE = object()
#: Yielded by a drawing step after which the GUI's slice ends (the next step is a long one).
SLICE_END = object()


def put_layer_steps(viewer, layer, role: str, *, below=None):
    """``put_layer`` in steps (a generator returning ``layer``): the layer is added in one step
    and first painted after the next (a new layer's first paint compiles its shaders: 30-90 ms
    under software GL), so that the event loop runs in between. Where the canvas paints (it is
    shown and not frozen), it is frozen until the second step, which yields ``PAINT_DUE``."""
    yield SLICE_END  # adding a layer takes napari 40-120 ms: in a slice of its own
    native = getattr(qt_canvas(viewer), "native", None)
    freeze = native is not None and native.isVisible() and native.updatesEnabled()
    if freeze:
        native.setUpdatesEnabled(False)
    try:
        put_layer(viewer, layer, role, below=below)
        yield
    finally:
        if freeze:
            native.setUpdatesEnabled(True)
    yield PAINT_DUE if freeze else None
    return layer


def remove_roles(viewer, roles) -> None:
    """Remove the plugin layers with these roles (user layers are never touched)."""
    for layer in [la for la in viewer.layers if la.metadata.get(ROLE_KEY) in roles]:
        with _controls_on_demand(viewer, layer):
            viewer.layers.remove(layer)


class _ControlsByLayer(dict):
    """napari's controls panels by layer, making a panel the first time it is asked for."""

    def __init__(self, container, panels):
        super().__init__(panels)
        self.container = container

    def __missing__(self, layer):
        self.container._add(SimpleNamespace(value=layer))  # makes the panel and stores it here
        if layer not in self:  # napari made none (its dynamic controls setting)
            raise KeyError(layer)
        return dict.get(self, layer)


@contextmanager
def _controls_on_demand(viewer, removed=None):
    """Layers inserted in this block get their controls panel (sliders and buttons in the layer
    controls area) only when the user first selects them: napari makes it at once, 0.1-0.3 s under
    Xvfb, as each of its widgets' events passes napari's Python event filter, and the plugin's
    drawing layers are rarely selected. ``removed``: a layer removed in the block, whose panel is
    not made just to be deleted. Nothing changes when the controls area is not found (napari internals)."""
    container = getattr(qt_viewer(viewer), "controls", None)
    panels = getattr(container, "widgets", None)
    if not isinstance(panels, dict) or not hasattr(container, "_add") or not hasattr(container, "_remove"):
        yield
        return
    if not isinstance(panels, _ControlsByLayer):
        container.widgets = _ControlsByLayer(container, panels)
    events = viewer.layers.events
    with ExitStack() as stack:
        stack.enter_context(events.inserted.blocker(container._add))
        if removed is not None and removed not in container.widgets:
            stack.enter_context(events.removed.blocker(container._remove))
        yield


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


def _fitted_size(height: float, width: float, canvas_aspect: float) -> float:
    """How large a drawing of this height and width is once fitted to a canvas of this width /
    height: its larger side in canvas heights (smaller means drawn larger)."""
    return max(height, width / canvas_aspect)


def _beside(height: float, width: float, aspect_in: float, canvas_aspect: float) -> str:
    """Where the inputs' picture (width / height ``aspect_in``) goes next to the graphs' drawing
    of this height and width: "right" (at its height) or "below" (at its width), whichever lets
    the graphs be drawn larger once everything is fitted to the canvas."""
    gap = 0.05 * max(width, height)
    right = _fitted_size(height, width + gap + aspect_in * height, canvas_aspect)
    below = _fitted_size(height + gap + width / aspect_in, width, canvas_aspect)
    return "right" if right <= below else "below"


def _placement(shape, beside, canvas_aspect=1.0) -> tuple[float, np.ndarray]:
    """Scale and translate putting an image of ``shape`` (h, w) beside the bbox ``beside`` (the
    graphs): right of it at its height, top-aligned, or below it at its width, left-aligned
    (``_beside``), 5% of the bbox's larger side apart."""
    if beside is None:
        return 1.0, np.zeros(2)
    (r0, c0), (r1, c1) = np.asarray(beside, dtype=float)
    height, width = max(r1 - r0, 1e-6), max(c1 - c0, 1e-6)
    gap = 0.05 * max(width, height)
    if _beside(height, width, shape[1] / shape[0], canvas_aspect) == "right":
        scale, corner = height / shape[0], np.array([r0, c1 + gap])
    else:
        scale, corner = width / shape[1], np.array([r1 + gap, c0])
    return scale, corner + 0.5 * scale


def show_inputs_mosaic(viewer, inputs, *, beside=None) -> InputsView | None:
    """Draw the inputs: ``source_image`` with the ``coords`` marked, else a tile mosaic of
    ``inputs.images``.

    Returns None when the table has neither. ``beside``: a world bbox (the graphs) to place
    the drawing next to, at a comparable size (``_placement``).
    """
    return drain(inputs_steps(viewer, inputs, beside=beside))


def inputs_steps(viewer, inputs, *, beside=None):
    """``show_inputs_mosaic`` in steps (a generator returning the ``InputsView``): a new layer
    is added in a step of its own, and first painted in the next (``put_layer_steps``)."""
    aspect = canvas_aspect(viewer)
    source = getattr(inputs, "source_image", None)
    coords = getattr(inputs, "coords", None)
    if source is not None and coords is not None:
        source = np.asarray(source)
        scale, translate = _placement(source.shape[:2], beside, aspect)
        image = yield from _image_layer(viewer, source, scale, translate)
        size = max(source.shape[:2]) / 120.0
        points = yield from _input_points_layer(viewer, np.asarray(coords, dtype=np.float32), size, scale, translate)
        positions = translate + scale * np.asarray(coords, dtype=float)
        return InputsView("source", [image, points], scale, translate, positions, point_size=scale * size)
    images = getattr(inputs, "images", None)
    if images is None:
        return None
    images = np.asarray(images)
    tiles, grid = mosaic(images)
    h, w = images.shape[1:3]
    scale, translate = _placement(tiles.shape[:2], beside, aspect)
    layer = yield from _image_layer(viewer, tiles, scale, translate)
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


def _image_layer(viewer, data, scale, translate):
    """Steps returning the "inputs" image layer showing ``data``: the existing one moved into place
    when it already shows the same pixels (no new layer), else a new one replacing it."""
    old = find_layer(viewer, "inputs")
    if isinstance(old, Image) and old.data.shape == data.shape and np.array_equal(old.data, data):
        return _placed(old, scale, translate)
    layer = Image(data, name=f"{PREFIX} inputs", scale=(scale, scale), translate=tuple(translate), **image_kwargs(data))
    yield  # made in one step, added in the next
    return (yield from put_layer_steps(viewer, layer, "inputs"))


def set_visible(layer, visible: bool) -> None:
    """Show or hide ``layer`` when that changes it (napari refreshes the layer and updates the
    scene and the layer list on every setting, even an unchanged one)."""
    if layer.visible != bool(visible):
        layer.visible = bool(visible)


def _placed(layer, scale, translate):
    """``layer`` shown at this ``scale`` and ``translate``, refreshed once (napari re-slices the
    layer and remakes its thumbnail on each of the two settings); untouched when it is already there."""
    if layer.visible and np.array_equal(layer.scale, (scale, scale)) and np.array_equal(layer.translate, translate):
        return layer
    with layer._block_refresh():
        layer.scale, layer.translate = (scale, scale), tuple(translate)
    set_visible(layer, True)
    layer.refresh(thumbnail=False)
    return layer


def _input_points_layer(viewer, coords, size, scale, translate) -> Points:
    """The "input_points" layer marking ``coords`` on the source image: the existing one moved into
    place when it marks the same points (removing a layer costs napari a garbage collection),
    else a new one replacing it."""
    old = find_layer(viewer, "input_points")
    if isinstance(old, Points) and old.data.shape == coords.shape and np.array_equal(old.data, coords):
        return _placed(old, scale, translate)
    points = Points(coords, name=f"{PREFIX} input positions", size=size, face_color=[0.9, 0.9, 0.9, 0.7],
                    border_width=0, scale=(scale, scale), translate=tuple(translate),
                    features=pd.DataFrame({"input": np.arange(len(coords))}))
    yield
    return (yield from put_layer_steps(viewer, points, "input_points"))


# ---------------------------------------------------------------------------- graphs


@dataclass(eq=False)
class AlignmentLayers:
    """The plugin's layers for one alignment (``alignment`` is None for ``show_graphs``).

    ``graphs``, ``names`` and ``table`` (the ``InputTable`` or None) describe what is drawn;
    ``delta`` is the (row, col) shift setting graph B's panel apart from A's (``panel_delta``,
    by ``arrangement``);
    ``colour_by`` the active colouring and ``legend_entries`` its legend (``colour_nodes``).
    """

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
    graphs: tuple = ()
    names: tuple = ("A", "B")
    table: object = None
    delta: np.ndarray = field(default_factory=lambda: np.zeros(2))
    arrangement: str = "row"
    titles: Points | None = None
    legend: Points | None = None
    region_labels: Points | None = None
    colour_by: str = "region"
    legend_entries: list = field(default_factory=list, repr=False)
    hover: object = None

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






def _box(pos, size) -> np.ndarray:
    pos = np.asarray(pos, float).reshape(-1, 2)
    r = np.asarray(size, float).reshape(-1)[:, None] / 2
    return np.stack([(pos - r).min(axis=0), (pos + r).max(axis=0)])


def panel_delta(pa, pb, size_a, size_b, arrangement="row", offset=None) -> np.ndarray:
    """(row, col) added to graph B's napari positions to set its panel apart from A's.

    Only for side-by-side layouts (B's nodes all right of A's; overlay gives zeros). "row": B
    right of A, ``PANEL_GAP`` × the larger panel's extent apart (node discs included), rows
    unchanged. "column": B below A as far apart, back in A's frame along the columns (minus
    the layout's ``offset`` (x, y) when given, else B's centre under A's)."""
    pa, pb = np.asarray(pa, float).reshape(-1, 2), np.asarray(pb, float).reshape(-1, 2)
    if not len(pa) or not len(pb) or pb[:, 1].min() <= pa[:, 1].max():
        return np.zeros(2)
    box_a, box_b = _box(pa, size_a), _box(pb, size_b)
    gap = PANEL_GAP * max(float(np.ptp(pa, axis=0).max()), float(np.ptp(pb, axis=0).max()))
    if arrangement == "row":
        return np.array([0.0, box_a[1, 1] + gap - box_b[0, 1]])
    if arrangement != "column":
        raise ValueError(f"arrangement must be 'row' or 'column', got {arrangement!r}")
    back = float(offset[0]) if offset is not None else box_b[:, 1].mean() - box_a[:, 1].mean()
    return np.array([box_a[1, 0] + gap - box_b[0, 0], -back])


def choose_arrangement(pa, pb, size_a, size_b, canvas_aspect: float, inputs_aspect=None, offset=None) -> str:
    """"row" or "column" (``panel_delta``): whichever lets the graphs be drawn larger once the
    drawing, with the inputs beside it (``_beside``; ``inputs_aspect``: their width / height,
    None when there are none), is fitted to a canvas of this width / height."""
    best, best_size = "row", np.inf
    for arrangement in ("row", "column"):
        delta = panel_delta(pa, pb, size_a, size_b, arrangement, offset)
        if not delta.any():
            return "row"
        box = np.concatenate([_box(pa, size_a), _box(np.asarray(pb, float) + delta, size_b)])
        height, width = np.ptp(box, axis=0)
        if inputs_aspect is not None:
            gap = 0.05 * max(width, height)
            if _beside(height, width, inputs_aspect, canvas_aspect) == "right":
                width += gap + inputs_aspect * height
            else:
                height += gap + width / inputs_aspect
        size = _fitted_size(height, width, canvas_aspect)
        if size < best_size:
            best, best_size = arrangement, size
    return best


def _inputs_aspect(inputs):
    """Width / height of the inputs' picture (source image or mosaic), None without one."""
    source = getattr(inputs, "source_image", None)
    if source is not None and getattr(inputs, "coords", None) is not None:
        return source.shape[1] / source.shape[0]
    images = getattr(inputs, "images", None)
    if images is None:
        return None
    n, h, w = np.asarray(images).shape[:3]
    cols = int(np.ceil(np.sqrt(n)))
    return cols * w / (int(np.ceil(n / cols)) * h)

def _edge_vectors(edges, pos) -> np.ndarray:
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    start = pos[edges[:, 0]]
    return np.stack([start, pos[edges[:, 1]] - start], axis=1)


def _edge_colours(weight, side) -> np.ndarray:
    """Edges in a pale version of the side's hue, more opaque for a larger Jaccard weight."""
    w = np.clip(np.asarray(weight, dtype=float), 0, 1)
    colours = np.tile(0.45 * np.array([0.85, 0.85, 0.85, 1.0]) + 0.55 * SIDE_HUE[side], (len(w), 1))
    colours[:, 3] = 0.35 + 0.65 * w
    return colours


#: The plugin's drawing layers, bottom to top, made once per viewer and then updated in place
#: (adding a layer costs napari 0.1-0.8 s on the GUI thread, removing one a full gc.collect).
DRAWING_ROLES = ("bubbles", "links", "edges_a", "edges_b", "nodes_a", "nodes_b", "region_labels", "titles", "legend")
#: The drawing layers that only show text (``text_layer``): their names and text sizes.
_TEXT_ROLES = {"region_labels": ("region numbers", "region"), "titles": ("titles", "title"), "legend": ("legend", "legend")}
_NODE_COLUMNS = ("node", "size", "lens", "region", "score")


def _empty_layer(role: str):
    """An empty layer for ``role`` with its features' columns, to be filled by ``draw_graphs`` & co."""
    empty = np.zeros((0, 2))
    if role in _TEXT_ROLES:
        name, size = _TEXT_ROLES[role]
        return text_layer(empty, [], [], f"{PREFIX} {name}", TEXT_SIZE[size])
    if role.startswith("nodes"):
        features = pd.DataFrame({c: np.zeros(0, float if c in ("lens", "score") else np.int64) for c in _NODE_COLUMNS})
        side = role[-1]
        return Points(empty, name=f"{PREFIX} {side.upper()} nodes", symbol=SIDE_SYMBOL[side], border_width=0.12,
                      border_color=SIDE_HUE[side], features=features)
    if role.startswith("edges") or role == "links":
        columns = ("source", "target", "jaccard") if role != "links" else ("node_a", "node_b", "jaccard")
        features = pd.DataFrame({c: np.zeros(0, float if c == "jaccard" else np.int64) for c in columns})
        return Vectors(np.zeros((0, 2, 2)), name=f"{PREFIX} {role}", vector_style="line", features=features)
    features = pd.DataFrame({"region": np.zeros(0, np.int64), "part": np.zeros(0, object), "score": np.zeros(0)})
    return Shapes(name=f"{PREFIX} bubbles", features=features)


def drawing_layers_steps(viewer):
    """The plugin's drawing layers (``DRAWING_ROLES``) in ``viewer``: the existing ones, and empty
    new ones where missing, one per step (a generator; returns the ``AlignmentLayers``)."""
    yield from glyph_steps(text_font(viewer))  # first: an empty text layer's first paint measures line heights
    found = {}
    for role in DRAWING_ROLES:
        layer = find_layer(viewer, role)
        if layer is None or not isinstance(layer, _KIND[role]):
            layer = yield from put_layer_steps(viewer, _empty_layer(role), role)
        found[role] = layer
    keep_mesh_shaders(viewer, found.values())
    # ``put_layer`` guards the plugin's layers; the inputs tables it opened are napari's (hidden, still updated)
    _no_repaint_on_zoom(viewer, [layer for layer in viewer.layers if INPUTS_KEY in layer.metadata])
    return AlignmentLayers(viewer, None, found["nodes_a"], found["nodes_b"], found["edges_a"], found["edges_b"], 1.0,
                           links=found["links"], bubbles=found["bubbles"], titles=found["titles"],
                           legend=found["legend"], region_labels=found["region_labels"])


def qt_viewer(viewer):
    """The viewer's Qt side (``window._qt_viewer``: its canvas and layer list; napari internals),
    or None for a viewer without a window."""
    return getattr(getattr(viewer, "window", None), "_qt_viewer", None)


def qt_canvas(viewer):
    """The viewer's vispy canvas (napari's ``VispyCanvas``: internals), or None without a window."""
    return getattr(qt_viewer(viewer), "canvas", None)


def _layer_visuals(viewer) -> dict:
    """napari's vispy layer of each layer (empty without a window; napari internals)."""
    return getattr(qt_canvas(viewer), "layer_to_visual", {})


def keep_mesh_shaders(viewer, layers) -> None:
    """Let the vispy meshes of these layers (Vectors, Shapes) keep their colour shader function
    across data updates. vispy's MeshVisual makes a new one on every ``set_data``, so each move
    of the edges recompiled the GL program (~15-20 ms per layer per frame under software GL);
    the function for RGBA colours is the same code every time, so it is made once per mesh.
    Nothing when napari's visuals are not found (napari internals)."""
    from vispy.visuals import MeshVisual

    visuals = _layer_visuals(viewer)
    for layer in layers:
        node = getattr(visuals.get(layer), "node", None)
        for mesh in [node, *getattr(node, "_subvisuals", [])]:
            if isinstance(mesh, MeshVisual) and "_build_color_transform" not in vars(mesh):
                mesh._build_color_transform = _color_transform_once(mesh)


def _no_repaint_on_zoom(viewer, layers) -> None:
    """napari's Points and Shapes visuals reset their text and their Points' selection highlight on
    every zoom change and ask for a repaint, so each change of the view was painted twice. For these
    layers they do it only when the text scales with the zoom (``text.scaling``, off in the
    plugin's layers) and while points are selected or hovered, or were at the last reset
    (napari internals; nothing for a visual not found)."""
    visuals = _layer_visuals(viewer)
    for layer in layers:
        visual = visuals.get(layer)
        if visual is None or "_zoom_guarded" in vars(visual):
            continue
        visual._zoom_guarded = True
        update = getattr(visual, "_update_text", None)
        if update is not None:
            layer.events.scale_factor.disconnect(update)
            visual._text_when_scaled = _text_when_scaled(layer, update)
            layer.events.scale_factor.connect(visual._text_when_scaled)
        highlight = getattr(visual, "_on_highlight_change", None)
        if isinstance(layer, Points) and highlight is not None:
            layer.events.highlight.disconnect(highlight)
            visual._highlight_when_shown = _highlight_when_shown(layer, highlight)
            layer.events.highlight.connect(visual._highlight_when_shown)


def _text_when_scaled(layer, update_text):
    """``update_text`` (the visual's) called only while ``layer``'s text scales with the zoom."""

    def on_zoom(event=None):
        if layer.text.scaling:
            update_text()

    return on_zoom


def _highlight_when_shown(layer, highlight):
    """``highlight`` (the visual's) called while ``layer`` has selected or hovered points or a drag
    box, and once more after (to clear them)."""
    shown = [True]

    def on_highlight(event=None):
        now = bool(len(layer.selected_data)) or layer._value is not None or layer._drag_box is not None
        if now or shown[0]:
            highlight()
        shown[0] = now

    return on_highlight


def _color_transform_once(mesh):
    """``mesh._build_color_transform`` returning one Function for RGBA colours (a colormap's,
    for scalar values, is made anew as vispy does: it holds the colour limits)."""
    build = type(mesh)._build_color_transform
    made = []

    def color_transform(colors):
        if colors.ndim == 2 and colors.shape[1] == 1:
            return build(mesh, colors)
        if not made:
            made.append(build(mesh, colors))
        return made[0]

    return color_transform


#: Characters whose glyphs ``glyph_steps`` renders ahead of the first drawing of text.
GLYPHS = (string.ascii_letters + string.digits + " .,:;-_()[]/%+#&'\"=<>×–—…·" + "".join(SIDE_MARK.values())
          + "ÅÉÑŐ")  # the last: napari's text visuals measure line heights with them
_GLYPHS_PER_STEP = 2


def text_font(viewer):
    """The font of napari's text visuals on ``viewer``'s canvas, or None where it is not found
    (napari internals)."""
    info = getattr(qt_canvas(viewer), "_font_info", None)
    manager = getattr(info, "font_manager", None)
    return None if manager is None else manager.get_font(info.face, False, False)


def glyph_steps(font):
    """Steps rendering the glyphs of ``GLYPHS`` that ``font`` (``text_font``; None: no steps) has
    not rendered yet, a few per step. napari renders a glyph (a distance field, in Python) the
    first time a text visual draws it, ~10 ms each: the first drawing of titles, legend and region
    numbers would otherwise stall in one paint."""
    rendered = getattr(font, "_glyphs", None)
    missing = [] if rendered is None else [char for char in GLYPHS if char not in rendered]
    for i in range(0, len(missing), _GLYPHS_PER_STEP):
        for char in missing[i : i + _GLYPHS_PER_STEP]:
            font[char]  # a glyph rendered meanwhile (the dock renders them while idle) is not rendered again
        yield


_KIND = {role: Points if role.startswith("nodes") or role in _TEXT_ROLES else Shapes if role == "bubbles" else Vectors
         for role in DRAWING_ROLES}


def _empty(layer) -> None:
    if isinstance(layer, Shapes):
        if layer.nshapes:
            layer.data = []
    elif len(layer.data):
        layer.data = np.zeros((0, 2) if isinstance(layer, Points) else (0, 2, 2))


def empty_drawing(viewer) -> None:
    """Empty the plugin's drawing layers in place (nothing aligned to show)."""
    for role in DRAWING_ROLES:
        layer = find_layer(viewer, role)
        if layer is not None:
            _empty(layer)


def clear_alignment_marks(layers: AlignmentLayers) -> None:
    """Empty the Bubble Sets, links and region numbers of the alignment drawn before (while new
    graphs are shown). Emptied, not hidden: each change of a layer's visibility costs napari an
    update of the whole scene graph (~10 ms), and the next drawing fills them in place."""
    for layer in (layers.bubbles, layers.links, layers.region_labels):
        if layer is not None:
            _empty(layer)


def drain(steps):
    """Run a generator of drawing steps to its end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def draw_graphs(layers: AlignmentLayers, graph_a, graph_b, pos_a, pos_b, names=("A", "B"), **kwargs) -> None:
    """``draw_graphs_steps`` run to its end."""
    drain(draw_graphs_steps(layers, graph_a, graph_b, pos_a, pos_b, names, **kwargs))


def draw_graphs_steps(layers: AlignmentLayers, graph_a, graph_b, pos_a, pos_b, names=("A", "B"), *, regions=(),
                      inputs=None, correspondence=None, colour_by="region", arrangement=None, offset=None,
                      node_tables=None):
    """Put both graphs into the node and edge layers (in place) at layout positions ``pos_a``,
    ``pos_b`` (shared frame), with panel titles, the colouring ``colour_by`` and its legend, and
    node descriptions on hover (``hover.NodeHover``).

    Node ``features`` are ``node_stats.node_table`` (size, lens, region, counterpart, the dominant
    value and purity of each categorical input column of ``inputs``, the mean of each numeric one;
    ``node_tables``: A's and B's when already made, e.g. by ``prepare``).
    Side by side, B's panel goes right of A's or below it (``arrangement`` "row" or "column"; None:
    whichever fits the canvas best, ``choose_arrangement``), ``PANEL_GAP`` apart (``panel_delta``;
    ``offset``: the layout's panel offset when known). Nodes of A are discs, of B squares, each
    side's outlines and edges in its hue (``SIDE_HUE``). A generator: it yields after each
    layer, so that each piece is a short slice of the GUI's event loop.
    """
    from .hover import NodeHover

    viewer = layers.viewer
    pa, pb = to_napari(pos_a), to_napari(pos_b)
    unit = _unit(pa, pb)
    sizes = _node_sizes(graph_a, graph_b, unit)
    if arrangement is None:
        arrangement = choose_arrangement(pa, pb, *sizes, canvas_aspect(viewer), _inputs_aspect(inputs), offset)
    delta = panel_delta(pa, pb, *sizes, arrangement, offset)
    pb = pb + delta
    for k, (graph, pos, size, name, side) in enumerate(((graph_a, pa, sizes[0], names[0], "a"),
                                                        (graph_b, pb, sizes[1], names[1], "b"))):
        nodes, vectors = getattr(layers, f"nodes_{side}"), getattr(layers, f"edges_{side}")
        nodes.data = pos
        nodes.features = node_tables[k] if node_tables else node_table(
            graph, inputs, side=side, correspondence=correspondence, regions=regions)
        if len(pos):
            nodes.size = size
            nodes.symbol = SIDE_SYMBOL[side]
            nodes.border_color = SIDE_HUE[side]
            nodes.border_width = 0.12
        nodes.name = f"{PREFIX} {side.upper()} nodes: {name}"
        yield
        edges = np.asarray(graph.edges, dtype=np.int64).reshape(-1, 2)
        weight = np.asarray(graph.edge_weight, dtype=float)
        vectors.data = _edge_vectors(edges, pos)
        vectors.features = pd.DataFrame({"source": edges[:, 0], "target": edges[:, 1], "jaccard": weight})
        if len(edges):
            vectors.edge_color = _edge_colours(weight, side)
        vectors.edge_width = 0.12 * unit
        vectors.name = f"{PREFIX} {side.upper()} edges: {name}"
        yield
    layers.nodes_b.metadata["arrangement"] = arrangement
    layers.unit, layers.delta, layers.arrangement = unit, delta, arrangement
    layers.graphs, layers.names, layers.table = (graph_a, graph_b), tuple(names), inputs
    layers.titles = _put_titles(layers)
    yield
    colour_nodes(layers, colour_by)
    layers.hover = NodeHover(viewer, layers)


def show_graphs(viewer, graph_a, graph_b, pos_a, pos_b, names=("A", "B"), **kwargs) -> AlignmentLayers:
    """Node and edge layers of both graphs at layout positions ``pos_a``, ``pos_b`` (shared frame);
    ``kwargs`` as for ``draw_graphs``."""
    layers = drain(drawing_layers_steps(viewer))
    draw_graphs(layers, graph_a, graph_b, pos_a, pos_b, names, **kwargs)
    return layers


def text_layer(positions, strings, colours, name, size, anchor="center") -> Points:
    """A Points layer that shows only text: ``strings[i]`` at ``positions[i]`` in ``colours[i]``."""
    layer = Points(np.zeros((0, 2)), name=name, size=1e-6, face_color="transparent", border_width=0,
                   canvas_size_limits=(0, 1))
    _set_text(layer, positions, strings, colours, size, anchor)
    return layer


def _set_text(layer, positions, strings, colours, size, anchor) -> None:
    """Show the text; the layer's text style is set only when it changes (napari rebuilds its
    text manager on each setting, ~10 ms; new features alone refresh the strings and colours)."""
    positions = np.asarray(positions, dtype=float).reshape(-1, 2)
    colours = np.asarray(colours, dtype=float).reshape(-1, 4)
    layer.data = positions
    layer.features = pd.DataFrame({"text": list(strings), "colour": list(colours)})
    style = {"string": "{text}", "color": {"feature": "colour"}, "size": size, "anchor": anchor}
    if len(positions) and layer.metadata.get(TEXT_STYLE_KEY) != style:
        layer.text = style
        layer.metadata[TEXT_STYLE_KEY] = style


def put_text(viewer, role, positions, strings, colours, name, size, anchor="center") -> Points:
    """The text layer of ``role`` showing these strings: the existing one updated in place (adding a
    layer costs napari a GUI slice), else a new ``text_layer``."""
    old = find_layer(viewer, role)
    if isinstance(old, Points):
        _set_text(old, positions, strings, colours, size, anchor)
        old.name = name
        return old
    return put_layer(viewer, text_layer(positions, strings, colours, name, size, anchor), role)


def _panel_boxes(layers) -> list[np.ndarray]:
    """World bboxes ``[[row0, col0], [row1, col1]]`` of each graph's nodes (empty graph: a unit box)."""
    boxes = []
    for nodes in (layers.nodes_a, layers.nodes_b):
        if len(nodes.data):
            r = np.asarray(nodes.size, dtype=float).reshape(len(nodes.data), -1)[:, :1] / 2
            boxes.append(np.stack([(nodes.data - r).min(axis=0), (nodes.data + r).max(axis=0)]))
        else:
            boxes.append(np.array([[0.0, 0.0], [1.0, 1.0]]))
    return boxes


def _title_positions(layers) -> np.ndarray:
    """Above each panel's centre (side by side), or above the left and right thirds of the
    drawing (overlay), ``2 * unit`` over the topmost node."""
    box_a, box_b = _panel_boxes(layers)
    tops = np.array([box_a[0, 0], box_b[0, 0]]) - 2 * layers.unit
    if not layers.delta.any():
        lo, hi = min(box_a[0, 1], box_b[0, 1]), max(box_a[1, 1], box_b[1, 1])
        cols = [lo + (hi - lo) / 4, lo + 3 * (hi - lo) / 4]
    else:
        cols = [box_a[:, 1].mean(), box_b[:, 1].mean()]
    if layers.arrangement == "row" or not layers.delta.any():
        tops[:] = tops.min()
    return np.column_stack([tops, cols])


def _title_strings(layers) -> list[str]:
    return [f"{SIDE_MARK[s]} {s.upper()}: {n}" for s, n in zip("ab", layers.names)]


def _put_titles(layers) -> Points:
    colours = [SIDE_HUE["a"], SIDE_HUE["b"]]
    return put_text(layers.viewer, "titles", _title_positions(layers), _title_strings(layers), colours,
                    f"{PREFIX} titles", TEXT_SIZE["title"])


def _move_titles(layers) -> None:
    if layers.titles is not None and layers.titles in layers.viewer.layers:
        with _moving(layers.viewer, [layers.titles]) as move:
            move(layers.titles, _title_positions(layers))


def _legend_positions(viewer, n: int) -> np.ndarray:
    """World positions of ``n`` legend lines at the canvas's top-left corner, one text line apart."""
    zoom = max(float(camera_of(viewer).zoom), 1e-12)
    rect = visible_rect(viewer)
    step = 1.5 * TEXT_SIZE["legend"] / zoom
    top_left = rect[0] + np.array([0.6, 0.4]) * step
    return np.column_stack([top_left[0] + step * np.arange(n), np.full(n, top_left[1])])


def show_legend(layers, entries=None) -> Points:
    """The legend as text pinned to the canvas's top-left corner (it follows pan and zoom), one
    entry per line: ``entries`` [(text, rgba)] (default: the active colouring's and, when motifs
    are shown, their statuses)."""
    if entries is None:
        entries = list(layers.legend_entries) + _motif_legend(layers)
    viewer = layers.viewer
    layer = put_text(viewer, "legend", _legend_positions(viewer, len(entries)), [t for t, _ in entries],
                     [c for _, c in entries], f"{PREFIX} legend", TEXT_SIZE["legend"], anchor="lower_left")
    layers.legend = layer
    if not layer.metadata.get("follows_camera"):
        layer.metadata["follows_camera"] = True
        camera = camera_of(viewer)

        def follow(*_):
            if layer not in viewer.layers:  # removed: stop following
                camera.events.center.disconnect(follow)
                camera.events.zoom.disconnect(follow)
            elif len(layer.data):
                with _moving(viewer, [layer]) as move:
                    move(layer, _legend_positions(viewer, len(layer.data)))

        camera.events.center.connect(follow)
        camera.events.zoom.connect(follow)
    return layer


def _motif_legend(layers) -> list:
    if layers.motifs is None or layers.motifs not in layers.viewer.layers or not len(layers.motifs.features):
        return []
    f = layers.motifs.features
    shown = f.drop_duplicates("match")
    kind = str(shown["kind"].iloc[0])
    entries = [(f"{kind} motifs (outlined in A and B):", np.array([0.9, 0.9, 0.9, 1.0]))]
    for status, colour in MOTIF_COLOURS.items():
        n = int((shown["status"] == status).sum())
        if n:
            entries.append((f"{status} ({n})", colour))
    return entries


def colour_choices(layers) -> dict[str, str]:
    """What nodes can be coloured by: "region", each input column (categorical or numeric,
    ``node_stats.colour_columns``), then the numeric node statistics lens, size, strength (best
    counterpart's Jaccard) and score (the node's region's score)."""
    out = {"region": CATEGORICAL}
    for name, kind in colour_columns(layers.table).items():
        out[feature_key(name)] = kind
    out.update({"lens": "numeric", "size": "numeric", "strength": "numeric", "score": "numeric"})
    return out


def _mix(colours, weight, base=GREY) -> np.ndarray:
    """``colours`` mixed with ``base``: weight 1 keeps the colour, 0 gives ``base``."""
    w = np.clip(np.nan_to_num(np.asarray(weight, dtype=float), nan=1.0), 0, 1)[:, None]
    out = base * (1 - w) + np.asarray(colours, dtype=float) * w
    out[:, 3] = 1.0
    return out


def colour_nodes(layers: AlignmentLayers, by: str = "region") -> list:
    """Colour both graphs' nodes by ``by`` (``colour_choices``) and show its legend.

    "region": matched region colours, grey for none. A categorical column: the node's dominant
    value (one colour per value, the same in A and B), paler towards grey the less pure the
    node. A numeric column or statistic: its node mean through viridis over both graphs' range;
    NaN grey. Returns the legend entries [(text, rgba)].
    """
    nodes_layers = (layers.nodes_a, layers.nodes_b)
    if any(by not in n.features.columns for n in nodes_layers):
        raise ValueError(f"cannot colour by {by!r}; choose one of {list(colour_choices(layers))}")
    if by == "region":
        colours, entries = _region_colouring(layers, nodes_layers)
    elif not pd.api.types.is_numeric_dtype(nodes_layers[0].features[by]):
        colours, entries = _category_colouring(by, nodes_layers)
    else:
        colours, entries = _numeric_colouring(by, nodes_layers, STATISTIC_TITLES.get(by, f"{by} (node mean)"))
    for nodes, colour in zip(nodes_layers, colours):
        if len(nodes.data):
            nodes.face_color = colour
    layers.colour_by, layers.legend_entries = by, entries
    show_legend(layers)
    return entries


def _region_colouring(layers, nodes_layers):
    colours = []
    for nodes in nodes_layers:
        values = nodes.features["region"].to_numpy()
        colours.append(np.where((values >= 0)[:, None], region_colours(np.maximum(values, 0)), GREY))
    regions = getattr(layers.alignment, "regions", ())
    entries = [("colour: matching region (score)", np.array([0.9, 0.9, 0.9, 1.0]))]
    entries += [(f"region {i + 1} ({float(r.score):.2f})", region_colours([i])[0]) for i, r in enumerate(regions[:9])]
    if len(regions) > 9:
        entries.append((f"… {len(regions) - 9} more", np.array([0.9, 0.9, 0.9, 1.0])))
    entries.append(("in no region", GREY))
    return colours, entries


def _category_colouring(by, nodes_layers):
    both = pd.concat([n.features[[by, "size"]] for n in nodes_layers])
    both = both[both[by] != ""]
    order = both.groupby(by)["size"].sum().sort_values(ascending=False, kind="stable").index.tolist()
    palette = {v: LABEL_PALETTE[i % len(LABEL_PALETTE)] for i, v in enumerate(order)}
    colours = []
    for nodes in nodes_layers:
        f = nodes.features
        base = np.array([palette.get(v, GREY) for v in f[by]]).reshape(-1, 4)
        purity = f[f"{by}_purity"].to_numpy() if f"{by}_purity" in f.columns else np.ones(len(f))
        colours.append(_mix(base, purity))
    entries = [(f"colour: most common {by} (paler = mixed)", np.array([0.9, 0.9, 0.9, 1.0]))]
    entries += [(str(v), palette[v]) for v in order[:12]]
    if len(order) > 12:
        entries.append((f"… {len(order) - 12} more (colours repeat)", np.array([0.9, 0.9, 0.9, 1.0])))
    return colours, entries


#: Legend titles of the numeric node statistics (input columns read "<name> (node mean)").
STATISTIC_TITLES = {"lens": "lens (node mean)", "size": "inputs per node", "strength": "best counterpart's Jaccard",
                    "score": "score of the node's region"}


def _numeric_colouring(by, nodes_layers, title):
    cmap = ensure_colormap("viridis")
    both = np.concatenate([np.asarray(n.features[by], float) for n in nodes_layers])
    finite = both[np.isfinite(both)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    colours = []
    for nodes in nodes_layers:
        values = np.asarray(nodes.features[by], dtype=float)
        t = (values - lo) / (hi - lo) if hi > lo else np.full(len(values), 0.5)
        c = cmap.map(np.nan_to_num(t, nan=0.0)).reshape(-1, 4)
        c[~np.isfinite(values)] = GREY
        colours.append(c)
    entries = [(f"colour: {title}", np.array([0.9, 0.9, 0.9, 1.0]))]
    for t in (1.0, 0.75, 0.5, 0.25, 0.0):
        entries.append((f"{lo + t * (hi - lo):.3g}", cmap.map(np.array([t]))[0]))
    if not np.isfinite(both).all():
        entries.append(("no value", GREY))
    return colours, entries


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
    (napari coordinates), ``features`` (region, part, score), ``style`` (face, edge, width) and
    the region numbers (rank, 1 = best): ``label_positions`` (each bubble's visual centre) and
    ``label_regions``."""

    rings: list
    features: pd.DataFrame
    style: dict
    label_positions: np.ndarray
    label_regions: np.ndarray


def _shifted_bubbles(alignment, delta) -> list:
    """``alignment.bubbles()`` with B's bubbles moved by the panel ``delta`` (napari (row, col))
    and the membranes rebuilt between the moved bubbles."""
    bubbles = alignment.bubbles()
    if not np.any(delta):
        return bubbles
    from shapely.affinity import translate

    from ..bubbles import membrane

    out = []
    for poly_a, poly_b, _ in bubbles:
        moved = translate(poly_b, xoff=float(delta[1]), yoff=-float(delta[0]))
        out.append((poly_a, moved, membrane(poly_a, moved)))
    return out


def bubble_parts(alignment, unit, delta=(0.0, 0.0)) -> BubbleParts:
    """Bubble Sets and membranes of ``alignment`` (B's moved by the panel ``delta``) as
    ``BubbleParts``; each bubble's number goes to the pole of inaccessibility of its largest part
    (its visual centre). numpy and shapely only: safe off the GUI thread."""
    from shapely.geometry import Polygon
    from shapely.ops import polylabel

    shapes, rows, label_pos, label_region = [], [], [], []
    for part, k in (("membrane", 2), ("a", 0), ("b", 1)):  # membranes first: drawn underneath
        for r, triple in enumerate(_shifted_bubbles(alignment, delta)):
            rings = _polygon_rings(triple[k], 0.03 * unit)
            for ring in rings:
                shapes.append(ring)
                rows.append((r, part, float(alignment.regions[r].score)))
            if part != "membrane" and rings:
                largest = Polygon(rings[int(np.argmax([_ring_area(ring) for ring in rings]))])
                centre = polylabel(largest, tolerance=0.02 * unit) if largest.is_valid else largest.representative_point()
                label_pos.append([centre.x, centre.y])
                label_region.append(r)
    features = pd.DataFrame(rows, columns=["region", "part", "score"]).astype({"region": np.int64})
    region = features["region"].to_numpy()
    edge = region_colours(region)
    face = edge.copy()
    membrane = features["part"].to_numpy() == "membrane"
    face[:, 3] = np.where(membrane, 0.12, 0.45)  # membranes: a faint band without outline, as in the report
    edge[membrane, 3] = 0.0
    style = {"face": face, "edge": edge, "width": 0.15 * unit}
    return BubbleParts(shapes, features, style, np.asarray(label_pos, dtype=float).reshape(-1, 2),
                       np.asarray(label_region, dtype=np.int64))


def _put_region_numbers(viewer, parts: BubbleParts) -> Points:
    """The region numbers as a text layer, each in its region's colour lightened."""
    regions = parts.label_regions
    colours = _lighter(region_colours(regions)) if len(regions) else np.zeros((0, 4))
    layer = put_text(viewer, "region_labels", parts.label_positions, [str(r + 1) for r in regions], colours,
                     f"{PREFIX} region numbers", TEXT_SIZE["region"])
    layer.features["region"] = regions
    set_visible(layer, True)
    return layer


#: Polygons added to the bubbles layer per GUI slice (napari triangulates them as they are added).
BUBBLES_PER_STEP = 4


def draw_bubbles_steps(layers: AlignmentLayers, parts: BubbleParts):
    """Replace the bubbles layer's polygons with ``parts``, ``BUBBLES_PER_STEP`` per step (a
    generator; the layer stays shown: while the canvas is frozen, the polygons appear whole)."""
    shapes = layers.bubbles
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
    set_visible(shapes, True)
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
    size), panel titles, Bubble Sets and the inputs drawn beside the graphs (when visible)."""
    corners = []
    for nodes in (layers.nodes_a, layers.nodes_b):
        if len(nodes.data):
            r = np.asarray(nodes.size, dtype=float).reshape(len(nodes.data), -1)[:, :1] / 2
            corners += [(nodes.data - r).min(axis=0), (nodes.data + r).max(axis=0)]
    if layers.titles is not None and layers.titles.visible and len(layers.titles.data):
        corners += [layers.titles.data.min(axis=0) - layers.unit, layers.titles.data.max(axis=0)]
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


def fit_view(viewer, layers, margin: float = 0.1, box=None) -> None:
    """Centre and zoom the view on the plugin's drawing (``drawing_bbox``; or on ``box``),
    whatever else is loaded, keeping the legend's corner free: a strip on top or
    ``LEGEND_ROOM_PX`` on the left, whichever leaves the drawing larger (neither when it would
    take over 30% of the canvas)."""
    box = drawing_bbox(layers) if box is None else np.asarray(box, dtype=float).reshape(2, 2)
    lines = len(layers.legend.data) if layers.legend is not None and layers.legend.visible else 0
    if not lines:
        centre_on(viewer, box, margin)
        return
    canvas = _canvas_size(viewer)
    extent = np.maximum(box[1] - box[0], 1e-9)
    options = []
    for room in (np.array([(lines + 1) * 1.5 * TEXT_SIZE["legend"], 0.0]), np.array([0.0, LEGEND_ROOM_PX])):
        free = canvas - room
        if (room <= 0.3 * canvas).all():  # on a small canvas the legend may cover the drawing instead
            options.append(((1 - margin) * float(np.min(free / extent)), tuple(room)))
    if not options:
        centre_on(viewer, box, margin)
        return
    zoom, room = max(options)
    camera = camera_of(viewer)
    camera.center = tuple(box.mean(axis=0) - np.asarray(room) / (2 * zoom))
    camera.zoom = zoom


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
    arrangement: str = "row"
    node_tables: tuple = ()  # node_stats.node_table of graph A and of graph B


def prepare(alignment, canvas_aspect: float = 1.0, inputs=None) -> Prepared:
    """Bubble Sets, correspondence links and node tables of ``alignment`` ready to draw, with B's
    panel placed for a canvas of this width / height (``choose_arrangement``; ``inputs`` drawn
    beside). numpy, pandas and shapely only: safe in a worker."""
    lay = alignment.layout
    pa, pb = to_napari(lay.pos_a), to_napari(lay.pos_b)
    unit = _unit(pa, pb)
    sizes = _node_sizes(alignment.graph_a, alignment.graph_b, unit)
    offset = getattr(lay, "offset", None)
    arrangement = choose_arrangement(pa, pb, *sizes, canvas_aspect, _inputs_aspect(inputs), offset)
    delta = panel_delta(pa, pb, *sizes, arrangement, offset)
    tables = tuple(node_table(graph, inputs, side=side, correspondence=alignment.correspondence,
                              regions=alignment.regions)
                   for side, graph in (("a", alignment.graph_a), ("b", alignment.graph_b)))
    return Prepared(alignment, unit, bubble_parts(alignment, unit, delta),
                    _links(alignment.correspondence, pa, pb + delta), arrangement, tables)


def _draw_links(layer: Vectors, links, unit) -> None:
    vectors, pairs, weight = links
    layer.data = vectors
    layer.features = pd.DataFrame({"node_a": pairs[:, 0], "node_b": pairs[:, 1], "jaccard": weight})
    if len(weight):
        colours = np.tile([1.0, 1.0, 1.0, 1.0], (len(weight), 1))
        colours[:, 3] = 0.1 + 0.5 * np.clip(weight, 0, 1)
        layer.edge_color = colours
    layer.edge_width = 0.08 * unit
    set_visible(layer, len(weight) <= MAX_VISIBLE_LINKS)


def show_alignment(viewer, alignment, inputs=None, *, colour_by="region") -> AlignmentLayers:
    """Create or replace all plugin layers for ``alignment`` (see the module docstring)."""
    return drain(quietly(viewer, show_alignment_steps(viewer, alignment, inputs, colour_by=colour_by)))


def show_alignment_steps(viewer, alignment, inputs=None, *, prepared: Prepared | None = None, graphs_drawn=False,
                         colour_by="region"):
    """``show_alignment`` in steps: a generator yielding after each piece of drawing (each a short
    slice of the GUI's event loop), returning the ``AlignmentLayers``; run it in ``quietly``,
    which also brings the viewer's dims up to date after the moves. The drawing layers are
    reused in place (``drawing_layers_steps``). ``prepared``: ``prepare(alignment)`` made off the
    GUI thread; ``graphs_drawn``: the node and edge layers already hold these graphs (drawn while
    the layout ran), so only their final positions, features, titles and colours are set."""
    if prepared is None or prepared.alignment is not alignment:
        prepared = prepare(alignment, canvas_aspect(viewer), inputs)
    remove_roles(viewer, ("motifs", "selection", "input_selection"))
    layers = yield from drawing_layers_steps(viewer)
    names = tuple(getattr(alignment, "names", ("A", "B")))
    lay = alignment.layout
    offset = getattr(lay, "offset", None)
    if graphs_drawn:
        update_positions(layers, lay.pos_a, lay.pos_b, arrangement=prepared.arrangement, offset=offset)
        for side, table in zip("ab", prepared.node_tables):
            yield
            getattr(layers, f"nodes_{side}").features = table
        layers.graphs, layers.names, layers.table = (alignment.graph_a, alignment.graph_b), names, inputs
        layers.titles = _put_titles(layers)
        from .hover import NodeHover

        layers.hover = NodeHover(viewer, layers)
    else:
        yield from draw_graphs_steps(layers, alignment.graph_a, alignment.graph_b, lay.pos_a, lay.pos_b, names,
                                     regions=alignment.regions, inputs=inputs,
                                     correspondence=alignment.correspondence, colour_by=colour_by,
                                     arrangement=prepared.arrangement, offset=offset,
                                     node_tables=prepared.node_tables)
    yield
    _draw_links(layers.links, prepared.links, prepared.unit)
    yield
    yield from draw_bubbles_steps(layers, prepared.bubbles)
    layers.region_labels = _put_region_numbers(viewer, prepared.bubbles)
    layers.alignment = alignment
    yield
    colour_nodes(layers, colour_by)  # the legend lists the regions now that the alignment is known
    yield
    layers.inputs = None if inputs is None else (yield from inputs_steps(viewer, inputs, beside=drawing_bbox(layers)))
    yield
    if layers.inputs is None:
        remove_roles(viewer, ("inputs", "input_points"))
    elif layers.inputs.kind == "source":
        _paint_regions(layers.inputs, alignment.regions)
    yield
    fit_view(viewer, layers)
    return layers


def _layers_of(viewer_or_layers) -> dict:
    if isinstance(viewer_or_layers, AlignmentLayers):
        la = viewer_or_layers
        return {"nodes_a": la.nodes_a, "nodes_b": la.nodes_b, "edges_a": la.edges_a, "edges_b": la.edges_b, "links": la.links}
    return {role: find_layer(viewer_or_layers, role) for role in ("nodes_a", "nodes_b", "edges_a", "edges_b", "links")}


def update_positions(viewer_or_layers, pos_a, pos_b, *, arrangement=None, offset=None) -> None:
    """Move nodes, edges and links to new layout positions in place (no layer is re-created).

    B's panel is placed as drawn (``arrangement`` of ``draw_graphs`` unless given; ``offset``:
    the layout's panel offset when known, see ``panel_delta``). Moves are quiet (``_moving``):
    this runs for every frame of a live layout."""
    found = _layers_of(viewer_or_layers)
    viewer = viewer_or_layers.viewer if isinstance(viewer_or_layers, AlignmentLayers) else viewer_or_layers
    with _moving(viewer, [layer for layer in found.values() if layer is not None]) as move:
        _update_positions(found, viewer_or_layers, pos_a, pos_b, arrangement, offset, move)
    if isinstance(viewer_or_layers, AlignmentLayers):
        _move_titles(viewer_or_layers)


@contextmanager
def _moving(viewer, layers):
    """A ``move(layer, data)`` that sets a layer's data without the viewer recomputing its dims
    from every layer's extent (which re-slices all layers; ``refresh_extent`` does it once when a
    drawing is complete) and without a thumbnail (napari's thumbnails cost more than the move);
    a layer that has this data already is left as it is."""

    def move(layer, data):
        if np.shape(layer.data) == np.shape(data) and np.array_equal(layer.data, data):
            return
        with layer._block_refresh():
            layer.data = data
        layer.refresh(thumbnail=False)

    with ExitStack() as stack:
        _hold_dims(stack, viewer, layers)
        yield move


def _hold_dims(stack: ExitStack, viewer, layers) -> None:
    """Until ``stack`` closes, changes to the data, scale or translate of ``layers`` do not make the
    viewer recompute its dims from every layer's extent (napari's handler of those events;
    ``refresh_extent`` runs it)."""
    recompute = getattr(viewer, "_on_layers_change", None)
    if recompute is not None:
        for layer in layers:
            for emitter in (layer.events.data, layer.events.scale, layer.events.translate):
                stack.enter_context(emitter.blocker(recompute))


def refresh_extent(viewer) -> None:
    """Let the viewer recompute its dims from the layers' extents (after moves by ``_moving``),
    re-slicing the layers only when a dimension that is not displayed changed: a new drawing
    changes the displayed dims' ranges alone, and for that napari re-sliced every layer (the
    source image too: ~40 ms a drawing under software GL) while each changed layer has sliced
    itself already."""
    recompute = getattr(viewer, "_on_layers_change", None)
    reslice = getattr(viewer, "_update_layers", None)
    if recompute is None:
        return
    if reslice is None:
        recompute()
        return
    dims = viewer.dims

    def hidden():
        return dims.ndim, tuple(dims.not_displayed), tuple(dims.point[axis] for axis in dims.not_displayed)

    before = hidden()
    with dims.events.point.blocker(reslice), dims.events.current_step.blocker(reslice):
        recompute()
    if hidden() != before:
        reslice()


def _shadow(stack: ExitStack, obj, name: str, stand_in) -> None:
    """Until ``stack`` closes, ``obj.name`` is ``stand_in``: an instance attribute over the class's
    method (napari looks its handlers up by name on every event); left alone when an outer block
    has shadowed it already (what the inner block does then goes to the outer one's stand-in)."""
    if name not in vars(obj):
        setattr(obj, name, stand_in)
        stack.callback(delattr, obj, name)


def _visual_updates_at_exit(stack: ExitStack, viewer, layers) -> None:
    """Until ``stack`` closes, the vispy visuals of ``layers`` note data changes instead of taking
    them; then each changed one takes its layer's data once (napari internals)."""
    visuals = _layer_visuals(viewer)
    changed = {}

    def flush() -> None:
        for visual in changed.values():
            if visual.layer in viewer.layers:  # not removed in the block meanwhile
                visual._on_data_change()

    stack.callback(flush)  # last: after each visual has its own handler back
    for layer in layers:
        if layer in visuals:
            visual = visuals[layer]
            _shadow(stack, visual, "_on_data_change",
                    lambda *args, visual=visual: changed.setdefault(id(visual), visual))


@contextmanager
def quiet_drawing(viewer, touched: set, *, watch: bool = True):
    """Changes to the plugin's layers inside this block make no thumbnails, the viewer does not
    recompute its dims and the layer list does not repaint rows (napari does each on every
    property set), and each layer's vispy visual takes its data once, at the end of the block
    (napari resets it on every property set: ~5 ms a Points layer). The layers whose thumbnails
    were skipped are added to ``touched``; ``settle``
    brings dims, thumbnails and the layer list up to date. Yields a function telling whether
    anything in the layer list changed in the block so far (if not, there is nothing to settle);
    with ``watch=False`` only whether a layer was ``touched`` (watching every event of the list
    costs napari ~0.5 ms a block)."""
    ours = [layer for layer in viewer.layers if layer.metadata.get(ROLE_KEY)]
    model = _layer_list_model(viewer)
    changes = []
    with ExitStack() as stack:
        if model is not None:
            stack.enter_context(viewer.layers.events.blocker(model._process_event))
        _hold_dims(stack, viewer, ours)
        _visual_updates_at_exit(stack, viewer, ours)
        for layer in ours:
            _shadow(stack, layer, "_update_thumbnail", lambda *args, layer=layer, **kwargs: touched.add(layer))
        if watch:
            viewer.layers.events.connect(changes.append)  # every event of the list and of its layers
            stack.callback(viewer.layers.events.disconnect, changes.append)
        yield lambda: bool(touched or changes)


def quietly(viewer, steps):
    """Drawing ``steps`` (a generator) each run in ``quiet_drawing``, then ``settle`` on the layers
    they changed (when they changed any); a generator of steps (yielding what ``steps`` yields)
    returning what ``steps`` returns."""
    touched, changed = set(), False
    while True:
        with quiet_drawing(viewer, touched, watch=not changed) as changes:
            try:
                value = next(steps)
            except StopIteration as stop:
                result = stop.value
                break
            finally:
                changed = changed or changes()
        yield value
    if changed:
        yield from settle(viewer, touched)
    return result


def settle(viewer, layers: set):
    """Steps bringing the viewer up to date after quiet changes to ``layers``: its dims (the
    re-slice that follows makes no thumbnails of the plugin's layers: they join ``layers``), then
    each visible layer's thumbnail (one per step: a Vectors thumbnail costs napari ~25 ms), then
    the layer list, repainted once (each repaint composes napari's window anew: ~20 ms under
    software GL), each in a step of its own."""
    with quiet_drawing(viewer, layers, watch=False):
        refresh_extent(viewer)
    model = _layer_list_model(viewer)
    for layer in layers:
        if layer in viewer.layers and layer.visible:
            yield
            with viewer.layers.events.blocker(model._process_event) if model is not None else nullcontext():
                layer._update_thumbnail()  # the list repaints once, below
    yield
    if model is not None and model.rowCount():
        model.dataChanged.emit(model.index(0), model.index(model.rowCount() - 1), [])


def _layer_list_model(viewer):
    """The Qt model behind the viewer's layer list (napari internals; None when not found)."""
    view = getattr(qt_viewer(viewer), "layers", None)
    model = view.model() if hasattr(view, "model") else None
    if hasattr(model, "sourceModel"):  # napari shows the list reversed through a proxy model
        model = model.sourceModel()
    return model if hasattr(model, "_process_event") else None


def _update_positions(found, viewer_or_layers, pos_a, pos_b, arrangement, offset, move) -> None:
    """``update_positions`` on the layers ``found`` by role, each set with ``move``."""
    pa, pb = to_napari(pos_a), to_napari(pos_b)
    nodes_a, nodes_b = found["nodes_a"], found["nodes_b"]
    if nodes_a is not None and nodes_b is not None and (len(nodes_a.data), len(nodes_b.data)) == (len(pa), len(pb)):
        if arrangement is not None:
            nodes_b.metadata["arrangement"] = arrangement
        delta = panel_delta(pa, pb, nodes_a.size, nodes_b.size, nodes_b.metadata.get("arrangement", "row"), offset)
        pb = pb + delta
        if isinstance(viewer_or_layers, AlignmentLayers):
            viewer_or_layers.delta = delta
            viewer_or_layers.arrangement = nodes_b.metadata.get("arrangement", "row")
    for side, pos in (("a", pa), ("b", pb)):
        nodes = found[f"nodes_{side}"]
        if nodes is None:
            raise ValueError("no TopoAlign node layers to move: show the graphs first (show_alignment)")
        if len(nodes.data) != len(pos):
            raise ValueError(
                f"graph {side.upper()} has {len(nodes.data)} nodes drawn but {len(pos)} positions were given; "
                "show the new graphs with show_graphs/show_alignment before moving them"
            )
        move(nodes, pos)
        edges = found[f"edges_{side}"]
        if edges is not None and len(edges.data):
            f = edges.features
            move(edges, _edge_vectors(np.column_stack([f["source"], f["target"]]), pos))
    links = found["links"]
    if links is not None and len(links.data):
        f = links.features
        start = pa[f["node_a"].to_numpy()]
        move(links, np.stack([start, pb[f["node_b"].to_numpy()] - start], axis=1))


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


def show_motifs(layers: AlignmentLayers, matches, *, indices=None) -> Shapes:
    """Outline each motif instance (in A) and its counterpart (in B), coloured by status, and
    list the statuses in the legend.

    ``matches``: ``MotifMatch`` or ``node_stats.MotifInstance`` objects; ``indices``: the number
    of each (default 0, 1, ...; the motif browser passes the instances' own). Features per
    shape: match, kind, side, status.
    """
    from shapely.geometry import MultiPoint

    pad = 0.9 * layers.unit
    indices = range(len(matches)) if indices is None else indices
    shapes, rows = [], []
    for side, nodes_layer in (("a", layers.nodes_a), ("b", layers.nodes_b)):
        pos = np.asarray(nodes_layer.data, dtype=float)
        for i, m in zip(indices, matches):
            nodes = np.asarray(_motif_nodes(m, side), dtype=np.int64)
            if len(nodes) == 0:
                continue
            hull = MultiPoint(pos[nodes][:, ::-1] * [1, -1]).convex_hull.buffer(pad, quad_segs=4)
            for ring in _polygon_rings(hull, 0.05 * layers.unit):
                shapes.append(ring)
                rows.append((i, _motif_kind(m), side, m.status))
    features = pd.DataFrame(rows, columns=["match", "kind", "side", "status"])
    edge = np.array([MOTIF_COLOURS[s] for s in features["status"]]).reshape(-1, 4)
    face = edge.copy()
    face[:, 3] = 0.12
    layer = Shapes(
        shapes, shape_type="polygon", name=f"{PREFIX} motifs", features=features,
        edge_width=0.25 * layers.unit, **({"edge_color": edge, "face_color": face} if len(shapes) else {}),
    )
    layers.motifs = put_layer(layers.viewer, layer, "motifs")
    show_legend(layers)
    return layer


def _motif_nodes(m, side) -> tuple:
    if hasattr(m, "nodes_a"):  # a node_stats.MotifInstance
        return m.nodes_a if side == "a" else m.nodes_b
    return m.motif.nodes if side == "a" else m.counterpart


def _motif_kind(m) -> str:
    return m.kind if hasattr(m, "kind") else m.motif.kind


def focus_motif(layers: AlignmentLayers, instance) -> np.ndarray:
    """Show only this motif instance (A) and its counterpart (B), fit the view to both (the
    legend's corner kept free, ``fit_view``) and return their world bbox ``[[row0, col0], [row1, col1]]``."""
    layer = show_motifs(layers, [instance], indices=[getattr(instance, "index", 0)])
    pts = np.concatenate(layer.data) if layer.nshapes else np.zeros((0, 2))
    if not len(pts):
        raise ValueError("this motif instance has no nodes to show")
    bbox = np.stack([pts.min(axis=0), pts.max(axis=0)])
    fit_view(layers.viewer, layers, margin=0.3, box=bbox)
    return bbox
