"""Dock widgets: Load, Mapper, Align, Regions & motifs, and the combined TopoAlign widget.

All four tabs bind to one Qt-free :class:`napari_topoalign.session.Session` (the data,
settings, graphs, alignment and selection of this viewer), drawn by a
:class:`~.session.SessionView`. Long work runs in ``napari.qt.threading`` workers; user errors
become napari notifications (``session.show_error``) and never touch the user's own layers.
"""

from .dock import TopoAlignWidget
from .load import NONE, points_on_image

__all__ = ["NONE", "TopoAlignWidget", "points_on_image"]
