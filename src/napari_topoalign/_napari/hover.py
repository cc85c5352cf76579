"""Node descriptions on hover, whatever layer is active.

``NodeHover(viewer, layers)`` (made by ``layers.show_graphs``) listens to the mouse: over a
node of graph A or B it writes ``node_stats.describe_node``'s text on one line to the status
bar (``viewer.status``) and in full to napari's tooltip (``viewer.tooltip``, shown while on
a node); napari's own status updates, which follow the active layer, are overridden while the
cursor is on a node. ``describe_at(position)`` returns the text for a world position (None off
the nodes). A new ``NodeHover`` on the same viewer disconnects the previous one.
"""

from __future__ import annotations

import numpy as np

from ..node_stats import describe_node


class NodeHover:
    """Describes the node under the cursor in the status bar and the tooltip (see module doc)."""

    def __init__(self, viewer, layers):
        for callback in list(viewer.mouse_move_callbacks):
            if isinstance(getattr(callback, "__self__", None), NodeHover):
                callback.__self__.disconnect()
        self.viewer = viewer
        self.layers = layers
        self.text = None  # the description shown now (None: not on a node)
        self._hit = None  # the (side, node) it describes
        self._tooltip_was_visible = bool(viewer.tooltip.visible)
        viewer.mouse_move_callbacks.append(self._on_mouse_move)
        viewer.events.status.connect(self._keep_status)
        viewer.tooltip.events.text.connect(self._keep_tooltip)

    def node_at(self, position):
        """(side, node) of the node drawn at a world position, or None: the topmost visible graph first."""
        p = np.asarray(position, dtype=float)[-2:]
        for side, nodes in (("b", self.layers.nodes_b), ("a", self.layers.nodes_a)):
            if not nodes.visible or nodes not in self.viewer.layers or not len(nodes.data):
                continue
            data = np.asarray(nodes.data, dtype=float)
            radius = np.asarray(nodes.size, dtype=float).reshape(len(data), -1)[:, 0] / 2
            dist = np.linalg.norm(data - p, axis=1) - radius
            k = int(np.argmin(dist))
            if dist[k] <= 0:
                return side, k
        return None

    def describe_at(self, position) -> str | None:
        """The description of the node at a world position (None when there is none)."""
        return self._describe(self.node_at(position))

    def _describe(self, hit) -> str | None:
        if hit is None:
            return None
        side, node = hit
        la = self.layers
        graph = la.graphs[0 if side == "a" else 1]
        nodes = la.nodes_a if side == "a" else la.nodes_b
        names = [f"{s.upper()} ({n})" for s, n in zip("ab", la.names)]
        own, other = (names[0], names[1]) if side == "a" else (names[1], names[0])
        return describe_node(graph, node, nodes.features, la.table, side_name=own, other_name=other)

    def disconnect(self) -> None:
        if self._on_mouse_move in self.viewer.mouse_move_callbacks:
            self.viewer.mouse_move_callbacks.remove(self._on_mouse_move)
        self.viewer.events.status.disconnect(self._keep_status)
        self.viewer.tooltip.events.text.disconnect(self._keep_tooltip)
        self._show(None)

    def _on_mouse_move(self, viewer, event) -> None:
        hit = self.node_at(event.position)
        if hit is not None and hit == self._hit:
            return  # still over the node described: nothing to recompute
        self._hit = hit
        self._show(self._describe(hit))

    def _show(self, text) -> None:
        was = self.text
        self.text = text
        tooltip = self.viewer.tooltip
        if text is None:
            if was is not None:
                tooltip.visible = self._tooltip_was_visible
            return
        if was is None:
            self._tooltip_was_visible = bool(tooltip.visible)
        tooltip.visible = True
        self._keep_status()
        self._keep_tooltip()

    def _keep_status(self, *_) -> None:
        line = None if self.text is None else " · ".join(self.text.splitlines())
        if line is not None and self.viewer.status != line:
            self.viewer.status = line

    def _keep_tooltip(self, *_) -> None:
        if self.text is not None and self.viewer.tooltip.text != self.text:
            self.viewer.tooltip.text = self.text
