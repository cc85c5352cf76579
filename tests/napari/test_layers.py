"""Layers drawn from an alignment: names, roles, features, replacement, moves, motifs, inputs, pixels."""

from types import SimpleNamespace

import numpy as np
import pytest

from napari_topoalign._napari import layers as L
from napari_topoalign.motifs import Motif, MotifMatch

ROLES = {"nodes_a", "nodes_b", "edges_a", "edges_b", "links", "bubbles", "inputs", "titles", "legend", "region_labels"}


def roles(viewer):
    return [layer.metadata.get(L.ROLE_KEY) for layer in viewer.layers]


def test_show_alignment_layers_and_features(make_napari_viewer, alignment, image_inputs):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment, inputs=image_inputs)
    assert set(roles(viewer)) == ROLES and len(viewer.layers) == len(ROLES)
    assert all(layer.name.startswith(L.PREFIX) for layer in viewer.layers)
    assert la.nodes_a.name == "TopoAlign A nodes: loop" and la.edges_b.name == "TopoAlign B edges: path"
    # bubbles under the edges, edges under the nodes
    names = [layer.name for layer in viewer.layers]
    assert names.index("TopoAlign bubbles") < names.index("TopoAlign A edges: loop") < names.index("TopoAlign A nodes: loop")
    A, B = alignment.graph_a, alignment.graph_b
    for nodes, graph, side in ((la.nodes_a, A, "a"), (la.nodes_b, B, "b")):
        f = nodes.features
        assert list(f.columns) == ["node", "size", "lens", "lens_min", "lens_max", "region", "score",
                                   "counterpart", "strength"]
        np.testing.assert_array_equal(f["size"], [len(m) for m in graph.members])
        np.testing.assert_allclose(f["lens"], [graph.lens[m].mean() for m in graph.members])
        for r, region in enumerate(alignment.regions):
            nodes_r = getattr(region, f"nodes_{side}")
            assert (f["region"].to_numpy()[nodes_r] == r).all()
            assert np.allclose(f["score"].to_numpy()[nodes_r], region.score)
        outside = f["region"].to_numpy() == -1
        assert outside.any() and np.isnan(f["score"].to_numpy()[outside]).all()
        np.testing.assert_allclose(nodes.face_color[outside], np.tile(L.GREY, (outside.sum(), 1)))
        # sizes grow as sqrt(members)
        order = np.argsort(f["size"].to_numpy())
        assert np.all(np.diff(nodes.size[order]) >= -1e-6)
    # matched colours across the two graphs
    ra, rb = la.nodes_a.features["region"].to_numpy(), la.nodes_b.features["region"].to_numpy()
    for r in range(len(alignment.regions)):
        ca, cb = la.nodes_a.face_color[ra == r], la.nodes_b.face_color[rb == r]
        np.testing.assert_allclose(ca, np.tile(cb[0], (len(ca), 1)), atol=1e-6)
    assert not np.allclose(la.nodes_a.face_color[ra == 0][0], la.nodes_a.face_color[ra == 1][0])
    # (row, col) = (-y, x); B moved as a whole by the panel delta
    np.testing.assert_allclose(la.nodes_a.data[:, 1], alignment.layout.pos_a[:, 0], atol=1e-6)
    np.testing.assert_allclose(la.nodes_a.data[:, 0], -alignment.layout.pos_a[:, 1], atol=1e-6)
    np.testing.assert_allclose(la.nodes_b.data - la.delta, L.to_napari(alignment.layout.pos_b), atol=1e-5)
    # edges: one line vector per graph edge, from source to target
    assert la.edges_a.vector_style == "line" and len(la.edges_a.data) == len(A.edges)
    np.testing.assert_allclose(la.edges_a.data[:, 0] + la.edges_a.data[:, 1], la.nodes_a.data[A.edges[:, 1]], atol=1e-5)
    np.testing.assert_allclose(la.edges_a.features["jaccard"], A.edge_weight)
    # links: strongest link of every node, weights from the correspondence
    C = alignment.correspondence.toarray()
    pairs = la.links.features[["node_a", "node_b"]].to_numpy()
    assert {(i, int(C[i].argmax())) for i in range(C.shape[0])} <= set(map(tuple, pairs))
    np.testing.assert_allclose(la.links.features["jaccard"], C[pairs[:, 0], pairs[:, 1]])
    # bubbles: a bubble per side and a membrane per region
    parts = la.bubbles.features.groupby("region")["part"].apply(sorted).tolist()
    assert parts == [["a", "b", "membrane"]] * len(alignment.regions)


def test_rerun_replaces_and_keeps_user_layers(make_napari_viewer, alignment, image_inputs):
    viewer = make_napari_viewer()
    user = viewer.add_points(np.array([[1.0, 2.0]]), name="mine")
    L.show_alignment(viewer, alignment, inputs=image_inputs)
    before = [layer.name for layer in viewer.layers]
    la = L.show_alignment(viewer, alignment, inputs=image_inputs)
    assert [layer.name for layer in viewer.layers] == before
    assert viewer.layers["mine"] is user and user.metadata == {} and np.allclose(user.data, [[1.0, 2.0]])
    assert la.nodes_a in viewer.layers
    L.show_motifs(la, [])
    L.show_alignment(viewer, alignment)  # no inputs: stale motifs and inputs go
    assert set(roles(viewer)) == (ROLES - {"inputs"}) | {None}


def test_update_positions_moves_in_place(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    nodes, edges = la.nodes_a, la.edges_a
    pos_a = alignment.layout.pos_a * 2 + 1
    pos_b = alignment.layout.pos_b - 3
    L.update_positions(la, pos_a, pos_b)
    assert la.nodes_a is nodes and la.edges_a is edges
    np.testing.assert_allclose(nodes.data, L.to_napari(pos_a))
    E = alignment.graph_a.edges
    np.testing.assert_allclose(edges.data[:, 0], L.to_napari(pos_a)[E[:, 0]], atol=1e-5)
    np.testing.assert_allclose(edges.data[:, 0] + edges.data[:, 1], L.to_napari(pos_a)[E[:, 1]], atol=1e-5)
    f = la.links.features
    np.testing.assert_allclose(
        la.links.data[:, 0] + la.links.data[:, 1], la.nodes_b.data[f["node_b"].to_numpy()], atol=1e-5
    )
    np.testing.assert_allclose(la.nodes_b.data - la.delta, L.to_napari(pos_b), atol=1e-5)
    L.update_positions(viewer, alignment.layout.pos_a, alignment.layout.pos_b)  # found by role
    np.testing.assert_allclose(nodes.data, L.to_napari(alignment.layout.pos_a))
    redrawn = []
    for layer in (nodes, edges, la.nodes_b, la.links):
        layer.events.set_data.connect(lambda event: redrawn.append(event.source))
    L.update_positions(viewer, alignment.layout.pos_a, alignment.layout.pos_b)
    assert redrawn == []  # the same positions again: nothing to redraw
    with pytest.raises(ValueError, match="positions"):
        L.update_positions(la, pos_a[:-1], pos_b)


def test_quiet_drawing_defers_thumbnails_and_layer_list_until_settled(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    user = viewer.add_points(np.zeros((3, 2)), name="mine")
    model = L._layer_list_model(viewer)
    assert model is not None  # napari's layer list model was found (else the block is a no-op)
    rows = []
    model.dataChanged.connect(lambda *args: rows.append(args))
    before = la.nodes_a.thumbnail.copy()
    touched = set()
    with L.quiet_drawing(viewer, touched):
        la.nodes_a.data = la.nodes_a.data * 0.1 + 5.0
        la.nodes_a.size = 3 * la.nodes_a.size
    assert rows == [] and touched == {la.nodes_a}
    np.testing.assert_array_equal(la.nodes_a.thumbnail, before)  # not redrawn yet...
    np.testing.assert_allclose(la.nodes_a._view_data, la.nodes_a.data)  # ...but the canvas has the new data
    user.data = np.ones((4, 2))  # other layers outside the block are as usual
    assert rows and "_update_thumbnail" not in vars(la.nodes_a)  # the method is napari's again
    rows.clear()
    L.drain(L.settle(viewer, touched))
    assert not np.array_equal(la.nodes_a.thumbnail, before)
    assert rows  # the layer list was told to repaint


def test_quiet_drawing_gives_each_visual_its_data_once_at_the_end(make_napari_viewer, alignment, monkeypatch):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    visual = L._layer_visuals(viewer)[la.nodes_a]
    calls, original = [], type(visual)._on_data_change
    monkeypatch.setattr(type(visual), "_on_data_change", lambda self: calls.append(self) or original(self))
    markers = visual.node.points_markers
    with L.quiet_drawing(viewer, set(), watch=False):
        with L.quiet_drawing(viewer, set(), watch=False):  # an inner block leaves it to the outer one
            la.nodes_a.data = la.nodes_a.data + 3.0
        la.nodes_a.size = 2 * la.nodes_a.size
        la.nodes_a.face_color = "red"
        la.nodes_a.border_width = 0.3
        assert calls == []
    assert calls == [visual] and "_on_data_change" not in vars(visual)
    # the visual shows the final data (in vispy's x, y order)
    np.testing.assert_allclose(markers._data["a_position"][:, :2], la.nodes_a.data[:, ::-1], rtol=1e-5)
    np.testing.assert_allclose(markers._data["a_bg_color"][:, :3], [[1.0, 0.0, 0.0]] * len(la.nodes_a.data))
    la.nodes_a.border_width = 0.2  # outside a block: at once, as napari does
    assert len(calls) > 1
    calls.clear()
    with L.quiet_drawing(viewer, set(), watch=False):  # changed, then removed: nothing left to update
        la.nodes_a.data = la.nodes_a.data + 1.0
        L.remove_roles(viewer, ("nodes_a",))
    assert calls == []


def test_quiet_drawing_holds_the_dims_back_on_placement_changes(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    before = [(r.start, r.stop) for r in viewer.dims.range]
    with L.quiet_drawing(viewer, set()):
        la.nodes_a.translate = (1000.0, 2000.0)  # a move of the whole layer, as the inputs' mosaic makes
        la.nodes_a.scale = (2.0, 2.0)
    assert [(r.start, r.stop) for r in viewer.dims.range] == before  # no recompute over every layer...
    L.refresh_extent(viewer)
    assert viewer.dims.range[0].stop > 1000 and viewer.dims.range[1].stop > 2000  # ...until it is settled


def test_text_layers_show_new_strings_and_colours_in_the_same_style(make_napari_viewer):
    viewer = make_napari_viewer()
    red, blue = [1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]
    layer = L.put_text(viewer, "legend", [[0, 0], [1, 0]], ["one", "two"], [red, red], "legend", 10)
    assert list(layer._view_text) == ["one", "two"]
    again = L.put_text(viewer, "legend", [[0, 0], [1, 0], [2, 0]], ["three", "four", "five"], [blue, red, blue],
                       "legend", 10)
    assert again is layer and list(layer._view_text) == ["three", "four", "five"]
    np.testing.assert_allclose(layer._view_text_color, [blue, red, blue])
    L.put_text(viewer, "legend", [[0, 0]], ["six"], [red], "legend", 14, anchor="lower_left")
    assert list(layer._view_text) == ["six"] and layer.text.size == 14 and layer.text.anchor == "lower_left"


def test_quietly_settles_only_after_changes(make_napari_viewer, alignment, monkeypatch):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    settled = []
    monkeypatch.setattr(L, "refresh_extent", settled.append)

    def steps(change):
        yield
        if change:
            with L._moving(viewer, [la.nodes_a]) as move:  # a move: no thumbnail, the dims held back
                move(la.nodes_a, la.nodes_a.data + 1.0)
        yield

    L.drain(L.quietly(viewer, steps(False)))
    assert settled == []  # nothing changed: no dims recompute (a re-slice of every layer)
    L.drain(L.quietly(viewer, steps(True)))
    assert settled == [viewer]


def test_plugin_layers_get_their_controls_when_first_selected(make_napari_viewer):
    viewer = make_napari_viewer()
    user = viewer.add_points(np.zeros((1, 2)), name="user points")
    panels = viewer.window._qt_viewer.controls
    drawn = L.put_layer(viewer, L._empty_layer("edges_a"), "edges_a")
    assert drawn not in panels.widgets and user in panels.widgets  # none made when added
    assert viewer.layers.selection.active is user  # the user's layer stays active
    viewer.layers.selection.active = drawn
    assert panels.currentWidget() is panels.widgets[drawn]  # made when selected
    assert panels.widgets[drawn].layer is drawn
    replaced = L.put_layer(viewer, L._empty_layer("edges_a"), "edges_a")  # replaces a layer with a panel
    assert drawn not in panels.widgets and replaced not in panels.widgets
    L.remove_roles(viewer, ("edges_a",))  # a layer without a panel: none made to be deleted
    assert replaced not in panels.widgets and list(viewer.layers) == [user]
    viewer.layers.selection.active = user
    assert panels.currentWidget() is panels.widgets[user]
    later = L.put_layer(viewer, L._empty_layer("edges_b"), "edges_b")
    panels._add = lambda event: None  # napari's dynamic layer controls make no panel per layer
    with pytest.raises(KeyError):
        panels.widgets[later]
    del panels._add  # napari's again (closing the viewer removes the layers' panels)


def test_a_zoom_is_painted_once_and_selected_nodes_stay_highlighted(make_napari_viewer, alignment, source_inputs,
                                                                    qtbot):
    from napari_topoalign._napari._reader import INPUTS_KEY

    viewer = make_napari_viewer(show=True)
    # an inputs table the plugin opened, hidden: napari updates hidden layers on a zoom too
    viewer.add_points(np.zeros((3, 2)), metadata={INPUTS_KEY: None}, visible=False)
    la = L.show_alignment(viewer, alignment, source_inputs)  # with the inputs' positions on their image
    assert L.find_layer(viewer, "input_points") is not None
    paints = []
    viewer.window._qt_viewer.canvas._scene_canvas.events.draw.connect(lambda event: paints.append(1))
    qtbot.wait(300)
    paints.clear()
    L.camera_of(viewer).zoom *= 1.5
    qtbot.wait(500)
    assert len(paints) == 1  # napari's text and highlight resets asked for a second paint
    markers = viewer.window._qt_viewer.canvas.layer_to_visual[la.nodes_a].node.selection_markers
    la.nodes_a.selected_data = {0, 1}
    qtbot.wait(100)
    assert len(markers._data) == 2  # a selection is still highlighted
    L.camera_of(viewer).zoom *= 1.2
    qtbot.wait(300)
    la.nodes_a.selected_data = set()
    qtbot.wait(100)
    assert markers._data is None or len(markers._data) == 0  # and cleared


def test_each_new_drawing_layer_is_first_painted_in_a_step_of_its_own(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    qtbot.wait(200)  # the window is up and painted
    paints = []
    viewer.window._qt_viewer.canvas._scene_canvas.events.draw.connect(lambda event: paints.append(1))
    steps, per_step = L.drawing_layers_steps(viewer), []
    while True:
        layers, painted = len(viewer.layers), len(paints)
        try:
            value = next(steps)
        except StopIteration:
            break
        qtbot.wait(50)  # the event loop runs between steps, as in the Align tab
        per_step.append((len(viewer.layers) - layers, len(paints) - painted, value is L.PAINT_DUE))
    assert sum(added for added, _, _ in per_step) == len(L.DRAWING_ROLES)
    assert [painted for added, painted, _ in per_step if added] == [0] * len(L.DRAWING_ROLES)  # frozen
    after = [painted for added, painted, due in per_step if due]
    assert len(after) == len(L.DRAWING_ROLES) and all(after)  # each painted in a slice of its own


def test_glyph_steps_render_the_glyphs_once(make_napari_viewer):
    viewer = make_napari_viewer()
    font = L.text_font(viewer)
    steps = list(L.glyph_steps(font))
    assert set(L.GLYPHS) <= set(font._glyphs)
    assert len(steps) <= -(-len(L.GLYPHS) // L._GLYPHS_PER_STEP)
    assert list(L.glyph_steps(font)) == []  # all cached: no step


def test_moved_edges_keep_their_shader(make_napari_viewer, alignment):
    # vispy's MeshVisual made a new colour function on every set_data, recompiling the GL program
    viewer = make_napari_viewer(show=True)
    la = L.show_alignment(viewer, alignment)
    viewer.window._qt_viewer.canvas._scene_canvas.render()  # drawn once: its programs are built
    mesh = viewer.window._qt_viewer.canvas.layer_to_visual[la.edges_a].node
    programs = list(mesh.shared_program._programs.values())
    assert programs and not any(p._need_build for p in programs)
    L.update_positions(la, alignment.layout.pos_a * 2, alignment.layout.pos_b)
    mesh._update_data()  # what the next draw does with the moved edges
    assert not any(p._need_build for p in programs)


def test_highlight_region_and_centre(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    bbox = L.highlight_region(la, 1)
    nodes = la.nodes_a.data[alignment.regions[1].nodes_a]
    assert (nodes >= bbox[0]).all() and (nodes <= bbox[1]).all()
    chosen = la.bubbles.features["region"].to_numpy() == 1
    widths = np.asarray(la.bubbles.edge_width)
    assert widths[chosen].min() > widths[~chosen].max()
    L.centre_on(viewer, bbox)
    np.testing.assert_allclose(L.camera_of(viewer).center[-2:], bbox.mean(axis=0), atol=1e-6)
    assert L.highlight_region(la, None) is None
    assert np.ptp(np.asarray(la.bubbles.edge_width)) == 0
    with pytest.raises(IndexError):
        L.highlight_region(la, 5)


def test_show_motifs_statuses(make_napari_viewer, alignment):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    matches = [
        MotifMatch(Motif("path", (1, 2, 3)), (1, 2), "preserved"),
        MotifMatch(Motif("loop", tuple(range(12))), (0, 9), "broken"),
        MotifMatch(Motif("branch", (5,)), (), "absent"),
    ]
    layer = L.show_motifs(la, matches)
    assert layer.name == "TopoAlign motifs" and layer.metadata[L.ROLE_KEY] == "motifs"
    f = layer.features
    assert list(zip(f["match"], f["side"], f["status"])) == [
        (0, "a", "preserved"), (1, "a", "broken"), (2, "a", "absent"), (0, "b", "preserved"), (1, "b", "broken"),
    ]
    np.testing.assert_allclose(layer.edge_color[0], L.MOTIF_COLOURS["preserved"])
    np.testing.assert_allclose(layer.edge_color[2], L.MOTIF_COLOURS["absent"])
    # each outline holds its motif's nodes
    from matplotlib.path import Path

    for ring, match, side in zip(layer.data, f["match"], f["side"]):
        m = matches[match]
        nodes = la.nodes_a.data[list(m.motif.nodes)] if side == "a" else la.nodes_b.data[list(m.counterpart)]
        assert Path(ring).contains_points(nodes).all()
    L.show_motifs(la, matches[:1])
    assert roles(viewer).count("motifs") == 1


def test_inputs_mosaic_lookup(make_napari_viewer, image_inputs):
    viewer = make_napari_viewer()
    view = L.show_inputs_mosaic(viewer, image_inputs, beside=[[0, 0], [10, 20]])
    image = viewer.layers["TopoAlign inputs"]
    assert view.kind == "mosaic" and view.n_inputs == len(image_inputs.images)
    for i in (0, 17, len(image_inputs.images) - 1):
        assert view.input_at(view.positions[i]) == i
        (r0, c0), (r1, c1) = view.tile_bboxes([i])[0]
        assert r0 < view.positions[i][0] < r1 and c0 < view.positions[i][1] < c1
        # the mosaic's pixels at that tile are the image
        pr, pc = np.round((np.array([r0, c0]) - view.translate) / view.scale + 0.5).astype(int)
        np.testing.assert_array_equal(image.data[pr : pr + 8, pc : pc + 8], image_inputs.images[i])
    assert view.input_at([-100.0, -100.0]) == -1
    # beside the bbox: right of it at its height or below it at its width
    (r0, c0), (r1, c1) = view.bbox()
    assert (c0 > 20 and np.isclose(r0, 0) and np.isclose(r1 - r0, 10)) or (
        r0 > 10 and np.isclose(c0, 0) and np.isclose(c1 - c0, 20))
    np.testing.assert_allclose(view.tile_bboxes([0])[0][0], [r0, c0])


@pytest.mark.parametrize(("beside", "aspect", "where"), [
    ([[0, 0], [10, 40]], 0.5, "below"),  # wide graphs on a tall canvas: below draws them larger
    ([[0, 0], [10, 40]], 6.0, "right"),  # ... on a very wide one, to the right
    ([[0, 0], [30, 20]], 1.5, "right"),  # tall graphs: to the right
])
def test_placement_beside_the_graphs(beside, aspect, where):
    scale, translate = L._placement((100, 100), beside, aspect)
    corner = translate - 0.5 * scale
    side = 100 * scale
    (r0, c0), (r1, c1) = np.asarray(beside, float)
    if where == "right":  # same height, top-aligned
        assert corner[1] > c1 and np.isclose(corner[0], r0) and np.isclose(side, r1 - r0)
    else:  # same width, left-aligned
        assert corner[0] > r1 and np.isclose(corner[1], c0) and np.isclose(side, c1 - c0)


def test_view_fits_the_drawing_not_hidden_matrices(make_napari_viewer, alignment, image_inputs):
    """A big hidden image (like a representation matrix) must not shrink the graphs to a smudge."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    viewer.add_image(np.zeros((1797, 384)), visible=False, name="matrix")
    la = L.show_alignment(viewer, alignment, inputs=image_inputs)
    box, rect = L.drawing_bbox(la), L.visible_rect(viewer)
    nodes = np.concatenate([la.nodes_a.data, la.nodes_b.data])
    assert (nodes >= box[0]).all() and (nodes <= box[1]).all()
    assert (box[0] >= rect[0] - 1e-6).all() and (box[1] <= rect[1] + 1e-6).all()  # all of it in view
    assert ((box[1] - box[0]) / (rect[1] - rect[0])).max() > 0.8  # filling the canvas along one axis
    np.testing.assert_array_less(la.inputs.bbox()[0] - 1e-6, rect[1])
    # the graphs alone fill a good part of the canvas too (not just the mosaic)
    span = nodes.max(0) - nodes.min(0)
    assert (span / (rect[1] - rect[0])).max() > 0.4
    # a layout that drifts out of view is refitted; one inside the view is left alone
    zoom = L.camera_of(viewer).zoom
    L.update_positions(la, alignment.layout.pos_a * 0.9, alignment.layout.pos_b * 0.9)
    L.keep_in_view(viewer, la)
    assert L.camera_of(viewer).zoom == zoom
    L.update_positions(la, alignment.layout.pos_a + 100, alignment.layout.pos_b + 100)
    L.keep_in_view(viewer, la)
    rect = L.visible_rect(viewer)
    assert (la.nodes_a.data >= rect[0]).all() and (la.nodes_b.data <= rect[1]).all()


def test_region_numbers_at_the_bubbles_visual_centre(make_napari_viewer, alignment):
    from shapely.geometry import Point, Polygon

    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment)
    labels = la.region_labels
    assert labels.metadata[L.ROLE_KEY] == "region_labels"
    f = labels.features
    assert sorted(f["text"]) == ["1", "1", "2", "2"] and list(f["region"]) == [0, 1, 0, 1]
    bubbles = la.bubbles.features
    for pos, region in zip(labels.data, f["region"]):
        rings = [Polygon(la.bubbles.data[i]) for i in np.flatnonzero(
            ((bubbles["region"] == region) & (bubbles["part"] != "membrane")).to_numpy())]
        inside = [ring for ring in rings if ring.contains(Point(pos))]
        assert len(inside) == 1  # inside its own bubble ...
        assert inside[0].exterior.distance(Point(pos)) > 0.2 * np.sqrt(inside[0].area)  # ... well inside
    colours = np.asarray(labels.text.color(f))
    np.testing.assert_allclose(colours[0], colours[2])  # one colour per region, in both panels
    assert not np.allclose(colours[0], colours[1])
    assert not la.bubbles.text.visible or not np.asarray(la.bubbles.text.values).any()  # no numbers at bbox corners


def test_regions_painted_on_source_image(make_napari_viewer, alignment, source_inputs):
    viewer = make_napari_viewer()
    la = L.show_alignment(viewer, alignment, inputs=source_inputs)
    points = la.inputs.layers[1]
    region = points.features["region"].to_numpy()
    for r, reg in enumerate(alignment.regions):
        assert (region[reg.inputs] == r).all()
        np.testing.assert_allclose(points.face_color[reg.inputs], np.tile(L.region_colours([r]), (len(reg.inputs), 1)))
    assert (region == -1).sum() == _n_outside(alignment, len(region))


def _n_outside(alignment, n):
    inside = np.zeros(n, bool)
    for reg in alignment.regions:
        inside[reg.inputs] = True
    return int((~inside).sum())


def test_inputs_placed_again_at_the_same_place_are_not_refreshed(make_napari_viewer, image_inputs):
    viewer = make_napari_viewer()
    beside = np.array([[0.0, 0.0], [10.0, 10.0]])
    view = L.show_inputs_mosaic(viewer, image_inputs, beside=beside)
    layer, refreshed = view.layers[0], []
    layer.events.set_data.connect(lambda event: refreshed.append(1))
    assert L.show_inputs_mosaic(viewer, image_inputs, beside=beside).layers[0] is layer and not refreshed
    moved = L.show_inputs_mosaic(viewer, image_inputs, beside=beside + 5.0)
    assert moved.layers[0] is layer and refreshed and not np.array_equal(moved.translate, view.translate)


def test_mosaic_contrast_spans_the_data(make_napari_viewer, image_inputs):
    viewer = make_napari_viewer()
    dim = SimpleNamespace(**{**vars(image_inputs), "images": (image_inputs.images % 17).astype(np.uint8)})
    L.show_inputs_mosaic(viewer, dim)  # digits-like 0..16 values in uint8
    assert tuple(viewer.layers["TopoAlign inputs"].contrast_limits) == (0, 16)


def test_screenshot_shows_both_graphs_and_bubbles(make_napari_viewer, alignment):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1200, 800)
    la = L.show_alignment(viewer, alignment)
    L.highlight_region(la, 0)
    viewer.reset_view()
    shot = viewer.screenshot(canvas_only=True)
    from skimage.io import imsave

    imsave("/tmp/topoalign_layers.png", shot, check_contrast=False)
    rgb = shot[..., :3].astype(int)
    background = rgb[0, 0]
    drawn = np.abs(rgb - background).sum(-1) > 30
    half = rgb.shape[1] // 2
    assert drawn[:, :half].mean() > 0.01 and drawn[:, half:].mean() > 0.01
    # saturated colours come from regions (nodes, bubbles): blue of region 0, orange of region 1
    saturation = rgb.max(-1) - rgb.min(-1)
    assert (saturation > 80).mean() > 0.005
    blue = (rgb[..., 2] > 150) & (rgb[..., 0] < 80)
    orange = (rgb[..., 0] > 200) & (rgb[..., 2] < 80)
    assert blue[:, :half].any() and blue[:, half:].any() and orange.any()
    # each graph in its own hue (outlines, edges, title): A's light blue left, B's orange right
    for side, own, other in (("a", np.s_[:, :half], np.s_[:, half:]), ("b", np.s_[:, half:], np.s_[:, :half])):
        near = np.abs(rgb - np.round(255 * L.SIDE_HUE[side][:3])).max(-1) <= 20
        assert near[own].sum() > 50 and near[own].sum() > 5 * near[other].sum(), side


def test_refresh_extent_reslices_only_when_a_hidden_dimension_changes(make_napari_viewer, monkeypatch):
    viewer = make_napari_viewer()
    stack = viewer.add_image(np.zeros((5, 10, 10)))
    points = viewer.add_points(np.array([[1.0, 1.0]]))
    viewer.dims.set_point(0, 4)
    sliced = []
    slice_dims = stack._slice_dims
    monkeypatch.setattr(stack, "_slice_dims", lambda *a, **k: sliced.append(1) or slice_dims(*a, **k))

    with points.events.data.blocker(viewer._on_layers_change):  # a quiet move, as the drawing makes
        points.data = np.array([[-50.0, -60.0]])
    L.refresh_extent(viewer)
    assert viewer.dims.range[-1].start <= -60 and viewer.dims.range[-2].start <= -50  # the dims follow the drawing
    assert not sliced  # and the stack, unchanged, is not sliced again

    with stack.events.data.blocker(viewer._on_layers_change):
        stack.data = np.zeros((3, 10, 10))
    sliced.clear()
    L.refresh_extent(viewer)
    assert viewer.dims.point[0] == 2 and sliced  # a hidden dimension changed: the layers are sliced again
