"""The Align tab: runs the pipeline in a worker, animating the layout live, with Cancel and Save."""

from __future__ import annotations

import queue
import threading

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_info
from qtpy.QtWidgets import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox

from ...errors import TopoAlignError
from . import session as _session
from .mapper import MapperWidget
from .session import Cancelled, Session, _Section, report_error

MODES = {"side by side": "side_by_side", "overlay": "overlay"}


def available_devices() -> list[str]:
    """Device choices for the layout: auto and cpu, plus cuda when torch sees a GPU."""
    import torch

    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@thread_worker(ignore_errors=True)
def _align_steps(X_a, X_b, graphs, settings, kwargs, cancel: threading.Event):
    """Build the graphs (unless given), then run ``align`` in a helper thread.

    Yields ``("progress", stage, fraction)``, ``("graphs", A, B)`` and
    ``("positions", iteration, pos_a, pos_b)`` (only the newest positions, so a slow
    canvas never falls behind); returns the Alignment. ``align`` reuses these graphs
    (``graphs=``) rather than building them again. Closing the generator
    (worker.quit) sets ``cancel``, which stops the pipeline at its next callback.
    """
    from ... import align
    from ...alignment import build_graphs

    if graphs is None:
        yield ("progress", "mapper graphs", 0.0)
        graphs = build_graphs(X_a, X_b, **settings)
    yield ("graphs", *graphs)
    events: queue.SimpleQueue = queue.SimpleQueue()
    outcome = {}

    def callback(iteration, pos_a, pos_b):
        if cancel.is_set():
            raise Cancelled
        events.put(("positions", iteration, np.array(pos_a), np.array(pos_b)))

    def progress(stage, fraction):
        if cancel.is_set():
            raise Cancelled
        events.put(("progress", stage, fraction))

    def run():
        try:
            alignment = align(X_a, X_b, graphs=graphs, callback=callback, progress=progress, **kwargs)
            alignment.bubbles()  # computed (and cached) here, off the Qt thread
            outcome["alignment"] = alignment
        except BaseException as exc:  # re-raised in the worker thread below
            outcome["error"] = exc
        finally:
            events.put(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        done = False
        while not done:
            batch = [events.get()]
            while not events.empty():
                batch.append(events.get())
            done = batch[-1] is None
            latest = {item[0]: item for item in batch if item is not None}
            yield from latest.values()
    except GeneratorExit:
        cancel.set()
        raise
    finally:
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["alignment"]


class AlignWidget(_Section):
    """Mode, device and iterations; Align runs the pipeline in a worker, animating the layout live."""

    def __init__(self, session: Session, mapper: MapperWidget, parent=None):
        super().__init__(session, parent)
        self.mapper = mapper
        form = QFormLayout(self)
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.device = QComboBox()
        self.device.addItems(available_devices())
        self.device.setToolTip("cuda is listed only when torch sees a GPU")
        self.iterations = QSpinBox()
        self.iterations.setRange(0, 100000)
        self.iterations.setSingleStep(50)
        self.iterations.setSpecialValueText("auto")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("mode", self.mode)
        form.addRow("device", self.device)
        form.addRow("iterations", self.iterations)
        form.addRow("seed", self.seed)
        buttons = QHBoxLayout()
        self.align_button = QPushButton("Align")
        self.align_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the alignment to one .npz file")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save_dialog)
        for b in (self.align_button, self.cancel_button, self.save_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel("Ready when A and B are chosen.")
        self.status.setWordWrap(True)
        form.addRow(self.progress)
        form.addRow(self.status)
        self._cancel = threading.Event()
        self._live = None
        session.alignment_changed.connect(lambda: self.save_button.setEnabled(True))

    def run(self) -> None:
        """Align A and B in a worker; the graphs animate while the layout runs."""
        s = self.session
        if s.rep_a is None:
            _session.show_error("Choose representations A and B in Load first.")
            return
        if self.busy:
            return
        kwargs = dict(
            mode=MODES[self.mode.currentText()],
            device=self.device.currentText(),
            seed=self.seed.value(),
            iterations=self.iterations.value() or None,
            names=(s.rep_a.name, s.rep_b.name),
        )
        graphs = None if s.graph_a is None else (s.graph_a, s.graph_b)
        self._cancel = threading.Event()
        worker = _align_steps(s.rep_a.X, s.rep_b.X, graphs, self.mapper.settings(), kwargs, self._cancel)
        cancel = self._cancel  # steps still queued after a cancel are dropped
        worker.yielded.connect(lambda item: None if cancel.is_set() else self._on_step(item))
        worker.aborted.connect(self._on_cancelled)
        worker.errored.connect(self._on_error)
        worker.finished.connect(lambda: self.cancel_button.setEnabled(False))
        self._live = None
        self.progress.setValue(0)
        self.status.setText("Starting…")
        self.cancel_button.setEnabled(True)
        self._start(worker, self._on_result, [self.align_button, self.mapper.build_button])

    def cancel(self) -> None:
        """Stop the running alignment; the previous alignment's layers come back as they were."""
        if self.busy:
            self._cancel.set()
            self.worker.quit()
            self.status.setText("Cancelling…")

    def _on_step(self, item) -> None:
        from ..layers import keep_in_view, update_positions

        kind = item[0]
        if kind == "progress":
            self.progress.setValue(int(round(100 * item[2])))
            self.status.setText(f"{item[1]}…")
        elif kind == "graphs":
            self.session.set_graphs(item[1], item[2])
        elif self._live is None:
            self._start_live(item[2], item[3])
        else:
            self.status.setText(f"layout: iteration {item[1]}")
            update_positions(self._live, item[2], item[3])
            keep_in_view(self.viewer, self._live)

    def _start_live(self, pos_a, pos_b) -> None:
        """Draw the new graphs at their first layout positions; hide the previous alignment's extras."""
        from ..layers import find_layer, fit_view, show_graphs

        s = self.session
        if s.selection is not None:
            s.selection.disconnect()
        for role in ("bubbles", "links", "motifs", "selection", "input_selection"):
            layer = find_layer(self.viewer, role)
            if layer is not None:
                layer.visible = False
        self._live = show_graphs(self.viewer, s.graph_a, s.graph_b, pos_a, pos_b, (s.rep_a.name, s.rep_b.name))
        fit_view(self.viewer, self._live)

    def _restore(self) -> None:
        """Put back the previous alignment's layers (or none) after a cancel or a failure."""
        from ..layers import remove_roles

        if self._live is not None:
            if self.session.alignment is not None:
                self.session.set_alignment(self.session.alignment)
            else:
                remove_roles(self.viewer, ("nodes_a", "nodes_b", "edges_a", "edges_b"))
        self._live = None
        self.progress.setValue(0)

    def _on_result(self, alignment) -> None:
        self._live = None
        self.session.set_alignment(alignment)
        a, b = alignment.graph_a, alignment.graph_b
        self.status.setText(
            f"Aligned on {alignment.layout.device}: {a.n_nodes} + {b.n_nodes} nodes, "
            f"{len(alignment.regions)} matching regions."
        )
        self.progress.setValue(100)

    def _on_cancelled(self) -> None:
        self._restore()
        self.status.setText("Cancelled; the previous alignment (if any) is shown.")
        show_info("TopoAlign: alignment cancelled.")

    def _on_error(self, exc) -> None:
        self._restore()
        cancelled = isinstance(exc, Cancelled)
        self.status.setText("Cancelled; the previous alignment (if any) is shown." if cancelled else f"Failed: {exc}")

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save alignment", "alignment.npz", "Alignment (*.npz)")
        if path:
            try:
                self.session.alignment.save(path)
            except (TopoAlignError, OSError) as exc:
                report_error(exc)

