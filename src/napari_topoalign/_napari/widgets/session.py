"""The session shared by the TopoAlign tabs, the tabs' base class and error reporting.

Every tab shows errors through this module's ``show_error`` (one place to intercept them).
"""

from __future__ import annotations

from napari.utils.notifications import show_error
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QWidget

from ...errors import TopoAlignError
from .._reader import INPUTS_KEY


class Cancelled(Exception):
    """Raised inside the layout callback when the user pressed Cancel."""


def report_error(exc: BaseException) -> None:
    """Show an error as a napari notification: the message for user errors, the type too otherwise."""
    if isinstance(exc, Cancelled):
        return
    if isinstance(exc, (TopoAlignError, OSError)):
        show_error(str(exc))
    else:
        show_error(f"{type(exc).__name__}: {exc}")


class Session(QObject):
    """The state shared by the sections: representations, inputs, graphs, alignment and layers."""

    data_changed = Signal()
    graphs_changed = Signal()
    alignment_changed = Signal()

    def __init__(self, viewer):
        super().__init__()
        self.viewer = viewer
        self.rep_a = self.rep_b = self.inputs = None
        self.inputs_base = None  # the chosen inputs layer's table, before adding images from other layers
        self.graph_a = self.graph_b = None
        self.alignment = None
        self.layers = None
        self.selection = None

    def set_data(self, rep_a, rep_b, inputs) -> None:
        if rep_a is self.rep_a and rep_b is self.rep_b and inputs is self.inputs:
            return
        self.rep_a, self.rep_b, self.inputs = rep_a, rep_b, inputs
        self.set_graphs(None, None)
        self.data_changed.emit()

    def set_graphs(self, graph_a, graph_b) -> None:
        self.graph_a, self.graph_b = graph_a, graph_b
        self.graphs_changed.emit()

    def set_alignment(self, alignment) -> None:
        """Show ``alignment``: replaces the plugin's layers, keeps the user's."""
        from ..layers import show_alignment
        from ..selection import LinkedSelection

        self.layers = show_alignment(self.viewer, alignment, self.inputs)
        if self.layers.inputs is not None:  # drawn beside the graphs: hide the inputs layer they came from
            for layer in _layers_with(self.viewer, INPUTS_KEY):
                table = layer.metadata[INPUTS_KEY]
                if table is self.inputs or table is self.inputs_base:
                    layer.visible = False
        self.alignment = alignment
        self.selection = LinkedSelection(self.viewer, self.layers, self.inputs)
        self.alignment_changed.emit()


class _Section(QWidget):
    """A section of the TopoAlign widget bound to a session; runs workers with error reporting."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.viewer = session.viewer
        self.worker = None
        self.busy = False

    def _start(self, worker, on_result, buttons=()) -> None:
        """Start ``worker`` with its buttons disabled until it finishes; errors become notifications."""
        for b in buttons:
            b.setEnabled(False)
        worker.returned.connect(on_result)
        worker.errored.connect(report_error)
        worker.finished.connect(lambda: self._done(buttons))
        self.worker = worker
        self.busy = True
        worker.start()

    def _done(self, buttons) -> None:
        self.busy = False
        for b in buttons:
            b.setEnabled(True)


def _layers_with(viewer, key: str) -> list:
    return [layer for layer in viewer.layers if key in layer.metadata]
