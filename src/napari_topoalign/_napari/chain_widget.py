"""The TopoAlign chain dock widget: align several representations in order and scrub through them.

The representation layers of the viewer (opened files, samples) are listed with a check box each, in
layer order; **Align chain** runs ``align_chain`` on the checked ones in a worker thread with the
mapper settings of the form (or a chain sample's recommended ones: **Open the chain sample**), and
shows the chain as layers whose leading axis is the representation (``chain_layers``). Below, the
score-by-pair plot (``report.plot_chain_scores``) marks the pair that starts at the slider's
representation, with its scores in a line of text. **Open…** / **Save…** read and write a chain file.
"""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from napari.qt.threading import thread_worker
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..chain import PAIRS
from ..mapper import LENSES, METRICS
from ._reader import REPRESENTATION_KEY
from .chain_layers import chain_layer_data, chain_position, show_chain
from .widgets.session import report_error

CHAIN_SAMPLE = "sentences_layers"


@thread_worker
def _align_worker(representations, kwargs):
    from ..chain import align_chain

    chain = align_chain(representations, **kwargs)
    return chain, chain_layer_data(chain)


@thread_worker
def _sample_worker(name):
    from ..chain import align_chain
    from ..samples import load_sample

    sample = load_sample(name)
    chain = align_chain(sample.representations, **sample.chain_kwargs())
    return chain, chain_layer_data(chain)


@thread_worker
def _load_worker(path):
    from ..chain import Chain

    chain = Chain.load(path)
    return chain, chain_layer_data(chain)


class ChainWidget(QWidget):
    """Align a chain of representations and follow the score curve with the dims slider."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.chain = None
        self.worker = None

        self.reps = QListWidget()
        self.reps.setMaximumHeight(130)
        self.lens = QComboBox()
        self.lens.addItems(LENSES)
        self.lens.setCurrentText("auto")
        self.intervals = QSpinBox(minimum=0, maximum=500, value=0)
        self.intervals.setSpecialValueText("auto")
        self.overlap = QDoubleSpinBox(minimum=0.0, maximum=0.95, singleStep=0.05, value=0.5)
        self.eps = QDoubleSpinBox(minimum=0.0, maximum=1e6, decimals=4, singleStep=0.01, value=0.0)
        self.eps.setSpecialValueText("auto")
        self.metric = QComboBox()
        self.metric.addItems(METRICS)
        self.shared_lens = QCheckBox("slice every representation by the first one's lens")
        self.shared_lens.setChecked(False)  # as align_chain: each representation its own lens
        self.pairs = QComboBox()
        self.pairs.addItems(PAIRS)
        form = QFormLayout()
        for label, w in (("lens", self.lens), ("intervals", self.intervals), ("overlap", self.overlap),
                         ("eps", self.eps), ("metric", self.metric), ("", self.shared_lens), ("pairs", self.pairs)):
            form.addRow(label, w)

        self.align_button = QPushButton("Align chain")
        self.sample_button = QPushButton("Open the chain sample")
        self.open_button = QPushButton("Open…")
        self.save_button = QPushButton("Save…")
        self.save_button.setEnabled(False)
        self.buttons = (self.align_button, self.sample_button, self.open_button)
        row = QHBoxLayout()
        for b in (self.align_button, self.sample_button, self.open_button, self.save_button):
            row.addWidget(b)
        self.status = QLabel("Check the representations to align, in order (the layer list's order).")
        self.status.setWordWrap(True)
        self.figure = Figure(figsize=(4.0, 2.6), dpi=90, facecolor="white")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(220)
        self.current = QLabel("")
        self.current.setWordWrap(True)
        self.current.setTextInteractionFlags(Qt.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Representations"))
        layout.addWidget(self.reps)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.canvas)
        layout.addWidget(self.current)
        layout.addStretch(1)

        self.align_button.clicked.connect(self.align)
        self.sample_button.clicked.connect(self.open_sample)
        self.open_button.clicked.connect(self._open_dialog)
        self.save_button.clicked.connect(self._save_dialog)
        self.viewer.layers.events.inserted.connect(self.refresh)
        self.viewer.layers.events.removed.connect(self.refresh)
        self.viewer.dims.events.current_step.connect(self.update_position)
        self.refresh()

    # ------------------------------------------------------------------ representation list
    def refresh(self, event=None) -> None:
        """List the viewer's representation layers, keeping the check state of those already listed."""
        checked = {self.reps.item(k).text(): self.reps.item(k).checkState() for k in range(self.reps.count())}
        self.reps.clear()
        for layer in self.viewer.layers:
            if REPRESENTATION_KEY in layer.metadata:
                item = QListWidgetItem(layer.name)
                item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
                item.setCheckState(checked.get(layer.name, Qt.Checked))
                self.reps.addItem(item)

    def checked_representations(self) -> list:
        names = [self.reps.item(k).text() for k in range(self.reps.count())
                 if self.reps.item(k).checkState() == Qt.Checked]
        return [self.viewer.layers[name].metadata[REPRESENTATION_KEY] for name in names]

    def settings(self) -> dict:
        """``align_chain`` keyword arguments from the form."""
        from ..mapper import MapperParams

        params = MapperParams(lens=self.lens.currentText(), n_intervals=self.intervals.value() or None,
                              overlap=self.overlap.value(), eps=self.eps.value() or None,
                              metric=self.metric.currentText())
        return {"params": params, "shared_lens": self.shared_lens.isChecked(), "pairs": self.pairs.currentText()}

    # ------------------------------------------------------------------ actions
    def align(self) -> None:
        from ..errors import InputShapeError

        reps = self.checked_representations()
        if len(reps) < 2:
            report_error(InputShapeError("check at least two representations to align as a chain"))
            return
        self._run(_align_worker(reps, self.settings()), f"aligning {len(reps)} representations…")

    def open_sample(self) -> None:
        self._run(_sample_worker(CHAIN_SAMPLE), f"aligning the {CHAIN_SAMPLE} sample with its settings…")

    def open_file(self, path) -> None:
        self._run(_load_worker(str(path)), f"opening {path}…")

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a chain", "", "Chain (*.npz)")
        if path:
            self.open_file(path)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the chain", "chain.npz", "Chain (*.npz)")
        if path:
            try:
                self.chain.save(path)
            except (OSError, ValueError) as exc:
                report_error(exc)

    def _run(self, worker, message: str) -> None:
        for b in self.buttons:
            b.setEnabled(False)
        self.status.setText(message)
        worker.returned.connect(lambda result: self.set_chain(*result))
        worker.errored.connect(report_error)
        worker.errored.connect(lambda exc: self.status.setText("failed: see the notification"))
        worker.finished.connect(lambda: [b.setEnabled(True) for b in self.buttons])
        self.worker = worker
        worker.start()

    # ------------------------------------------------------------------ display
    def set_chain(self, chain, data=None) -> None:
        """Show ``chain`` (``data``: its ``chain_layer_data``, computed when None) and its score curve."""
        self.chain = chain
        show_chain(self.viewer, chain, data)
        self.save_button.setEnabled(True)
        self.status.setText(f"{len(chain)} representations of {chain.n_inputs} inputs; move the "
                            "'representation' slider to go through the chain.")
        self.update_position()

    def update_position(self, event=None) -> None:
        """Redraw the score curve with the pair starting at the slider's representation marked."""
        from ..report import plot_chain_scores

        if self.chain is None:
            return
        i = chain_position(self.viewer)
        k = next((k for k, (a, _) in enumerate(self.chain.pairs) if a == i), None)
        self.figure.clear()
        ax = self.figure.add_subplot(1, 1, 1)
        plot_chain_scores(ax, self.chain, current=k)
        self.figure.subplots_adjust(left=0.12, right=0.64, bottom=0.22, top=0.96)
        self.canvas.draw_idle()
        if i is None:
            self.current.setText("")
            return
        g = self.chain.graphs[i]
        text = f"<b>{self.chain.names[i]}</b>: {g.n_nodes} nodes, {len(g.edges)} edges"
        if k is not None:
            scores = ", ".join(f"{key} {v:.3f}" for key, v in self.chain.alignments[k].scores.items())
            text += f"<br>{self.chain.pair_label(k)}: {len(self.chain.alignments[k].regions)} regions; {scores}"
        self.current.setText(text)
