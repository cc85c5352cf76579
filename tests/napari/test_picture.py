"""A readable picture: colour by input columns, legends, hover descriptions, distinguishable graphs
(titles, symbols, hues, panel gap and arrangement), motif focus."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from napari_topoalign._napari import layers as L
from napari_topoalign.io import InputTable
from napari_topoalign.node_stats import MotifInstance

N_INPUTS = 240  # conftest's hand-made alignment


@pytest.fixture
def labelled():
    t = (np.arange(N_INPUTS) + 0.5) / N_INPUTS
    labels = np.where(t < 0.5, "first", "second")
    return InputTable(N_INPUTS, labels=labels, metadata=pd.DataFrame({"t": t}))


def test_colour_by_label_both_graphs_purity_and_legend(make_napari_viewer, alignment, labelled):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment, inputs=labelled)
    assert L.colour_choices(la) == {"region": "categorical", "label": "categorical", "t": "numeric",
                                    "lens": "numeric", "size": "numeric", "strength": "numeric",
                                    "score": "numeric"}
    entries = L.colour_nodes(la, "label")
    assert la.colour_by == "label"
    colour = {text: c for text, c in entries}
    assert {"first", "second"} <= set(colour) and not np.allclose(colour["first"], colour["second"])
    for nodes in (la.nodes_a, la.nodes_b):
        f = nodes.features
        pure = f["label_purity"].to_numpy() == 1.0
        assert pure.any() and (~pure).any()
        for k in np.flatnonzero(pure):  # pure nodes: exactly their label's colour, in A and in B
            np.testing.assert_allclose(nodes.face_color[k], colour[f["label"].iloc[k]], atol=1e-6)
        for k in np.flatnonzero(~pure):  # mixed nodes: between their label's colour and grey
            own = np.asarray(colour[f["label"].iloc[k]])[:3]
            drawn = nodes.face_color[k][:3]
            assert np.linalg.norm(drawn - L.GREY[:3]) < np.linalg.norm(own - L.GREY[:3])
    # the legend on the canvas is these entries, in their colours
    legend = la.legend
    assert legend.metadata[L.ROLE_KEY] == "legend"
    assert list(legend.features["text"]) == [t for t, _ in entries]
    np.testing.assert_allclose(np.asarray(legend.text.color(legend.features)), np.array([c for _, c in entries]), atol=1e-6)


def test_colour_by_numeric_column_uses_the_node_mean(make_napari_viewer, alignment, labelled):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment, inputs=labelled)
    L.colour_nodes(la, "t")
    both = np.concatenate([la.nodes_a.features["t"], la.nodes_b.features["t"]])
    for nodes in (la.nodes_a, la.nodes_b):
        k = int(np.argmax(nodes.features["t"]))
        expected = L.ensure_colormap("viridis").map(np.array([(nodes.features["t"].iloc[k] - both.min()) / np.ptp(both)]))
        np.testing.assert_allclose(nodes.face_color[k], expected[0], atol=1e-6)
    assert la.legend.features["text"].iloc[0] == "colour: t (node mean)"
    L.colour_nodes(la, "score")  # the region's score: NaN (grey) outside the regions
    outside = la.nodes_a.features["region"].to_numpy() < 0
    np.testing.assert_allclose(la.nodes_a.face_color[outside], np.tile(L.GREY, (outside.sum(), 1)))
    assert la.legend.features["text"].iloc[0] == "colour: score of the node's region"
    assert la.legend.features["text"].iloc[-1] == "no value"
    with pytest.raises(ValueError, match="cannot colour by"):
        L.colour_nodes(la, "nope")


def test_region_legend_lists_regions_and_motif_statuses(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    texts = list(la.legend.features["text"])
    assert texts[1:] == ["region 1 (0.80)", "region 2 (0.60)", "in no region"]
    inst = [MotifInstance(0, "path", "preserved", (1, 2, 3), (1, 2), 90),
            MotifInstance(1, "path", "broken", (7, 8), (6,), 50)]
    L.show_motifs(la, inst, indices=[m.index for m in inst])
    texts = list(la.legend.features["text"])
    assert texts[-3:] == ["path motifs (outlined in A and B):", "preserved (1)", "broken (1)"]


def test_legend_stays_in_the_top_left_corner(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    camera = L.camera_of(viewer)
    for centre, zoom in (((3.0, 40.0), 2.0), ((-10.0, 5.0), 30.0)):
        camera.center, camera.zoom = centre, zoom
        rect = L.visible_rect(viewer)
        pts = la.legend.data
        assert (pts >= rect[0]).all() and (pts[:, 1] < rect[0][1] + 0.2 * (rect[1][1] - rect[0][1])).all()
        assert pts[0, 0] < rect[0][0] + 0.1 * (rect[1][0] - rect[0][0])


def test_hover_describes_nodes_whatever_layer_is_active(make_napari_viewer, alignment, labelled, image_inputs):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment, inputs=labelled)
    viewer.layers.selection.active = la.bubbles  # not a node layer
    hover = la.hover
    pos = la.nodes_b.data[4]
    text = hover.describe_at(pos)
    size = len(alignment.graph_b.members[4])
    assert text.splitlines()[0] == f"B (path) node 4: {size} inputs"
    assert "label: " in text and "best counterpart: A (loop) node" in text
    tooltip_default = viewer.tooltip.visible
    hover._on_mouse_move(viewer, SimpleNamespace(position=pos))
    assert viewer.status == " · ".join(text.splitlines()) and viewer.tooltip.text == text and viewer.tooltip.visible
    viewer.status = "the active layer's own status"  # napari's status update follows the active layer ...
    assert viewer.status == " · ".join(text.splitlines())  # ... and is overridden on a node
    far = la.nodes_a.data.min(axis=0) - 50
    assert hover.describe_at(far) is None
    hover._on_mouse_move(viewer, SimpleNamespace(position=far))
    viewer.status = "elsewhere"
    assert viewer.status == "elsewhere" and viewer.tooltip.visible == tooltip_default
    # a new drawing replaces the hover: one callback only
    L.show_alignment(viewer, alignment, inputs=image_inputs)
    assert sum(getattr(cb, "__func__", None) is type(hover)._on_mouse_move for cb in viewer.mouse_move_callbacks) == 1


def test_graphs_are_told_apart(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    assert set(np.asarray(la.nodes_a.symbol).astype(str)) == {"disc"}
    assert set(np.asarray(la.nodes_b.symbol).astype(str)) == {"square"}
    np.testing.assert_allclose(la.nodes_a.border_color, np.tile(L.SIDE_HUE["a"], (len(la.nodes_a.data), 1)))
    np.testing.assert_allclose(la.nodes_b.border_color, np.tile(L.SIDE_HUE["b"], (len(la.nodes_b.data), 1)))
    hue_a, hue_b = la.edges_a.edge_color[0][:3], la.edges_b.edge_color[0][:3]
    assert hue_a[2] > hue_a[0] and hue_b[0] > hue_b[2]  # bluish A, orange B
    titles = la.titles
    assert list(titles.features["text"]) == ["● A: loop", "■ B: path"]
    for pos, nodes in zip(titles.data, (la.nodes_a, la.nodes_b)):
        assert pos[0] < nodes.data[:, 0].min()  # above its panel ...
        assert nodes.data[:, 1].min() <= pos[1] <= nodes.data[:, 1].max()  # ... over its middle


@pytest.mark.parametrize("arrangement", ["row", "column"])
def test_panel_gap_is_proportional_to_the_extent(alignment, arrangement):
    pa, pb = L.to_napari(alignment.layout.pos_a), L.to_napari(alignment.layout.pos_b)
    sa, sb = np.full(len(pa), 0.4), np.full(len(pb), 0.4)
    for scale in (1.0, 10.0):
        delta = L.panel_delta(scale * pa, scale * pb, scale * sa, scale * sb, arrangement,
                              offset=scale * alignment.layout.offset)
        box_a, box_b = L._box(scale * pa, scale * sa), L._box(scale * pb + delta, scale * sb)
        extent = scale * max(np.ptp(pa, axis=0).max(), np.ptp(pb, axis=0).max())
        axis = 1 if arrangement == "row" else 0
        assert np.isclose(box_b[0, axis] - box_a[1, axis], L.PANEL_GAP * extent)
        if arrangement == "column":  # back in A's frame: pos_b - offset
            np.testing.assert_allclose((scale * pb + delta)[:, 1], scale * (pb[:, 1] - alignment.layout.offset[0]), atol=1e-4)
    overlay = L.panel_delta(pa, pa + 0.1, sa, sa, arrangement)
    assert not overlay.any()


def test_arrangement_fits_the_canvas(alignment):
    pa, pb = L.to_napari(alignment.layout.pos_a), L.to_napari(alignment.layout.pos_b)
    sizes = np.full(len(pa), 0.4), np.full(len(pb), 0.4)
    assert L.choose_arrangement(pa, pb, *sizes, canvas_aspect=2.5) == "row"
    assert L.choose_arrangement(pa, pb, *sizes, canvas_aspect=0.6) == "column"
    # with the inputs beside them: whichever draws the graphs larger once fitted to the canvas
    assert L.choose_arrangement(pa, pb, *sizes, canvas_aspect=1.8, inputs_aspect=1.0) == "row"  # 3 squares in a row
    assert L.choose_arrangement(pa, pb, *sizes, canvas_aspect=0.5, inputs_aspect=3.0) == "column"  # a wide photo below


def test_overlay_keeps_b_in_place_and_titles_on_one_line(make_napari_viewer, alignment):
    al = alignment
    al.layout = SimpleNamespace(pos_a=al.layout.pos_a, pos_b=al.layout.pos_b - al.layout.offset,
                                offset=np.zeros(2, np.float32), mode="overlay")
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, al)
    assert not la.delta.any()
    np.testing.assert_allclose(la.nodes_b.data, L.to_napari(al.layout.pos_b), atol=1e-5)
    assert la.titles.data[0, 0] == la.titles.data[1, 0] and la.titles.data[0, 1] < la.titles.data[1, 1]


def test_focus_motif_shows_only_it_and_its_counterpart(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    chosen = MotifInstance(3, "path", "preserved", (7, 8, 9), (6, 7), 60)
    bbox = L.focus_motif(la, chosen)
    f = la.motifs.features
    assert set(f["match"]) == {3} and sorted(f["side"]) == ["a", "b"]
    for side, nodes, layer in (("a", chosen.nodes_a, la.nodes_a), ("b", chosen.nodes_b, la.nodes_b)):
        pts = layer.data[list(nodes)]
        assert (pts >= bbox[0]).all() and (pts <= bbox[1]).all()
    rect = L.visible_rect(viewer)
    assert (bbox[0] >= rect[0]).all() and (bbox[1] <= rect[1]).all()  # both in view ...
    assert ((bbox[1] - bbox[0]) / (rect[1] - rect[0])).max() > 0.4  # ... filling a good part of it
