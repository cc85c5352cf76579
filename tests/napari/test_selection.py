"""Linked selection: nodes -> counterparts and member inputs; inputs -> containing nodes."""

from types import SimpleNamespace

import numpy as np
import pytest

from napari_topoalign._napari.layers import show_alignment, update_positions
from napari_topoalign._napari.selection import LinkedSelection
from napari_topoalign.session import Session


def session_of(alignment, inputs):
    session = Session()
    session.set_inputs(inputs)
    session.set_alignment(alignment)
    return session


@pytest.fixture
def linked(make_napari_viewer, alignment, image_inputs):
    viewer = make_napari_viewer()
    layers = show_alignment(viewer, alignment, inputs=image_inputs)
    return viewer, layers, LinkedSelection(viewer, layers, session_of(alignment, image_inputs))


def fake_click(selection, viewer, position, drag_to=None):
    """Drive the viewer mouse callback as napari does: press, optional move, release."""
    event = SimpleNamespace(type="mouse_press", position=np.asarray(position, float), button=1)
    gen = selection._on_mouse_drag(viewer, event)
    next(gen)
    if drag_to is not None:
        event.type, event.position = "mouse_move", np.asarray(drag_to, float)
        next(gen)
    event.type = "mouse_release"
    with pytest.raises(StopIteration):
        next(gen)


def test_node_selection_highlights_counterparts_and_members(linked, alignment, image_inputs):
    viewer, layers, sel = linked
    seen = []
    sel.changed.connect(lambda s: seen.append(s.side))
    layers.nodes_a.selected_data = {2}  # what napari's click in select mode does
    C = alignment.correspondence.toarray()
    expected = np.flatnonzero(C[2] > 0)
    assert sel.side == "a" and sel.nodes_a.tolist() == [2] and seen == ["a"]
    assert sorted(sel.counterparts) == sorted(expected) and len(expected) >= 2
    assert np.all(np.diff(C[2, sel.counterparts]) <= 0)  # strongest first
    np.testing.assert_array_equal(sel.nodes_b, np.sort(expected))
    members = alignment.graph_a.members[2]
    np.testing.assert_array_equal(sel.inputs, members)
    assert sel.texts == [image_inputs.texts[i] for i in members]
    # marks: the node and its counterparts, and a square around each member tile
    assert len(sel.marks.data) == 1 + len(expected)
    np.testing.assert_allclose(sel.marks.data[0], layers.nodes_a.data[2])
    np.testing.assert_allclose(sel.input_marks.data, layers.inputs.positions[members])
    assert set(layers.nodes_b.selected_data) == set()


def test_fake_mouse_click_on_node_and_drag(linked, alignment):
    viewer, layers, sel = linked
    target = layers.nodes_b.data[4]
    fake_click(sel, viewer, target, drag_to=target + 5.0)  # a drag pans, selects nothing
    assert sel.side is None
    fake_click(sel, viewer, target)
    C = alignment.correspondence.toarray()
    assert sel.side == "b" and sel.nodes_b.tolist() == [4]
    assert sorted(sel.counterparts) == sorted(np.flatnonzero(C[:, 4] > 0))
    assert set(layers.nodes_b.selected_data) == {4}
    fake_click(sel, viewer, [1e4, 1e4])  # empty space clears
    assert sel.side is None and len(sel.marks.data) == 0 and len(sel.inputs) == 0


def test_select_inputs_selects_containing_nodes(linked, alignment):
    viewer, layers, sel = linked
    sel.select_inputs([0, 100])
    for side, graph in (("a", alignment.graph_a), ("b", alignment.graph_b)):
        expected = [k for k, m in enumerate(graph.members) if np.isin([0, 100], m).any()]
        assert getattr(sel, f"nodes_{side}").tolist() == expected
    assert sel.inputs.tolist() == [0, 100] and sel.texts == ["input 0", "input 100"]
    # clicking a mosaic tile does the same
    fake_click(sel, viewer, layers.inputs.positions[57])
    assert sel.side == "inputs" and sel.inputs.tolist() == [57]
    assert sel.nodes_a.tolist() == [k for k, m in enumerate(alignment.graph_a.members) if 57 in m]
    with pytest.raises(IndexError):
        sel.select_inputs([10_000])


def test_marks_follow_layout_and_new_selection_replaces_old(linked, alignment, image_inputs):
    viewer, layers, sel = linked
    sel.select_nodes("a", [0, 1])
    update_positions(layers, alignment.layout.pos_a + 1.0, alignment.layout.pos_b)
    np.testing.assert_allclose(sel.marks.data[:2], layers.nodes_a.data[[0, 1]])
    newer = LinkedSelection(viewer, layers, session_of(alignment, image_inputs))
    assert sel._on_mouse_drag not in viewer.mouse_drag_callbacks
    assert newer._on_mouse_drag in viewer.mouse_drag_callbacks
    assert [la.metadata.get("topoalign") for la in viewer.layers].count("selection") == 1


def test_source_image_points_select_inputs(make_napari_viewer, alignment, source_inputs):
    viewer = make_napari_viewer()
    layers = show_alignment(viewer, alignment, inputs=source_inputs)
    sel = LinkedSelection(viewer, layers, session_of(alignment, source_inputs))
    points = layers.inputs.layers[1]
    points.selected_data = {3, 4}  # a napari click / box selection on the input positions
    assert sel.side == "inputs" and sel.inputs.tolist() == [3, 4] and sel.texts == []
    assert sel.nodes_b.tolist() == [k for k, m in enumerate(alignment.graph_b.members) if np.isin([3, 4], m).any()]
    sel.select_nodes("a", [5])
    np.testing.assert_allclose(sel.input_marks.data, layers.inputs.positions[alignment.graph_a.members[5]])
