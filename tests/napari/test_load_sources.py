"""Load tab: source images taken from the user's own viewer layers (run under Xvfb).

A user's N×8×8 stack (each image filled with its own index, so a tile tells which input it
shows), or a user's source image plus a Points layer of the inputs' positions (with scale and
translate on both layers, so the positions must be converted into the image's data coordinates),
go into the session's InputTable and are drawn and linked after Align; the user's layers stay as
they were.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Layer

from napari_topoalign.io import InputTable, Representation
from napari_topoalign._napari.widgets import session as widgets  # every tab shows errors through its show_error
from napari_topoalign._napari._reader import INPUTS_KEY, representation_layer_data
from napari_topoalign._napari.layers import find_layer, mosaic
from napari_topoalign._napari.widgets import NONE, TopoAlignWidget, points_on_image

N = 120
WAIT_MS = 45_000


def _viewer(make_napari_viewer, monkeypatch):
    """Two representations of N inputs on a loop, a texts-only inputs layer, the widget docked."""
    errors = []
    monkeypatch.setattr(widgets, "show_error", errors.append)
    viewer = make_napari_viewer()
    rng = np.random.default_rng(1)
    t = (np.arange(N) + 0.5) / N
    loop = np.column_stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t), 0.005 * rng.normal(size=(N, 3))])
    cut = np.column_stack([3 * t, 0.3 * np.sin(3 * t), 0.005 * rng.normal(size=(N, 3))])
    for rep in (Representation(loop, "loop"), Representation(cut, "cut")):
        viewer.add_layer(Layer.create(*representation_layer_data(rep)))
    texts = InputTable(N, texts=[f"input {i}" for i in range(N)])
    viewer.add_points(np.zeros((0, 2)), name="texts", visible=False, metadata={INPUTS_KEY: texts})
    widget = TopoAlignWidget(viewer)
    widget.mapper.form_a.lens.setCurrentText("pca")
    widget.mapper.form_a.n_intervals.setValue(8)
    return viewer, widget, errors


def _items(combo):
    return [combo.itemText(i) for i in range(combo.count())]


def _snapshot(layers):
    return [(layer, layer.name, layer.data, np.array(layer.data, copy=True)) for layer in layers]


def _unchanged(viewer, snapshot):
    for layer, name, data, values in snapshot:
        assert layer in viewer.layers and layer.name == name and layer.data is data
        np.testing.assert_array_equal(layer.data, values)


def _align(qtbot, widget, errors):
    widget.align.align_button.click()
    qtbot.waitUntil(lambda: not widget.align.busy and widget.align.drawn, timeout=WAIT_MS)
    assert not errors and widget.session.alignment is not None


def test_image_stack_layer_becomes_the_mosaic(make_napari_viewer, monkeypatch, qtbot):
    viewer, widget, errors = _viewer(make_napari_viewer, monkeypatch)
    load, session = widget.load, widget.session
    stack = np.broadcast_to(np.arange(N, dtype=np.uint16)[:, None, None], (N, 8, 8)).copy()
    user = [viewer.add_image(stack, name="my stack"),
            viewer.add_image(np.zeros((N + 1, 8, 8), np.uint8), name="other stack"),
            viewer.add_image(np.zeros((N, 8, 8, 3), np.uint8), name="rgb stack", rgb=True)]
    snapshot = _snapshot(user)
    assert _items(load.combo_images) == [NONE, "my stack", "rgb stack"]  # the wrong N is not offered
    assert "loop (120×5)" not in _items(load.combo_source)  # representations are not images to pick

    load.combo_images.setCurrentText("my stack")
    assert not errors and load.problems.text() == ""
    inputs = session.inputs
    assert inputs.images is stack and inputs.texts[3] == "input 3"  # the stack joins the chosen texts
    assert "images" in load.summary.text() and "texts" in load.summary.text()

    _align(qtbot, widget, errors)
    assert session.inputs is inputs  # the plugin's new layers did not reset the data
    mosaic_layer = find_layer(viewer, "inputs")
    np.testing.assert_array_equal(mosaic_layer.data, mosaic(stack)[0])
    view = widget.view.layers.inputs
    assert view.kind == "mosaic" and view.n_inputs == N

    members = session.alignment.graph_a.members[0]
    session.select_nodes("a", [0])
    marks = widget.view.linked.input_marks.data
    np.testing.assert_allclose(marks, view.positions[members])
    # each mark sits on the tile showing its own input (pixel value = input index)
    shown = [mosaic_layer.data[tuple(np.round(mosaic_layer.world_to_data(p)).astype(int))] for p in marks]
    assert shown == list(members)
    assert session.selected_texts == [f"input {i}" for i in members]
    _unchanged(viewer, snapshot)
    assert user[0].visible


def test_source_image_and_positions(make_napari_viewer, monkeypatch, qtbot):
    viewer, widget, errors = _viewer(make_napari_viewer, monkeypatch)
    load, session = widget.load, widget.session
    rng = np.random.default_rng(2)
    coords = np.column_stack([rng.uniform(0, 60, N), rng.uniform(0, 90, N)])  # (row, col) on the image
    world = 2.0 * coords + np.array([4.0, -6.0])
    image = viewer.add_image(rng.random((60, 90)), name="my photo", scale=(2, 2), translate=(4, -6))
    points = viewer.add_points((world - [1.0, 2.0]) / 0.5, name="my positions", scale=(0.5, 0.5), translate=(1, 2))
    viewer.add_points(np.zeros((N - 1, 2)), name="too few")
    snapshot = _snapshot([image, points])
    assert _items(load.combo_positions) == [NONE, "my positions"]  # the wrong N is not offered
    assert _items(load.combo_source) == [NONE, "my photo"]

    load.combo_source.setCurrentText("my photo")  # half chosen: a clear problem, no data
    assert "both a source image and a Points layer" in load.problems.text() and errors
    assert session.inputs.source_image is None  # not taken half chosen
    errors.clear()
    load.combo_positions.setCurrentText("my positions")
    assert not errors and load.problems.text() == ""
    inputs = session.inputs
    assert inputs.source_image is image.data and inputs.texts is not None
    np.testing.assert_allclose(inputs.coords, coords, atol=1e-4)

    _align(qtbot, widget, errors)
    assert session.inputs is inputs
    view = widget.view.layers.inputs
    assert view.kind == "source"
    np.testing.assert_allclose(find_layer(viewer, "input_points").data, coords, atol=1e-4)
    members = session.alignment.graph_b.members[1]
    session.select_nodes("b", [1])
    marks = widget.view.linked.input_marks.data
    np.testing.assert_allclose(marks, view.translate + view.scale * coords[members], atol=1e-3)
    session.select_inputs([members[0]])  # and back: the input selects its nodes
    assert 1 in session.selection.nodes_b
    _unchanged(viewer, snapshot)

    # a points layer that no longer has N points: a clear error, then it is no longer offered
    points.add([0.0, 0.0])
    load.update_data()
    assert f"has {N + 1} points but there are {N} inputs" in load.problems.text() and errors
    assert session.inputs.source_image is None
    viewer.add_points(np.zeros((1, 2)), name="trigger refresh")
    assert load.combo_positions.currentText() == NONE and "my positions" not in _items(load.combo_positions)


def test_points_on_image_matches_layer_transforms(make_napari_viewer):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(3)
    image = viewer.add_image(rng.random((30, 40)), scale=(1.5, 0.5), translate=(3, -2), rotate=20)
    points = viewer.add_points(rng.uniform(0, 30, (7, 2)), scale=(2, 3), translate=(-1, 4), shear=[0.1])
    expected = [image.world_to_data(points.data_to_world(p)) for p in points.data]
    np.testing.assert_allclose(points_on_image(points, image), expected, atol=1e-9)


def test_open_image_stack_file(make_napari_viewer, monkeypatch, tmp_path):
    viewer, widget, errors = _viewer(make_napari_viewer, monkeypatch)
    load = widget.load
    stack = np.arange(N * 36, dtype=np.float32).reshape(N, 6, 6)
    np.save(tmp_path / "stack.npy", stack)
    assert load.open_file(str(tmp_path / "stack.npy"), "images")
    assert load.combo_images.currentText() == "stack" and not errors
    np.testing.assert_array_equal(widget.session.inputs.images, stack)

    np.save(tmp_path / "short.npy", stack[:5])
    assert not load.open_file(str(tmp_path / "short.npy"), "images")
    assert "5 images" in load.problems.text() and errors
    assert load.combo_images.currentText() == "stack"

    errors.clear()
    np.savez(tmp_path / "labels.npz", labels=np.arange(N))
    assert not load.open_file(str(tmp_path / "labels.npz"), "images")
    assert "holds no images" in errors[0]


def test_stack_opened_before_representations(make_napari_viewer, monkeypatch, tmp_path):
    errors = []
    monkeypatch.setattr(widgets, "show_error", errors.append)
    viewer = make_napari_viewer()
    widget = TopoAlignWidget(viewer)
    np.save(tmp_path / "stack.npy", np.ones((N, 4, 4), np.float32))
    assert widget.load.open_file(str(tmp_path / "stack.npy"), "images")  # no N yet: any stack is listed
    X = np.random.default_rng(0).normal(size=(N, 3))
    for name in ("a", "b"):
        viewer.add_layer(Layer.create(*representation_layer_data(Representation(X, name))))
    assert widget.load.combo_images.currentText() == "stack" and not errors
    assert widget.session.inputs.images.shape == (N, 4, 4)
    viewer.add_layer(Layer.create(*representation_layer_data(Representation(X[:10], "short"))))
    widget.load.combo_a.setCurrentText("short (10×3)")  # another N: the stack is no longer offered
    assert widget.load.combo_images.currentText() == NONE
