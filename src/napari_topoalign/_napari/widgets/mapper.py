"""The Mapper tab: mapper parameters of A and B, and Build."""

from __future__ import annotations

import html
from weakref import WeakKeyDictionary

from napari.qt.threading import thread_worker
from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...mapper import CLUSTERERS, COVERS, LENSES, METRICS, MapperParams
from . import session as _session
from ...session import same_params
from .session import _Section


class ParamsForm(QWidget):
    """The mapper parameters of one graph, as a form that produces a ``MapperParams``."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        d = MapperParams()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.lens = self._combo(LENSES, d.lens, "Filter function: auto (first PC, or first three PCs when the "
                                "variance is spread), first 1-3 PCs, l2norm, kNN density or eccentricity")
        self.cover = self._combo(COVERS, d.cover, "uniform: equal lengths; balanced: equal counts")
        self.n_intervals = self._spin(QSpinBox(), 0, 500, 0)
        self.n_intervals.setSpecialValueText("auto")  # 0: None, 10 (or 5 per dimension of a 3-D lens)
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
        self.min_samples = self._spin(QSpinBox(), 0, 1000, 0)
        self.min_samples.setSpecialValueText("auto")  # 0: None, floor(ln N)
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
            n_intervals=self.n_intervals.value() or None,
            overlap=self.overlap.value(),
            cover=self.cover.currentText(),
            clusterer=self.clusterer.currentText(),
            eps=None if self.auto_eps.isChecked() else self.eps.value(),
            min_samples=self.min_samples.value() or None,
            metric=self.metric.currentText(),
        )

    def set_params(self, p: MapperParams) -> None:
        """Show ``p`` in the form (a lens given as an array is not representable and is left as is)."""
        if isinstance(p.lens, str):
            self.lens.setCurrentText(p.lens)
        self.cover.setCurrentText(p.cover)
        counts = p.n_intervals
        self.n_intervals.setValue(0 if counts is None else int(counts[0] if isinstance(counts, (tuple, list)) else counts))
        self.overlap.setValue(float(p.overlap))
        self.clusterer.setCurrentText(p.clusterer)
        self.auto_eps.setChecked(p.eps is None)
        if p.eps is not None:
            self.eps.setValue(float(p.eps))
        self.min_samples.setValue(0 if p.min_samples is None else int(p.min_samples))
        self.metric.setCurrentText(p.metric)

    def show_eps(self, eps: float) -> None:
        """Display the radius that was used (the chosen one when eps is automatic)."""
        self.eps.blockSignals(True)
        self.eps.setValue(eps)
        self.eps.blockSignals(False)


#: Layout iterations of the preview drawn after Build (Align runs the full layout).
PREVIEW_ITERATIONS = 60


def _graph_text(name, g, faithfulness=None) -> str:
    """One graph's line: its size, the settings used (what "auto" chose), coverage and faithfulness."""
    p = g.params
    eps = "n/a" if p.eps is None else f"{p.eps:.4g}"
    lens = p.lens if isinstance(p.lens, str) else "given"
    counts = "×".join(map(str, p.n_intervals)) if isinstance(p.n_intervals, (tuple, list)) else str(p.n_intervals)
    share = 100.0 * len(g.uncovered) / max(g.n_inputs, 1)
    faithful = "" if faithfulness is None else f", faithfulness {faithfulness:.2f}"
    warning = g.coverage_warning()
    return (f"<b>{name}</b>: {g.n_nodes} nodes, {len(g.edges)} edges (lens {lens}, {counts} intervals, "
            f"{p.metric}, min samples {p.min_samples}, eps = {eps}), "
            f"{len(g.uncovered)} inputs in no node ({share:.1f}%){faithful}"
            + ("" if warning is None else f"<br><span style='color:#e8a33d'>{html.escape(warning)}</span>"))


@thread_worker(ignore_errors=True)
def _build_graphs(X_a, X_b, settings, mode="side_by_side"):
    """Both graphs, then a quick joint layout of ``PREVIEW_ITERATIONS`` to preview them; yields
    what it starts next (for the progress label), returns ``(graph_a, graph_b, correspondence,
    layout, (faithfulness_a, faithfulness_b))``."""
    from ...correspond import correspondence
    from ...layout import joint_layout
    from ...mapper import graph_faithfulness
    from ...pipeline import graph_steps
    from ...threads import thread_policy

    with thread_policy(reserve=1):  # one core stays with the GUI
        yield "building graph A…"
        graphs = []
        for graph in graph_steps(X_a, X_b, **settings):
            graphs.append(graph)
            if len(graphs) == 1:
                yield f"graph A: {graph.n_nodes} nodes; building graph B…"
        graph_a, graph_b = graphs
        yield f"graphs: {graph_a.n_nodes} + {graph_b.n_nodes} nodes; a quick layout for the preview…"
        C = correspondence(graph_a, graph_b)
        layout = joint_layout(graph_a, graph_b, C, mode=mode, iterations=PREVIEW_ITERATIONS, device="cpu")
        yield "faithfulness of both graphs…"
        faithfulness = (graph_faithfulness(X_a, graph_a), graph_faithfulness(X_b, graph_b))
    return graph_a, graph_b, C, layout, faithfulness


class MapperWidget(_Section):
    """Mapper parameters for A and B (shared or separate), bound to the session; Build shows node/edge counts and eps."""

    def __init__(self, session, view, parent=None):
        super().__init__(session, view, parent)
        self.faithfulness = WeakKeyDictionary()  # graph -> graph_faithfulness, computed by Build
        layout = QVBoxLayout(self)
        self.shared = QCheckBox("same parameters for A and B")
        self.shared.setChecked(True)
        self.form_a, self.form_b = ParamsForm(), ParamsForm()
        self.box_a, self.box_b = QGroupBox("A (and B)"), QGroupBox("B")
        for box, form in ((self.box_a, self.form_a), (self.box_b, self.form_b)):
            QVBoxLayout(box).addWidget(form)
            form.changed.connect(self._form_changed)
        self.box_b.setVisible(False)
        self.shared.toggled.connect(self._shared_toggled)
        self.shared_lens = QCheckBox("slice B by A's lens (shared cover)")
        self.shared_lens.setToolTip(
            "Both graphs then come from the same cover elements, so their nodes correspond one to one "
            "wherever the two representations cluster the inputs alike."
        )
        self.shared_lens.toggled.connect(self._form_changed)
        self.build_button = QPushButton("Build mapper graphs")
        self.build_button.clicked.connect(self.build)
        self.counts = QLabel("Graphs not built yet (Align builds them too).")
        self.counts.setWordWrap(True)
        for w in (self.shared, self.shared_lens, self.box_a, self.box_b, self.build_button, self.counts):
            layout.addWidget(w)
        layout.addStretch(1)
        self._showing = False
        self.preview = None  # the AlignmentLayers of the last preview
        session.events.graphs.connect(self._show_graphs)
        session.events.params.connect(self._show_params)
        self._show_params()

    def _shared_toggled(self, shared: bool) -> None:
        self.box_b.setVisible(not shared)
        self.box_a.setTitle("A (and B)" if shared else "A")
        self._form_changed()

    def _form_changed(self) -> None:
        """The form was edited: its settings go to the session."""
        if not self._showing:
            self.session.set_params(**self.settings())

    def _show_params(self) -> None:
        """Show the session's settings (e.g. a sample's recommended ones) in the form."""
        s = self.session
        self._showing = True
        try:
            self.form_a.set_params(s.params_a)
            self.form_b.set_params(s.params_b)
            self.shared.setChecked(same_params(s.params_a, s.params_b))
            self.shared_lens.setChecked(s.shared_lens)
        finally:
            self._showing = False

    def settings(self) -> dict:
        """The form's settings as ``set_params`` / ``build_graphs`` take them: params_a, params_b, shared_lens."""
        a = self.form_a.params()
        b = a if self.shared.isChecked() else self.form_b.params()
        return {"params_a": a, "params_b": b, "shared_lens": self.shared_lens.isChecked()}

    def build(self) -> None:
        s = self.session
        problems = s.problems()
        if problems:
            _session.show_error(" ".join(problems))
            return
        self.counts.setText("Building…")
        settings = {"params": s.params_a, "params_b": s.params_b, "shared_lens": s.shared_lens}
        worker = _build_graphs(s.rep_a.X, s.rep_b.X, settings, s.layout.mode)
        worker.yielded.connect(lambda stage: self.counts.setText(f"Building: {stage}"))
        self._start(worker, self._preview, [self.build_button])

    def _preview(self, result) -> None:
        """Keep the built graphs and draw them at a quick layout (the previous alignment's
        Bubble Sets, links and motifs removed), with titles, colours and hover as after Align."""
        from ..layers import clear_alignment_marks, fit_view, remove_roles, show_graphs

        graph_a, graph_b, C, layout, faithfulness = result
        self.faithfulness.update(zip((graph_a, graph_b), faithfulness))
        s = self.session
        s.set_graphs(graph_a, graph_b)
        if self.view.linked is not None:
            self.view.linked.disconnect()
        layers = show_graphs(self.viewer, graph_a, graph_b, layout.pos_a, layout.pos_b, s.names, inputs=s.inputs,
                             correspondence=C, offset=layout.offset)
        clear_alignment_marks(layers)  # the previous alignment's, if any
        remove_roles(self.viewer, ("motifs", "selection", "input_selection"))
        fit_view(self.viewer, layers)
        self.preview = layers
        self.counts.setText(self.counts.text() + f"<br>Preview: a quick layout ({PREVIEW_ITERATIONS} iterations); "
                            "Align lays them out fully and finds the matching regions.")

    def _show_graphs(self) -> None:
        s = self.session
        if s.graph_a is None:
            self.counts.setText("Graphs not built yet (Align builds them too).")
            return
        self.form_a.show_eps(s.graph_a.params.eps)
        self.form_b.show_eps(s.graph_b.params.eps)
        self.counts.setText("<br>".join(
            _graph_text(n, g, self.faithfulness.get(g)) for n, g in zip(s.names, (s.graph_a, s.graph_b))
        ))
