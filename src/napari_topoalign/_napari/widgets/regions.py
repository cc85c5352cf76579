"""The Regions & motifs tab: alignment scores, matching regions, motif queries, selected inputs' texts."""

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


@thread_worker(ignore_errors=True)
def _motif_worker(A, B, C, kind):
    from ... import motif_alignment

    return motif_alignment(A, B, C, kind)


class RegionsWidget(_Section):
    """Matching regions (sortable), alignment scores, motif queries and the selected inputs' texts."""

    REGION_COLUMNS = ("rank", "score", "nodes A", "nodes B", "inputs")

    def __init__(self, session, view, parent=None):
        super().__init__(session, view, parent)
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
        self.texts.clear()

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

    def _show_motifs(self, kind, matches) -> None:
        from ..layers import show_motifs

        show_motifs(self.view.layers, matches)
        status = [m.status for m in matches]
        counts = ", ".join(f"{status.count(s)} {s}" for s in ("preserved", "broken", "absent"))
        self.motif_counts.setText(f"{len(matches)} {kind} motif(s) in A: {counts} in B.")

    def _show_texts(self, *_) -> None:
        texts = self.session.selected_texts
        self.selected_label.setText(f"Selected inputs: {len(texts)}")
        self.texts.clear()
        self.texts.addItems([str(t) for t in texts[:500]])
