"""The combined TopoAlign dock widget: the four tabs over one session."""

from __future__ import annotations

from qtpy.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from .align import AlignWidget
from .load import LoadWidget
from .mapper import MapperWidget
from .regions import RegionsWidget
from .session import Session


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
