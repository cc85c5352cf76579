"""The Regions & motifs tab over a hand-made alignment: colour-by combo and its legend, the motif
browser (status filter, one instance shown and zoomed to), the selected-inputs count."""

import numpy as np
import pytest

from napari_topoalign._napari import layers as L
from napari_topoalign._napari._reader import INPUTS_KEY
from napari_topoalign._napari.widgets import TopoAlignWidget
from napari_topoalign.io import InputTable
from napari_topoalign.mapper import MapperParams

N_INPUTS = 240  # conftest's hand-made alignment


def _tab(make_napari_viewer, alignment, texts=True):
    for graph in (alignment.graph_a, alignment.graph_b):
        graph.params = MapperParams(eps=0.1)  # the Mapper tab shows the radius used
    viewer = make_napari_viewer()
    t = (np.arange(N_INPUTS) + 0.5) / N_INPUTS
    inputs = InputTable(N_INPUTS, labels=np.where(t < 0.5, "first", "second"),
                        texts=[f"input {i}" for i in range(N_INPUTS)] if texts else None)
    viewer.add_points(np.zeros((0, 2)), name="inputs", visible=False, metadata={INPUTS_KEY: inputs})  # as Load lists it
    widget = TopoAlignWidget(viewer)
    assert widget.session.inputs is inputs
    widget.session.set_alignment(alignment)
    return viewer, widget, widget.regions


@pytest.fixture
def tab(make_napari_viewer, alignment):
    return _tab(make_napari_viewer, alignment)


def test_colour_by_combo_recolours_both_graphs_and_shows_the_legend(tab):
    viewer, widget, regions = tab
    items = [regions.colour_by.itemText(i) for i in range(regions.colour_by.count())]
    assert items == ["region", "label", "lens", "size", "strength", "score"] and regions.colour_by.currentText() == "region"
    assert "region 1 (0.80)" in regions.legend.text()
    before = widget.view.layers.nodes_a.face_color.copy()
    regions.colour_by.setCurrentText("label")
    layers = widget.view.layers
    assert layers.colour_by == "label" and not np.allclose(before, layers.nodes_a.face_color)
    assert "first" in regions.legend.text() and "second" in regions.legend.text()
    assert list(layers.legend.features["text"])[1:3] == ["first", "second"]


def test_motif_browser_filters_and_focuses(tab, qtbot):
    viewer, widget, regions = tab
    regions.motif.setCurrentText("loop")  # A is a loop, B the loop cut open
    regions.query_motif()
    qtbot.waitUntil(lambda: not regions.busy, timeout=30_000)
    instances = regions.instances
    assert len(instances) == 1 and instances[0].status in ("broken", "absent")
    assert regions.motif_table.rowCount() == 1 and regions.motif_table.item(0, 1).text() == instances[0].status
    assert set(L.find_layer(viewer, "motifs").features["match"]) == {0}
    regions.motif_filter.setCurrentText("preserved")  # none: an empty list, nothing outlined
    assert regions.motif_table.rowCount() == 0 and L.find_layer(viewer, "motifs").nshapes == 0
    regions.motif_filter.setCurrentText(instances[0].status)
    assert regions.motif_table.rowCount() == 1
    L.fit_view(viewer, widget.view.layers)
    zoom = L.camera_of(viewer).zoom
    regions.motif_table.selectRow(0)
    layer = L.find_layer(viewer, "motifs")
    assert set(layer.features["match"]) == {0} and "a" in set(layer.features["side"])
    pts = np.concatenate(layer.data)
    rect = L.visible_rect(viewer)
    assert (pts >= rect[0]).all() and (pts <= rect[1]).all() and L.camera_of(viewer).zoom != zoom


@pytest.mark.parametrize("texts", [True, False])
def test_selected_inputs_count_inputs_and_reset_after_realign(make_napari_viewer, alignment, texts):
    viewer, widget, regions = _tab(make_napari_viewer, alignment, texts)
    widget.session.select_nodes("a", [0])
    n = len(widget.session.selection.inputs)
    assert n == len(alignment.graph_a.members[0]) > 0
    assert regions.selected_label.text() == f"Selected inputs: {n}"  # inputs, with or without texts
    assert regions.texts.count() == (n if texts else 0)
    widget.session.set_alignment(alignment)  # re-aligned: the selection is gone
    assert regions.selected_label.text() == "Selected inputs: 0" and regions.texts.count() == 0
