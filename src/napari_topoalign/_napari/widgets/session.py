"""The napari side of a session: the view that draws the core ``Session`` in a viewer, the tabs'
base class and error reporting.

The state lives in :class:`napari_topoalign.session.Session` (Qt-free, evented); the tabs bind
their controls to it and ``SessionView`` draws its alignment and selection. Every tab shows
errors through this module's ``show_error`` (one place to intercept them).
"""

from __future__ import annotations

from napari.utils.notifications import show_error
from qtpy.QtWidgets import QWidget

from ...errors import TopoAlignError
from ...session import Session
from .._reader import INPUTS_KEY


class Cancelled(Exception):
    """The user pressed Cancel."""


def report_error(exc: BaseException) -> None:
    """Show an error as a napari notification: the message for user errors, the type too otherwise."""
    if isinstance(exc, Cancelled):
        return
    if isinstance(exc, (TopoAlignError, OSError)):
        show_error(str(exc))
    else:
        show_error(f"{type(exc).__name__}: {exc}")


class SessionView:
    """Draws a session's alignment in ``viewer`` and links the selection to the mouse.

    ``layers`` (the ``AlignmentLayers`` drawn now) and ``linked`` (the ``LinkedSelection``)
    follow ``session.events.alignment``. The Align tab draws a new alignment in steps and hands
    the layers over with ``adopt`` before setting it on the session; an alignment set any other
    way is drawn here in one go. ``inputs_base``: the input table of the chosen inputs layer
    (before images from other layers were added), whose layer is hidden once the inputs are
    drawn beside the graphs.
    """

    def __init__(self, viewer, session: Session):
        self.viewer = viewer
        self.session = session
        self.layers = None
        self.linked = None
        self.inputs_base = None
        self.prepared = None  # layers.prepare(alignment) of the alignment drawn, when known
        self._drawn = None
        session.events.alignment.connect(self._on_alignment)

    def adopt(self, alignment, layers, prepared=None, *, relink=False) -> None:
        """``layers`` already show ``alignment`` (drawn by the Align tab from ``prepared``, kept for
        drawing it again); ``relink``: link the selection to them now (the alignment is not new)."""
        self._drawn, self.layers, self.prepared = alignment, layers, prepared
        if relink:
            self._link()

    def _on_alignment(self) -> None:
        from ..layers import show_alignment

        alignment = self.session.alignment
        if self._drawn is not alignment:
            self.layers = show_alignment(self.viewer, alignment, self.session.inputs)
            self._drawn = alignment
        self.hide_inputs_drawn(self.layers)
        self._link()

    def hide_inputs_drawn(self, layers) -> None:
        """When the drawing ``layers`` show the inputs beside the graphs, hide the inputs layer they came from."""
        from ..layers import set_visible

        if layers.inputs is not None:
            for layer in _layers_with(self.viewer, INPUTS_KEY):
                table = layer.metadata[INPUTS_KEY]
                if table is self.session.inputs or table is self.inputs_base:
                    set_visible(layer, False)

    def _link(self) -> None:
        from ..selection import LinkedSelection

        if self.linked is not None:
            self.linked.disconnect()
        self.linked = LinkedSelection(self.viewer, self.layers, self.session)


class _Section(QWidget):
    """A tab bound to the session and its view; runs workers with error reporting."""

    def __init__(self, session: Session, view: SessionView, parent=None):
        super().__init__(parent)
        self.session = session
        self.view = view
        self.viewer = view.viewer
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
