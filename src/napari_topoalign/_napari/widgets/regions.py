"""The Regions & motifs tab: node colouring with its legend, alignment scores, matching regions, the
motif browser (instances with their status, filtered by status; choosing one shows it in A and its
counterpart in B and zooms to both), selected inputs and their texts."""

from __future__ import annotations

from napari.qt.threading import thread_worker
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from .session import _Section

MOTIFS = ("branch", "loop", "flare", "path")


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


STATUSES = ("all", "preserved", "broken", "absent")


@thread_worker(ignore_errors=True)
def _motif_worker(A, B, C, kind):
    from ...node_stats import motif_instances

    return motif_instances(A, B, C, kind)


def legend_html(entries) -> str:
    """Legend entries [(text, rgba)] as HTML lines, each with a swatch in its colour."""
    lines = []
    for text, colour in entries:
        r, g, b = (int(round(255 * float(c))) for c in colour[:3])
        lines.append(f'<span style="color: rgb({r},{g},{b});">■</span> {text}')
    return "<br>".join(lines)


class RegionsWidget(_Section):
    """Matching regions (sortable), alignment scores, motif queries and the selected inputs' texts."""

    REGION_COLUMNS = ("rank", "score", "nodes A", "nodes B", "inputs")
    MOTIF_COLUMNS = ("#", "status", "nodes A", "nodes B", "inputs")

    def __init__(self, session, view, parent=None):
        super().__init__(session, view, parent)
        layout = QVBoxLayout(self)
        colour_row = QHBoxLayout()
        self.colour_by = QComboBox()
        self.colour_by.setToolTip("Colour the nodes of both graphs by a region, an input column "
                                  "(most common value, paler when mixed; or the mean) or a node statistic")
        self.colour_by.currentTextChanged.connect(self.set_colouring)
        colour_row.addWidget(QLabel("Colour nodes by"))
        colour_row.addWidget(self.colour_by, 1)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
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
        self.motif_filter = QComboBox()
        self.motif_filter.addItems(list(STATUSES))
        self.motif_filter.setToolTip("Show only the motif instances of this status in B")
        self.motif_filter.currentTextChanged.connect(self._list_motifs)
        motif_row.insertWidget(1, self.motif_filter)
        self.motif_table = _table(self.MOTIF_COLUMNS)
        self.motif_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.motif_table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.motif_table.itemSelectionChanged.connect(self._motif_chosen)
        self.motif_table.setToolTip("Click an instance to show it in A, its counterpart in B, and zoom to both")
        self.instances = []
        self.selected_label = QLabel("Selected inputs")
        self.texts = QListWidget()
        self.texts.setWordWrap(True)
        self.texts.setMinimumHeight(120)
        layout.addLayout(colour_row)
        layout.addWidget(self.legend)
        layout.addWidget(QLabel("<b>Alignment scores</b>"))
        layout.addWidget(self.scores)
        layout.addWidget(QLabel("<b>Matching regions</b> (click a row to show it)"))
        layout.addWidget(self.regions, 1)
        layout.addWidget(QLabel("<b>Motifs</b>"))
        layout.addLayout(motif_row)
        layout.addWidget(self.motif_counts)
        layout.addWidget(self.motif_table, 1)
        layout.addWidget(self.selected_label)
        layout.addWidget(self.texts, 1)
        self.motif_button.setEnabled(False)
        session.events.alignment.connect(self._fill)
        session.events.selection.connect(self._show_texts)

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
        self.instances = []
        self.motif_table.setRowCount(0)
        self.texts.clear()
        self._fill_colourings()

    def _fill_colourings(self) -> None:
        from ..layers import colour_choices

        layers = self.view.layers
        current = layers.colour_by if layers is not None else "region"
        self.colour_by.blockSignals(True)
        self.colour_by.clear()
        self.colour_by.addItems(list(colour_choices(layers)) if layers is not None else [])
        self.colour_by.setCurrentText(current)
        self.colour_by.blockSignals(False)
        self.legend.setText(legend_html(layers.legend_entries) if layers is not None else "")

    def set_colouring(self, by: str) -> None:
        """Colour both graphs' nodes by ``by`` (a ``colour_choices`` entry); the legend follows."""
        from ..layers import colour_nodes

        if self.view.layers is None or not by:
            return
        self.legend.setText(legend_html(colour_nodes(self.view.layers, by)))
        if self.colour_by.currentText() != by:
            self.colour_by.setCurrentText(by)

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
        from ..layers import centre_on, highlight_region

        centre_on(self.viewer, highlight_region(self.view.layers, index))

    def query_motif(self) -> None:
        al = self.session.alignment
        kind = self.motif.currentText()
        self.motif_counts.setText(f"Looking for {kind} motifs…")
        self._start(
            _motif_worker(al.graph_a, al.graph_b, al.correspondence, kind),
            lambda matches: self._show_motifs(kind, matches),
            [self.motif_button],
        )

    def _show_motifs(self, kind, instances) -> None:
        self.instances = list(instances)
        status = [m.status for m in instances]
        counts = ", ".join(f"{status.count(s)} {s}" for s in STATUSES[1:])
        self.motif_counts.setText(f"{len(instances)} {kind} motif(s) in A: {counts} in B.")
        self._list_motifs()

    def shown_instances(self) -> list:
        """The motif instances the browser lists now (those of the chosen status)."""
        wanted = self.motif_filter.currentText()
        return [m for m in self.instances if wanted == "all" or m.status == wanted]

    def _list_motifs(self, *_) -> None:
        """List the instances of the chosen status and outline them all (none chosen yet)."""
        from ..layers import show_motifs

        shown = self.shown_instances()
        self.motif_table.blockSignals(True)
        self.motif_table.setRowCount(len(shown))
        for row, m in enumerate(shown):
            values = (m.index + 1, m.status, len(m.nodes_a), len(m.nodes_b), m.n_inputs)
            for col, v in enumerate(values):
                self.motif_table.setItem(row, col, _SortableItem(v, str(v)))
        self.motif_table.clearSelection()
        self.motif_table.blockSignals(False)
        if self.view.layers is not None and self.instances:
            show_motifs(self.view.layers, shown, indices=[m.index for m in shown])

    def _motif_chosen(self) -> None:
        rows = {i.row() for i in self.motif_table.selectedItems()}
        if len(rows) == 1:
            self.show_motif(self.shown_instances()[rows.pop()])

    def show_motif(self, instance) -> None:
        """Outline only this instance (A) and its counterpart (B) and zoom to both."""
        from ..layers import focus_motif

        focus_motif(self.view.layers, instance)

    def _show_texts(self, *_) -> None:
        texts = self.session.selected_texts
        self.selected_label.setText(f"Selected inputs: {len(self.session.selection.inputs)}")
        self.texts.clear()
        self.texts.addItems([str(t) for t in texts[:500]])
