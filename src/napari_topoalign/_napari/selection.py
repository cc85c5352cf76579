"""Linked selection between the two graphs and the inputs: mouse and layer selections become
calls on the session model, and the model's selection is drawn (no algorithm, no state of its
own: ``session.Session.select_nodes`` / ``select_inputs`` are the pure queries).

``LinkedSelection(viewer, layers, session)`` where ``layers`` is the ``AlignmentLayers`` of
``show_alignment`` and ``session`` the core ``Session`` holding the alignment and the inputs:

- selecting nodes of one graph (a click in pan/zoom mode, or napari's own click / box selection
  on a node layer in select mode, or ``select_nodes(side, nodes)``) marks them and their
  counterparts in the other graph (correspondence > 0, strongest first) in the
  ``"TopoAlign selection"`` Points layer, and marks their member inputs: tiles of the mosaic
  outlined, or positions on the source image (``"TopoAlign selected inputs"``); both layers are
  made at the first selection;
- selecting inputs (a click on a mosaic tile, napari selection on the input-positions layer, or
  ``select_inputs(indices)``) selects the nodes of both graphs that contain them;
- ``click(position)`` does what a click at a world position does; ``clear()`` empties it.

``side``, ``nodes_a``, ``nodes_b``, ``counterparts``, ``strength``, ``inputs`` read the session's
``Selection``; ``texts`` its selected texts. ``changed`` (a psygnal ``Signal``) is emitted with
this object after every change. A new ``LinkedSelection`` on the same viewer disconnects the
previous one; ``disconnect()`` does it by hand.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Points
from psygnal import Signal

from .layers import PREFIX, AlignmentLayers, camera_of, put_layer

SELECTED = np.array([1.0, 0.95, 0.2, 1.0])
COUNTERPART = np.array([0.2, 0.95, 1.0, 1.0])
#: A press and release farther apart than this many screen pixels is a drag, not a click.
CLICK_TOLERANCE_PX = 4.0


def _selection_changed(points):
    """The signal a Points layer's ``selected_data`` emits on change (psygnal in napari >= 0.6)."""
    events = points.selected_data.events
    return events.items_changed if hasattr(events, "items_changed") else events.changed


def _selection_field(name: str) -> property:
    return property(lambda self: getattr(self.session.selection, name), doc=f"The session selection's ``{name}``.")


class LinkedSelection:
    """Selection of nodes and inputs shared by both graphs and the input images (see module doc)."""

    changed = Signal(object)

    def __init__(self, viewer, layers: AlignmentLayers, session):
        for callback in list(viewer.mouse_drag_callbacks):
            if isinstance(getattr(callback, "__self__", None), LinkedSelection):
                callback.__self__.disconnect()
        self.viewer = viewer
        self.layers = layers
        self.session = session
        self.view = layers.inputs
        self._updating = False
        self.marks = self.input_marks = None
        self._nodes = {"a": layers.nodes_a, "b": layers.nodes_b}
        self._connections = []
        self._connect(session.events.selection, self._on_model_selection)
        for side, nodes in self._nodes.items():
            self._connect(_selection_changed(nodes), self._on_layer_selection(side))
            self._connect(nodes.events.data, self._redraw)
        if self.view is not None and self.view.kind == "source":
            self._connect(_selection_changed(self.view.layers[1]), self._on_input_points_selection)
        viewer.mouse_drag_callbacks.append(self._on_mouse_drag)

    side = _selection_field("side")
    nodes_a = _selection_field("nodes_a")
    nodes_b = _selection_field("nodes_b")
    counterparts = _selection_field("counterparts")
    strength = _selection_field("strength")
    inputs = _selection_field("inputs")

    # ------------------------------------------------------------------ public
    def select_nodes(self, side: str, nodes) -> None:
        """Select these nodes of graph ``side`` ("a" or "b")."""
        self.session.select_nodes(side, nodes)

    def select_inputs(self, indices) -> None:
        """Select these inputs and every node (of both graphs) that contains one of them."""
        self.session.select_inputs(indices)

    def clear(self) -> None:
        self.session.clear_selection()

    def click(self, position) -> None:
        """Select what is drawn at a world position: a node, an input, or nothing (clears)."""
        pos = np.asarray(position, dtype=float)
        for side, nodes in self._nodes.items():
            if nodes.visible and nodes in self.viewer.layers:
                hit = nodes.get_value(pos, world=True)
                if hit is not None:
                    self.select_nodes(side, [hit])
                    return
        if self.view is not None and all(la in self.viewer.layers and la.visible for la in self.view.layers[:1]):
            i = self.view.input_at(pos)
            if i >= 0:
                self.select_inputs([i])
                return
        self.clear()

    @property
    def texts(self) -> list[str]:
        """Texts of the selected inputs (empty without texts)."""
        return self.session.selected_texts

    def disconnect(self) -> None:
        """Stop listening to the viewer and the layers."""
        for emitter, callback in self._connections:
            emitter.disconnect(callback)
        self._connections = []
        if self._on_mouse_drag in self.viewer.mouse_drag_callbacks:
            self.viewer.mouse_drag_callbacks.remove(self._on_mouse_drag)

    # ------------------------------------------------------------------ internals
    def _connect(self, emitter, callback):
        emitter.connect(callback)
        self._connections.append((emitter, callback))

    def _make_marks(self):
        """The layer marking selected nodes and counterparts."""
        layer = Points(
            np.zeros((0, 2)), name=f"{PREFIX} selection", face_color="transparent", border_width=0.22,
            border_width_is_relative=True, size=self.layers.unit,
        )
        return put_layer(self.viewer, layer, "selection")

    def _make_input_marks(self):
        """Tinted squares over selected mosaic tiles, or rings around selected source positions."""
        mosaic = self.view.kind == "mosaic"
        size = self.view.scale * max(self.view.tile_shape) if mosaic else 2.5 * self.view.point_size
        layer = Points(
            np.zeros((0, 2)), name=f"{PREFIX} selected inputs", size=size, symbol="square" if mosaic else "disc",
            face_color=[*SELECTED[:3], 0.3] if mosaic else "transparent", border_color=SELECTED,
            border_width=0.15 if mosaic else 0.3, border_width_is_relative=True,
        )
        return put_layer(self.viewer, layer, "input_selection")

    def _on_model_selection(self, selection):
        self._updating = True
        try:
            for side, nodes in self._nodes.items():
                wanted = set(getattr(selection, f"nodes_{side}").tolist()) if selection.side in (side, "inputs") else set()
                if nodes in self.viewer.layers and set(nodes.selected_data) != wanted:
                    nodes.selected_data = wanted
        finally:
            self._updating = False
        self._redraw()
        self.changed.emit(self)

    def _redraw(self, *_):
        if self.marks is None and not self.session.selection.empty:
            self.marks = self._make_marks()
            self.input_marks = None if self.view is None else self._make_input_marks()
        if self.marks is None or self.marks not in self.viewer.layers:
            return
        parts = []
        for side in ("a", "b"):
            nodes = getattr(self, f"nodes_{side}")
            layer = self._nodes[side]
            is_counterpart = self.side not in (side, "inputs")
            colour = np.tile(COUNTERPART if is_counterpart else SELECTED, (len(nodes), 1))
            if is_counterpart and len(nodes):
                rank = (self.strength / max(self.strength.max(), 1e-12))[np.argsort(self.counterparts)]
                colour[:, 3] = 0.35 + 0.65 * rank
            parts.append((layer.data[nodes], 1.35 * layer.size[nodes] + 0.1 * self.layers.unit, colour))
        data, size, colour = (np.concatenate(p) for p in zip(*parts))
        self.marks.data = data
        if len(data):
            self.marks.size = size
            self.marks.border_color = colour
        if self.input_marks is not None and self.input_marks in self.viewer.layers:
            self.input_marks.data = self.view.positions[self.inputs]

    def _on_layer_selection(self, side):
        def callback(*_):
            if not self._updating:
                self.select_nodes(side, self._nodes[side].selected_data)

        return callback

    def _on_input_points_selection(self, *_):
        if not self._updating:
            self.select_inputs(self.view.layers[1].selected_data)

    def _on_mouse_drag(self, viewer, event):
        """Click (press and release without moving) in pan/zoom mode -> ``click``."""
        active = viewer.layers.selection.active
        if event.type != "mouse_press" or getattr(event, "button", 1) != 1:
            return
        if active is not None and getattr(active, "mode", "pan_zoom") != "pan_zoom":
            return
        start = np.asarray(event.position, dtype=float)
        yield
        moved = 0.0
        while event.type == "mouse_move":
            moved = max(moved, float(np.abs(np.asarray(event.position, float) - start).max()))
            yield
        zoom = camera_of(viewer).zoom
        if moved * zoom <= CLICK_TOLERANCE_PX:
            self.click(start)
