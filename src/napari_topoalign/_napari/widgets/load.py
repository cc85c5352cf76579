"""The Load tab: representations A and B, input metadata and source images."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton

from ...errors import FileFormatError, TopoAlignError
from ...io import InputTable
from .._reader import INPUTS_KEY, REPRESENTATION_KEY, SAMPLE_KEY, read_representations
from . import session as _session
from .session import _layers_with, _Section, report_error


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

    from ..layers import ROLE_KEY

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
    optional source images: an image stack, or a source image with the inputs' positions.

    Representation layers are handed to the session as they arrive (first → A, second → B);
    an inputs layer that arrives becomes the chosen inputs; a sample's inputs layer also puts
    the sample's representations on A and B and applies its recommended mapper settings. The
    combos show the session's choice; choosing the same representation for A and B by hand is
    allowed and noted.
    """

    def __init__(self, session, view, parent=None):
        super().__init__(session, view, parent)
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
        # a choice in these combos is the user's (the listing fills them with signals blocked)
        self.combo_a.currentIndexChanged.connect(lambda _: self._chosen_by_hand("a", self.combo_a))
        self.combo_b.currentIndexChanged.connect(lambda _: self._chosen_by_hand("b", self.combo_b))
        for combo in (self.combo_inputs, self.combo_images, self.combo_source, self.combo_positions):
            combo.currentIndexChanged.connect(self.update_data)
        self.summary = QLabel("No representations loaded yet: open files or a sample (File ▸ Open Sample ▸ TopoAlign).")
        self.summary.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #f0c040;")
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #ff6b6b;")
        form.addRow(self.summary)
        form.addRow(self.note)
        form.addRow(self.problems)
        self._composed = None  # (the parts, the InputTable made of them), reused while they are the same
        self._inputs_layer = None  # the inputs layer that arrived last (the default choice)
        self._shown_problems = ""
        self._refreshing = False
        self._sides = []  # sides for the representations of a file being opened for A or B
        for layer in list(self.viewer.layers):  # opened before the widget: in their order
            self._arrived(layer)
        self.viewer.layers.events.inserted.connect(self._on_inserted)
        self.viewer.layers.events.removed.connect(self._on_removed)
        session.events.data.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ arrivals
    def _on_inserted(self, event) -> None:
        self._arrived(event.value)
        self.refresh()

    def _on_removed(self, event) -> None:
        rep = event.value.metadata.get(REPRESENTATION_KEY)
        if rep is not None:
            self.session.remove_representation(rep)
        self.refresh()

    def _arrived(self, layer) -> None:
        """A layer joined the viewer: a representation goes to the session (A, then B); an inputs
        layer becomes the chosen inputs; a sample's inputs layer brings the whole sample."""
        rep = layer.metadata.get(REPRESENTATION_KEY)
        if rep is not None:
            self.session.add_representation(rep, self._sides.pop(0) if self._sides else None)
        if INPUTS_KEY in layer.metadata:
            self._inputs_layer = layer
            self._fill(self.combo_inputs, self._inputs_names(), layer.name)
            sample = layer.metadata.get(SAMPLE_KEY)
            if sample is not None:
                self.session.apply_sample(sample)

    def _chosen_by_hand(self, side, combo) -> None:
        self.session.set_representation(side, self._chosen(combo, REPRESENTATION_KEY))

    # ------------------------------------------------------------------ listing
    def _rep_layers(self) -> list:
        return _layers_with(self.viewer, REPRESENTATION_KEY)

    def _inputs_names(self) -> list[str]:
        return [NONE] + [layer.name for layer in _layers_with(self.viewer, INPUTS_KEY)]

    def _name_of(self, rep) -> str:
        return next((la.name for la in self._rep_layers() if la.metadata[REPRESENTATION_KEY] is rep), NONE)

    def refresh(self, event=None) -> None:
        """Re-list the viewer's layers; the combos show the session's A and B; for the chosen N,
        the image stacks and positions that fit."""
        if self._refreshing:  # the session's data event while this refresh hands it the inputs
            return
        self._refreshing = True
        try:
            self._refresh()
        finally:
            self._refreshing = False

    def _refresh(self) -> None:
        layers = list(self.viewer.layers)
        reps = [NONE] + [layer.name for layer in self._rep_layers()]
        self._fill(self.combo_a, reps, self._name_of(self.session.rep_a))
        self._fill(self.combo_b, reps, self._name_of(self.session.rep_b))
        current = self.combo_inputs.currentText()
        default = current if current in self._inputs_names() else getattr(self._inputs_layer, "name", NONE)
        self._fill(self.combo_inputs, self._inputs_names(), default)
        n = self._n()  # None until A is chosen: then every stack and Points layer is listed
        self._fill(self.combo_images, [NONE] + [la.name for la in layers if is_image_stack(la, n)])
        self._fill(self.combo_source, [NONE] + [la.name for la in layers if is_source_image(la)])
        self._fill(self.combo_positions, [NONE] + [la.name for la in layers if is_positions(la, n)])
        self.update_data()

    @staticmethod
    def _fill(combo, names, choice=None) -> None:
        """Set the combo's items and choose ``choice`` (None: keep the current one when still listed)."""
        current = combo.currentText() if choice is None else choice
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(names)
        combo.setCurrentText(current if current in names else names[0])
        combo.blockSignals(False)

    def _open_dialog(self, side) -> None:
        title = {"A": "Open representation", "B": "Open representation", None: "Open input metadata",
                 "images": "Open an image stack (.npy, or .npz with 'images')"}[side]
        path, _ = QFileDialog.getOpenFileName(self, title)
        if path:
            self.open_file(path, side)

    def open_file(self, path, side=None) -> bool:
        """Load ``path`` as representation(s) for ``side`` "A"/"B" (a file of several: the first there,
        the second on the other side), input metadata (``side`` None) or an image stack (``side``
        "images": an ``.npy`` stack or ``.npz`` with ``images``).

        Adds a layer carrying what was loaded and selects it; on a bad file, or one describing
        other inputs than those loaded (``_other_inputs``), shows a notification and leaves
        everything as it was (no layer added).
        """
        from napari.layers import Layer

        from ... import load_inputs

        try:
            if side == "images":
                table = load_inputs(path)
                if table.images is None:
                    raise FileFormatError(f"{Path(path).name} holds no images; save an (N, H, W[, C]) stack "
                                         "as .npy, or as 'images' in an .npz.")
                rgb = table.images.ndim == 4
                data = [(table.images, {"name": Path(path).stem, "rgb": rgb}, "image")]
            elif side is None:
                from .._sample_data import inputs_layer_data

                data = [inputs_layer_data(load_inputs(path), Path(path).stem)]
            else:
                data = read_representations(path)
        except (TopoAlignError, OSError) as exc:
            report_error(exc)
            self.problems.setText(str(exc))
            return False
        refused = self._other_inputs(path, data, side)
        if refused:
            self._problem(refused)
            return False
        if side in ("A", "B"):  # the first representation goes there, a second to the other side
            self._sides = [side.lower(), "b" if side == "A" else "a"]
        try:
            added = [self.viewer.add_layer(Layer.create(*d)) for d in data]
        finally:
            self._sides = []
        if side in ("A", "B"):
            return True
        {None: self.combo_inputs, "images": self.combo_images}[side].setCurrentText(added[0].name)
        return True

    def _other_inputs(self, path, data, side) -> str:
        """Why ``data`` read from ``path`` for ``side`` describes other inputs than those loaded
        ("" when it does not): a single representation against the other side's, metadata or
        an image stack against the representations."""
        s = self.session
        if side in ("A", "B"):
            other = s.rep_b if side == "A" else s.rep_a
            if len(data) != 1 or other is None:
                return ""
            count, n, what = len(data[0][0]), other.n_inputs, f"{'B' if side == 'A' else 'A'} ({other.name})"
        else:
            rep = s.rep_a or s.rep_b
            if rep is None:
                return ""
            table = data[0][1].get("metadata", {}).get(INPUTS_KEY) if side is None else None
            count = table.n_inputs if table is not None else len(data[0][0])
            n, what = rep.n_inputs, f"the representations ({rep.name})"
        if count == n:
            return ""
        kind = "images" if side == "images" else "inputs"
        return (f"{Path(path).name} holds {count} {kind} but {what} has {n} inputs; it was not added. "
                f"Open a file of the same {n} inputs.")

    def _layer(self, combo):
        name = combo.currentText()
        return self.viewer.layers[name] if name != NONE and name in self.viewer.layers else None

    def _chosen(self, combo, key):
        layer = self._layer(combo)
        return None if layer is None else layer.metadata.get(key)

    def _n(self):
        rep = self.session.rep_a or self.session.rep_b
        return None if rep is None else rep.n_inputs

    def _problem(self, text) -> None:
        self.problems.setText(text)
        _session.show_error(text)

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
        """Compose the input table from the chosen layers, hand it to the session, and show N,
        dimensions, the note on A and B, and what stops an alignment."""
        s = self.session
        base = self._chosen(self.combo_inputs, INPUTS_KEY)
        problems = []
        n = self._n()
        if n is not None:
            images, source, coords, problems = self._source_parts(n)
            inputs = base
            if not problems and (base is None or base.n_inputs == n):
                try:
                    inputs = self._inputs_table(base, n, images, source, coords)
                except TopoAlignError as exc:
                    problems.append(str(exc))
            self.view.inputs_base = base
            s.set_inputs(inputs)
        else:
            s.set_inputs(base)
        problems = s.problems() + problems
        if s.rep_a is not None and s.rep_b is not None:
            extras = [] if s.inputs is None else [
                name for name in ("labels", "texts", "images", "source_image") if getattr(s.inputs, name) is not None
            ]
            self.summary.setText(
                f"<b>N = {s.rep_a.n_inputs}</b> inputs · A: <b>{s.rep_a.name}</b> ({s.rep_a.X.shape[1]}-D) · "
                f"B: <b>{s.rep_b.name}</b> ({s.rep_b.X.shape[1]}-D)"
                + (f" · inputs with {', '.join(extras)}" if extras else "")
            )
        self.note.setText(s.note)
        text = "\n".join(problems)
        self.problems.setText(text)
        if text and text != self._shown_problems and s.rep_a is not None and s.rep_b is not None:
            _session.show_error(text)
        self._shown_problems = text
