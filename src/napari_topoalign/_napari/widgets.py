"""Dock widgets: Load, Mapper, Align, Regions & motifs, and the combined TopoAlign widget.

All four sections share one :class:`Session` (the data, graphs and alignment of
this viewer). Long work runs in ``napari.qt.threading`` workers; user errors
become napari notifications and never touch the user's own layers.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from pathlib import Path

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..checks import check_same_inputs
from ..errors import FileFormatError, TopoAlignError
from ..io import InputTable
from ..mapper import CLUSTERERS, COVERS, LENSES, METRICS, MapperParams
from ._reader import INPUTS_KEY, REPRESENTATION_KEY, read_representations

MOTIFS = ("branch", "loop", "flare", "path")
MODES = {"side by side": "side_by_side", "overlay": "overlay"}


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


def available_devices() -> list[str]:
    """Device choices for the layout: auto and cpu, plus cuda when torch sees a GPU."""
    import torch

    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


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
        from .layers import show_alignment
        from .selection import LinkedSelection

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


NONE = "(none)"


def _affine_of(transform, ndim: int):
    """The affine map ``transform`` (one position -> one position) as (matrix, offset), probed at
    the origin and the unit vectors, so that it applies to many positions at once."""
    origin = np.asarray(transform(np.zeros(ndim)), dtype=float)
    matrix = np.column_stack([np.asarray(transform(e), dtype=float) - origin for e in np.eye(ndim)])
    return matrix, origin


def points_on_image(points, image) -> np.ndarray:
    """(N, 2) positions of a 2-D ``Points`` layer in the data (row, col) of a 2-D ``Image`` layer,
    through both layers' transforms (scale, translate, rotate, shear, affine)."""
    to_world, world_origin = _affine_of(points.data_to_world, 2)
    to_data, data_origin = _affine_of(image.world_to_data, 2)
    world = np.asarray(points.data, dtype=float) @ to_world.T + world_origin
    return world @ to_data.T + data_origin


def _own(layer, kind: str) -> bool:
    """A user's in-memory layer of ``kind`` ("image" or "points"): not a representation, inputs or plugin layer."""
    from napari.layers import Image, Points

    from .layers import ROLE_KEY

    cls = {"image": Image, "points": Points}[kind]
    if not isinstance(layer, cls) or getattr(layer, "multiscale", False):
        return False
    return not any(k in layer.metadata for k in (REPRESENTATION_KEY, INPUTS_KEY, ROLE_KEY))


def is_image_stack(layer, n: int | None) -> bool:
    """An image layer holding ``n`` images (any number when ``n`` is None): N×H×W (grey) or N×H×W×C (RGB)."""
    if not (_own(layer, "image") and layer.ndim == 3 and layer.data.ndim == 3 + layer.rgb):
        return False
    return n is None or layer.data.shape[0] == n


def is_source_image(layer) -> bool:
    """An image layer holding one 2-D image, grey (H×W) or RGB (H×W×C)."""
    return _own(layer, "image") and layer.ndim == 2


def is_positions(layer, n: int | None) -> bool:
    """A 2-D points layer with ``n`` points (one (row, col) per input; any number when ``n`` is None)."""
    return _own(layer, "points") and layer.ndim == 2 and (n is None or len(layer.data) == n)


class LoadWidget(_Section):
    """Choose representation A and B (viewer layers or files), optional input metadata, and
    optional source images: an image stack, or a source image with the inputs' positions."""

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        self.combo_a, self.combo_b, self.combo_inputs = QComboBox(), QComboBox(), QComboBox()
        self.combo_images, self.combo_source, self.combo_positions = QComboBox(), QComboBox(), QComboBox()
        form = QFormLayout(self)
        for label, combo, side in (
            ("Representation A", self.combo_a, "A"),
            ("Representation B", self.combo_b, "B"),
            ("Inputs (labels, texts, images)", self.combo_inputs, None),
            ("Images (N×H×W[×C] stack)", self.combo_images, "images"),
        ):
            row = QHBoxLayout()
            row.addWidget(combo, 1)
            button = QPushButton("Open…")
            button.setToolTip("Load from a file (.npy .npz .csv .tsv .parquet .h5ad .pt)")
            button.clicked.connect(lambda _=False, s=side: self._open_dialog(s))
            row.addWidget(button)
            form.addRow(label, row)
        source_row = QHBoxLayout()
        source_row.addWidget(self.combo_source, 1)
        source_row.addWidget(self.combo_positions, 1)
        self.combo_source.setToolTip("A 2-D (grey or RGB) image layer the inputs were taken from")
        self.combo_positions.setToolTip("A Points layer with one point per input, at its place on the source image")
        form.addRow("Source image + positions", source_row)
        for combo in (self.combo_a, self.combo_b):
            combo.currentIndexChanged.connect(self.refresh)
        for combo in (self.combo_inputs, self.combo_images, self.combo_source, self.combo_positions):
            combo.currentIndexChanged.connect(self.update_data)
        self.summary = QLabel("No representations loaded yet: open files or a sample (File ▸ Open Sample ▸ TopoAlign).")
        self.summary.setWordWrap(True)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #ff6b6b;")
        form.addRow(self.summary)
        form.addRow(self.problems)
        self._composed = None  # (the parts, the InputTable made of them), reused while they are the same
        self.viewer.layers.events.inserted.connect(self.refresh)
        self.viewer.layers.events.removed.connect(self.refresh)
        self.refresh()

    def refresh(self, event=None) -> None:
        """Re-list the viewer's layers: representations, inputs, and (for the chosen N) images and positions."""
        layers = list(self.viewer.layers)
        reps = [layer.name for layer in _layers_with(self.viewer, REPRESENTATION_KEY)]
        inputs = [NONE] + [layer.name for layer in _layers_with(self.viewer, INPUTS_KEY)]
        self._fill(self.combo_a, reps, 0)
        self._fill(self.combo_b, reps, 1)
        self._fill(self.combo_inputs, inputs, 1)
        n = self._n()  # None until A is chosen: then every stack and Points layer is listed
        self._fill(self.combo_images, [NONE] + [la.name for la in layers if is_image_stack(la, n)], 0)
        self._fill(self.combo_source, [NONE] + [la.name for la in layers if is_source_image(la)], 0)
        self._fill(self.combo_positions, [NONE] + [la.name for la in layers if is_positions(la, n)], 0)
        self.update_data()

    @staticmethod
    def _fill(combo, names, default) -> None:
        """Set the combo's items, keeping its choice when still listed, else choosing ``default``."""
        current = combo.currentText()
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(names)
        if current in names:
            combo.setCurrentText(current)
        elif names:
            combo.setCurrentIndex(min(default, len(names) - 1))
        combo.blockSignals(False)

    def _open_dialog(self, side) -> None:
        title = {"A": "Open representation", "B": "Open representation", None: "Open input metadata",
                 "images": "Open an image stack (.npy, or .npz with 'images')"}[side]
        path, _ = QFileDialog.getOpenFileName(self, title)
        if path:
            self.open_file(path, side)

    def open_file(self, path, side=None) -> bool:
        """Load ``path`` as representation(s) (``side`` "A"/"B"), input metadata (``side`` None)
        or an image stack (``side`` "images": an ``.npy`` stack or ``.npz`` with ``images``).

        Adds a layer carrying what was loaded and selects it; on a bad file shows a
        notification and leaves everything as it was.
        """
        from napari.layers import Layer

        from .. import load_inputs

        try:
            if side == "images":
                table = load_inputs(path)
                if table.images is None:
                    raise FileFormatError(f"{Path(path).name} holds no images; save an (N, H, W[, C]) stack "
                                         "as .npy, or as 'images' in an .npz.")
                rgb = table.images.ndim == 4
                data = [(table.images, {"name": Path(path).stem, "rgb": rgb}, "image")]
            elif side is None:
                from ._sample_data import inputs_layer_data

                data = [inputs_layer_data(load_inputs(path), Path(path).stem)]
            else:
                data = read_representations(path)
        except (TopoAlignError, OSError) as exc:
            report_error(exc)
            self.problems.setText(str(exc))
            return False
        added = [self.viewer.add_layer(Layer.create(*d)) for d in data]
        combo = {"A": self.combo_a, "B": self.combo_b, None: self.combo_inputs, "images": self.combo_images}[side]
        combo.setCurrentText(added[0].name)
        if side == "A" and len(added) > 1:
            self.combo_b.setCurrentText(added[1].name)
        if combo.currentText() != added[0].name:  # an image stack of another N is not listed
            self.update_data()
            self._problem(f"{added[0].name} holds {len(data[0][0])} images but the representations have "
                          f"{self._n()} inputs; open a stack of the same inputs.")
            return False
        return True

    def _layer(self, combo):
        name = combo.currentText()
        return self.viewer.layers[name] if name != NONE and name in self.viewer.layers else None

    def _chosen(self, combo, key):
        layer = self._layer(combo)
        return None if layer is None else layer.metadata.get(key)

    def _n(self):
        rep_a = self._chosen(self.combo_a, REPRESENTATION_KEY)
        return None if rep_a is None else rep_a.X.shape[0]

    def _problem(self, text) -> None:
        self.problems.setText(text)
        show_error(text)

    def _source_parts(self, n) -> tuple:
        """The chosen images, source image and positions, each checked to describe ``n`` inputs."""
        problems = []
        images_layer = self._layer(self.combo_images)
        images = None if images_layer is None else images_layer.data
        if images is not None and len(images) != n:
            problems.append(f"the image stack {images_layer.name} holds {len(images)} images but there are {n} inputs.")
            images = None
        source_layer, points_layer = self._layer(self.combo_source), self._layer(self.combo_positions)
        source = coords = None
        if (source_layer is None) != (points_layer is None):
            problems.append("choose both a source image and a Points layer of the inputs' positions on it, or neither.")
        elif source_layer is not None:
            if len(points_layer.data) != n:
                problems.append(f"the Points layer {points_layer.name} has {len(points_layer.data)} points but "
                                f"there are {n} inputs; it needs one point per input.")
            else:
                source, coords = source_layer.data, points_on_image(points_layer, source_layer)
        return images, source, coords, problems

    def _inputs_table(self, base, n, images, source, coords):
        """``base`` (or an empty table of ``n`` inputs) with the chosen images, source image and positions;
        the same object as last time while the parts are the same (so the graphs are kept)."""
        if images is None and source is None:
            return base
        if self._composed is not None:
            (b, i, s, c), table = self._composed
            same_coords = c is coords or (c is not None and coords is not None and np.array_equal(c, coords))
            if b is base and i is images and s is source and same_coords:
                return table
        extra = dict(images=images if images is not None else getattr(base, "images", None),
                     source_image=source, coords=coords)
        table = InputTable(n, **extra) if base is None else dataclasses.replace(base, **extra)
        self._composed = (base, images, source, coords), table
        return table

    def update_data(self, *_) -> None:
        """Check the chosen data, show N, dimensions and problems, and hand it to the session."""
        rep_a = self._chosen(self.combo_a, REPRESENTATION_KEY)
        rep_b = self._chosen(self.combo_b, REPRESENTATION_KEY)
        base = self._chosen(self.combo_inputs, INPUTS_KEY)
        if rep_a is None or rep_b is None:
            self.session.set_data(None, None, None)
            return
        problems = []
        try:
            check_same_inputs(rep_a.X, rep_b.X, names=(rep_a.name, rep_b.name))
        except TopoAlignError as exc:
            problems.append(str(exc))
        n = rep_a.X.shape[0]
        if base is not None and base.n_inputs != n:
            problems.append(
                f"the input metadata describes {base.n_inputs} inputs but the representations have {n}; "
                "choose metadata for the same inputs or none."
            )
        images, source, coords, source_problems = self._source_parts(n)
        problems += source_problems
        inputs = None
        if not problems:
            try:
                inputs = self._inputs_table(base, n, images, source, coords)
            except TopoAlignError as exc:
                problems.append(str(exc))
        extras = []
        if inputs is not None:
            extras = [name for name in ("labels", "texts", "images", "source_image") if getattr(inputs, name) is not None]
        self.summary.setText(
            f"<b>N = {n}</b> inputs · A: <b>{rep_a.name}</b> ({rep_a.X.shape[1]}-D) · "
            f"B: <b>{rep_b.name}</b> ({rep_b.X.shape[1]}-D)"
            + (f" · inputs with {', '.join(extras)}" if extras else "")
        )
        self.problems.setText("\n".join(problems))
        if problems:
            show_error("\n".join(problems))
            self.session.set_data(None, None, None)
        else:
            self.session.inputs_base = base
            self.session.set_data(rep_a, rep_b, inputs)


class ParamsForm(QWidget):
    """The mapper parameters of one graph, as a form that produces a ``MapperParams``."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        d = MapperParams()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.lens = self._combo(LENSES, d.lens, "Filter function: l2norm, first PC, kNN density or eccentricity")
        self.cover = self._combo(COVERS, d.cover, "uniform: equal lengths; balanced: equal counts")
        self.n_intervals = self._spin(QSpinBox(), 1, 500, d.n_intervals)
        self.overlap = self._spin(QDoubleSpinBox(), 0.0, 0.95, d.overlap, step=0.05)
        self.clusterer = self._combo(CLUSTERERS, d.clusterer, "Clustering within each cover element")
        self.auto_eps = QCheckBox("auto")
        self.auto_eps.setChecked(d.eps is None)
        self.eps = self._spin(QDoubleSpinBox(), 1e-4, 1e6, 1.0, step=0.1, decimals=4)
        self.eps.setEnabled(False)
        self.auto_eps.toggled.connect(lambda on: self.eps.setEnabled(not on))
        self.auto_eps.toggled.connect(self.changed.emit)
        eps_row = QHBoxLayout()
        eps_row.addWidget(self.auto_eps)
        eps_row.addWidget(self.eps, 1)
        self.min_samples = self._spin(QSpinBox(), 1, 1000, d.min_samples)
        self.metric = self._combo(METRICS, d.metric, "Distance between inputs")
        for label, w in (("lens", self.lens), ("cover", self.cover), ("intervals", self.n_intervals),
                         ("overlap", self.overlap), ("clusterer", self.clusterer)):
            form.addRow(label, w)
        form.addRow("eps", eps_row)
        form.addRow("min samples", self.min_samples)
        form.addRow("metric", self.metric)

    def _combo(self, items, value, tip):
        combo = QComboBox()
        combo.addItems(list(items))
        combo.setCurrentText(value)
        combo.setToolTip(tip)
        combo.currentIndexChanged.connect(self.changed.emit)
        return combo

    def _spin(self, spin, lo, hi, value, step=1, decimals=2):
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        if isinstance(spin, QDoubleSpinBox):
            spin.setDecimals(decimals)
        spin.setValue(value)
        spin.valueChanged.connect(self.changed.emit)
        return spin

    def params(self) -> MapperParams:
        return MapperParams(
            lens=self.lens.currentText(),
            n_intervals=self.n_intervals.value(),
            overlap=self.overlap.value(),
            cover=self.cover.currentText(),
            clusterer=self.clusterer.currentText(),
            eps=None if self.auto_eps.isChecked() else self.eps.value(),
            min_samples=self.min_samples.value(),
            metric=self.metric.currentText(),
        )

    def set_params(self, p: MapperParams) -> None:
        """Show ``p`` in the form (a lens given as an array is not representable and is left as is)."""
        if isinstance(p.lens, str):
            self.lens.setCurrentText(p.lens)
        self.cover.setCurrentText(p.cover)
        self.n_intervals.setValue(int(p.n_intervals))
        self.overlap.setValue(float(p.overlap))
        self.clusterer.setCurrentText(p.clusterer)
        self.auto_eps.setChecked(p.eps is None)
        if p.eps is not None:
            self.eps.setValue(float(p.eps))
        self.min_samples.setValue(int(p.min_samples))
        self.metric.setCurrentText(p.metric)

    def show_eps(self, eps: float) -> None:
        """Display the radius that was used (the chosen one when eps is automatic)."""
        self.eps.blockSignals(True)
        self.eps.setValue(eps)
        self.eps.blockSignals(False)


def _graph_text(name, g) -> str:
    eps = "n/a" if g.params.eps is None else f"{g.params.eps:.4g}"
    text = f"<b>{name}</b>: {g.n_nodes} nodes, {len(g.edges)} edges, eps = {eps}"
    if len(g.uncovered):
        text += f", {len(g.uncovered)} inputs in no node"
    return text


@thread_worker(ignore_errors=True)
def _build_graphs(X_a, X_b, settings):
    from ..alignment import build_graphs

    return build_graphs(X_a, X_b, **settings)


class MapperWidget(_Section):
    """Mapper parameters for A and B (shared or separate); Build shows node/edge counts and eps."""

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        layout = QVBoxLayout(self)
        self.shared = QCheckBox("same parameters for A and B")
        self.shared.setChecked(True)
        self.form_a, self.form_b = ParamsForm(), ParamsForm()
        self.box_a, self.box_b = QGroupBox("A (and B)"), QGroupBox("B")
        for box, form in ((self.box_a, self.form_a), (self.box_b, self.form_b)):
            QVBoxLayout(box).addWidget(form)
            form.changed.connect(self._params_changed)
        self.box_b.setVisible(False)
        self.shared.toggled.connect(self._shared_toggled)
        self.shared_lens = QCheckBox("slice B by A's lens (shared cover)")
        self.shared_lens.setToolTip(
            "Both graphs then come from the same cover elements, so their nodes correspond one to one "
            "wherever the two representations cluster the inputs alike."
        )
        self.shared_lens.toggled.connect(self._params_changed)
        self.build_button = QPushButton("Build mapper graphs")
        self.build_button.clicked.connect(self.build)
        self.counts = QLabel("Graphs not built yet (Align builds them too).")
        self.counts.setWordWrap(True)
        for w in (self.shared, self.shared_lens, self.box_a, self.box_b, self.build_button, self.counts):
            layout.addWidget(w)
        layout.addStretch(1)
        session.graphs_changed.connect(self._show_graphs)

    def _shared_toggled(self, shared: bool) -> None:
        self.box_b.setVisible(not shared)
        self.box_a.setTitle("A (and B)" if shared else "A")
        self._params_changed()

    def _params_changed(self) -> None:
        if self.session.graph_a is not None:
            self.session.set_graphs(None, None)

    def settings(self) -> dict:
        """``build_graphs``/``align`` settings as set in the form: params, params_b, shared_lens."""
        a = self.form_a.params()
        b = a if self.shared.isChecked() else self.form_b.params()
        return {"params": a, "params_b": b, "shared_lens": self.shared_lens.isChecked()}

    def set_settings(self, params: MapperParams, params_b: MapperParams, shared_lens: bool) -> None:
        """Show recommended settings (e.g. a sample's) in the form."""
        self.form_a.set_params(params)
        self.form_b.set_params(params_b)
        self.shared.setChecked(params_b == params)
        self.shared_lens.setChecked(shared_lens)

    def build(self) -> None:
        s = self.session
        if s.rep_a is None:
            show_error("Choose representations A and B in Load first.")
            return
        self.counts.setText("Building…")
        worker = _build_graphs(s.rep_a.X, s.rep_b.X, self.settings())
        self._start(worker, lambda graphs: s.set_graphs(*graphs), [self.build_button])

    def _show_graphs(self) -> None:
        s = self.session
        if s.graph_a is None:
            self.counts.setText("Graphs not built yet (Align builds them too).")
            return
        self.form_a.show_eps(s.graph_a.params.eps)
        self.form_b.show_eps(s.graph_b.params.eps)
        names = (s.rep_a.name, s.rep_b.name)
        self.counts.setText("<br>".join(_graph_text(n, g) for n, g in zip(names, (s.graph_a, s.graph_b))))


@thread_worker(ignore_errors=True)
def _align_steps(X_a, X_b, graphs, settings, kwargs, cancel: threading.Event):
    """Build the graphs (unless given), then run ``align`` in a helper thread.

    Yields ``("progress", stage, fraction)``, ``("graphs", A, B)`` and
    ``("positions", iteration, pos_a, pos_b)`` (only the newest positions, so a slow
    canvas never falls behind); returns the Alignment. ``align`` reuses these graphs
    (``graphs=``) rather than building them again. Closing the generator
    (worker.quit) sets ``cancel``, which stops the pipeline at its next callback.
    """
    from .. import align
    from ..alignment import build_graphs

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
            show_error("Choose representations A and B in Load first.")
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
        from .layers import keep_in_view, update_positions

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
        from .layers import find_layer, fit_view, show_graphs

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
        from .layers import remove_roles

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


class _SortableItem(QTableWidgetItem):
    """A read-only table cell showing ``text`` and sorting by ``value``."""

    def __init__(self, value, text):
        super().__init__(text)
        self.value = value
        self.setFlags(self.flags() & ~Qt.ItemIsEditable)
        self.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def __lt__(self, other):
        return self.value < other.value


def _table(headers) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    return table


@thread_worker(ignore_errors=True)
def _motif_worker(A, B, C, kind):
    from .. import motif_alignment

    return motif_alignment(A, B, C, kind)


class RegionsWidget(_Section):
    """Matching regions (sortable), alignment scores, motif queries and the selected inputs' texts."""

    REGION_COLUMNS = ("rank", "score", "nodes A", "nodes B", "inputs")

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        layout = QVBoxLayout(self)
        self.scores = _table(("score", "value"))
        self.regions = _table(self.REGION_COLUMNS)
        self.regions.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.regions.setSelectionMode(QAbstractItemView.SingleSelection)
        self.regions.setSortingEnabled(True)
        self.regions.itemSelectionChanged.connect(self._region_chosen)
        motif_row = QHBoxLayout()
        self.motif = QComboBox()
        self.motif.addItems(list(MOTIFS))
        self.motif_button = QPushButton("Find in A, check in B")
        self.motif_button.clicked.connect(self.query_motif)
        motif_row.addWidget(self.motif, 1)
        motif_row.addWidget(self.motif_button)
        self.motif_counts = QLabel()
        self.motif_counts.setWordWrap(True)
        self.selected_label = QLabel("Selected inputs")
        self.texts = QListWidget()
        self.texts.setWordWrap(True)
        self.texts.setMinimumHeight(120)
        layout.addWidget(QLabel("<b>Alignment scores</b>"))
        layout.addWidget(self.scores)
        layout.addWidget(QLabel("<b>Matching regions</b> (click a row to show it)"))
        layout.addWidget(self.regions, 1)
        layout.addWidget(QLabel("<b>Motifs</b>"))
        layout.addLayout(motif_row)
        layout.addWidget(self.motif_counts)
        layout.addWidget(self.selected_label)
        layout.addWidget(self.texts, 1)
        self.motif_button.setEnabled(False)
        session.alignment_changed.connect(self._fill)

    def _fill(self) -> None:
        al = self.session.alignment
        self.scores.setRowCount(0)
        for name, value in al.scores.items():
            row = self.scores.rowCount()
            self.scores.insertRow(row)
            self.scores.setItem(row, 0, QTableWidgetItem(name.replace("_", " ")))
            self.scores.setItem(row, 1, _SortableItem(float(value), f"{value:.3f}"))
        rows = sum(self.scores.rowHeight(r) for r in range(self.scores.rowCount()))
        self.scores.setFixedHeight(self.scores.horizontalHeader().height() + rows + 4)
        self.regions.setSortingEnabled(False)
        self.regions.setRowCount(len(al.regions))
        for i, r in enumerate(al.regions):
            values = (i + 1, float(r.score), len(r.nodes_a), len(r.nodes_b), len(r.inputs))
            for col, v in enumerate(values):
                self.regions.setItem(i, col, _SortableItem(v, f"{v:.3f}" if col == 1 else str(v)))
        self.regions.horizontalHeader().setSortIndicator(0, Qt.AscendingOrder)  # best first
        self.regions.setSortingEnabled(True)
        self.motif_button.setEnabled(True)
        self.motif_counts.setText("")
        self.texts.clear()
        selection = self.session.selection
        if selection is not None:
            selection.changed.connect(self._show_texts)

    def _region_chosen(self) -> None:
        rows = {i.row() for i in self.regions.selectedItems()}
        if len(rows) == 1:
            self.show_region(self.regions.item(rows.pop(), 0).value - 1)

    def select_region(self, index: int) -> None:
        """Select the table row of region ``index`` (0-based rank), which shows it."""
        row = next(r for r in range(self.regions.rowCount()) if self.regions.item(r, 0).value == index + 1)
        self.regions.selectRow(row)

    def show_region(self, index: int) -> None:
        """Highlight region ``index`` (both Bubble Sets and its membrane) and centre the view on it."""
        from .layers import centre_on, highlight_region

        centre_on(self.viewer, highlight_region(self.session.layers, index))

    def query_motif(self) -> None:
        al = self.session.alignment
        kind = self.motif.currentText()
        self.motif_counts.setText(f"Looking for {kind} motifs…")
        self._start(
            _motif_worker(al.graph_a, al.graph_b, al.correspondence, kind),
            lambda matches: self._show_motifs(kind, matches),
            [self.motif_button],
        )

    def _show_motifs(self, kind, matches) -> None:
        from .layers import show_motifs

        show_motifs(self.session.layers, matches)
        status = [m.status for m in matches]
        counts = ", ".join(f"{status.count(s)} {s}" for s in ("preserved", "broken", "absent"))
        self.motif_counts.setText(f"{len(matches)} {kind} motif(s) in A: {counts} in B.")

    def _show_texts(self, *_) -> None:
        texts = list(self.session.selection.texts)
        self.selected_label.setText(f"Selected inputs: {len(texts)}")
        self.texts.clear()
        self.texts.addItems([str(t) for t in texts[:500]])


class TopoAlignWidget(QWidget):
    """The TopoAlign dock widget: Load, Mapper, Align and Regions & motifs as tabs over one session."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.session = Session(napari_viewer)
        self.load = LoadWidget(self.session)
        self.mapper = MapperWidget(self.session)
        self.align = AlignWidget(self.session, self.mapper)
        self.regions = RegionsWidget(self.session)
        self.tabs = QTabWidget()
        for w, name in ((self.load, "Load"), (self.mapper, "Mapper"), (self.align, "Align"),
                        (self.regions, "Regions && motifs")):
            self.tabs.addTab(w, name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs)
        self.session.alignment_changed.connect(lambda: self.tabs.setCurrentWidget(self.regions))
