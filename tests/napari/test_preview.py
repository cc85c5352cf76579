"""Build draws a preview: both graphs at a quick layout, titled, with counts and the uncovered share."""

import numpy as np
from napari.layers import Layer

from napari_topoalign._napari import layers as L
from napari_topoalign._napari._reader import INPUTS_KEY, representation_layer_data
from napari_topoalign._napari.widgets import TopoAlignWidget
from napari_topoalign._napari.widgets import mapper as mapper_tab
from napari_topoalign.io import InputTable, Representation

N = 200


def test_build_draws_a_preview_of_both_graphs(make_napari_viewer, qtbot):
    rng = np.random.default_rng(0)
    t = (np.arange(N) + 0.5) / N
    loop = np.column_stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t), 0.005 * rng.normal(size=(N, 3))])
    cut = np.column_stack([3 * t, 0.3 * np.sin(3 * t), 0.005 * rng.normal(size=(N, 3))])
    viewer = make_napari_viewer()
    for rep in (Representation(loop, "loop"), Representation(cut, "cut")):
        viewer.add_layer(Layer.create(*representation_layer_data(rep)))
    inputs = InputTable(N, labels=(t * 4).astype(int))
    viewer.add_points(np.zeros((0, 2)), name="inputs", visible=False, metadata={INPUTS_KEY: inputs})
    widget = TopoAlignWidget(viewer)
    tab = widget.mapper
    tab.form_a.lens.setCurrentText("pca")
    tab.form_a.n_intervals.setValue(10)
    assert L.find_layer(viewer, "nodes_a") is None
    shown = []
    set_text = tab.counts.setText
    tab.counts.setText = lambda text: (shown.append(text), set_text(text))  # progress while building
    tab.build_button.click()
    qtbot.waitUntil(lambda: not tab.busy and tab.preview is not None, timeout=60_000)
    s = widget.session
    layers = tab.preview
    assert len(layers.nodes_a.data) == s.graph_a.n_nodes > 0 and len(layers.nodes_b.data) == s.graph_b.n_nodes > 0
    assert len(layers.edges_a.data) == len(s.graph_a.edges)
    assert list(layers.titles.features["text"]) == ["● A: loop", "■ B: cut"]
    assert "label" in layers.nodes_a.features.columns  # the inputs' labels are there to colour by and hover
    assert layers.bubbles.nshapes == 0 and len(layers.links.data) == 0 and len(layers.region_labels.data) == 0
    text = tab.counts.text()
    for g in (s.graph_a, s.graph_b):
        assert f"{g.n_nodes} nodes" in text
        assert f"({100 * len(g.uncovered) / N:.1f}%)" in text
        # what "auto" chose is shown, not "auto"
        assert f"lens {g.params.lens}, {g.params.n_intervals} intervals, {g.params.metric}" in text
        assert f"min samples {g.params.min_samples}" in text
    from napari_topoalign.mapper import graph_faithfulness

    for X, g in ((loop, s.graph_a), (cut, s.graph_b)):
        assert f"faithfulness {graph_faithfulness(X, g):.2f}" in text
    assert f"{mapper_tab.PREVIEW_ITERATIONS} iterations" in text
    assert any("building graph B" in t for t in shown) and any("quick layout" in t for t in shown)
    rect = L.visible_rect(viewer)
    nodes = np.concatenate([layers.nodes_a.data, layers.nodes_b.data])
    assert (nodes >= rect[0]).all() and (nodes <= rect[1]).all()
