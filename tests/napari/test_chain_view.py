"""The chain in napari: layers with a leading representation axis, the dims slider, the chain widget."""

import numpy as np
import pytest
import torch

import napari_topoalign as ta
from napari_topoalign._napari import chain_layers as CL
from napari_topoalign._napari.layers import find_layer

PARAMS = ta.MapperParams(lens="pca", n_intervals=8, overlap=0.3, eps=0.25)
WAIT_MS = 120_000


def circle_layers(n=200, n_layers=4, seed=1):
    """An open arc in the first layer, the closed circle after it (noisy, rotated in 4-D)."""
    rng = np.random.default_rng(seed)
    theta = np.sort(rng.uniform(0, 2 * np.pi, n))
    out = []
    for k in range(n_layers):
        a = theta * (0.6 if k == 0 else 1.0)
        X = np.column_stack([np.cos(a), np.sin(a), 0.02 * rng.normal(size=(n, 2))])
        out.append((X @ np.linalg.qr(rng.normal(size=(4, 4)))[0]).astype(np.float32))
    return out


@pytest.fixture(scope="module")
def chain():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return ta.align_chain(circle_layers(), PARAMS, iterations=60, device="cpu")
    finally:
        torch.set_num_threads(before)


def test_slider_scrubs_the_chain(make_napari_viewer, chain):
    viewer = make_napari_viewer()
    layers = CL.show_chain(viewer, chain)
    assert set(layers) == set(CL.ROLES) and all(layer.ndim == 3 for layer in layers.values())
    assert viewer.dims.axis_labels[0] == CL.AXIS_LABEL and viewer.dims.nsteps[0] == len(chain)
    nodes, edges, nxt = layers["chain_nodes"], layers["chain_edges"], layers["chain_next"]
    assert len(nodes.data) == sum(G.n_nodes for G in chain.graphs)
    assert list(nodes.features.columns) == ["representation", "node", "size", "track"]
    for i, G in enumerate(chain.graphs):
        viewer.dims.set_current_step(0, i)
        assert CL.chain_position(viewer) == i
        assert len(nodes._view_data) == G.n_nodes  # only graph i's nodes and edges are on the slice
        assert len(edges._view_data) == len(G.edges)
        assert len(nxt._view_data) == (chain.graphs[i + 1].n_nodes if i + 1 < len(chain) else 0)
        np.testing.assert_allclose(nodes._view_data, CL.to_napari(chain.positions[i]), atol=1e-5)


def test_track_colours_are_the_same_all_along(make_napari_viewer, chain):
    viewer = make_napari_viewer()
    nodes = CL.show_chain(viewer, chain)["chain_nodes"]
    track = nodes.features["track"].to_numpy()
    tracks = chain.tracks("region")
    k = next(i for i, t in enumerate(tracks) if t.stop - t.start >= 2)  # a region followed over several graphs
    first = track == k + 1
    assert len(set(nodes.features["representation"][first])) == len(tracks[k].nodes)
    assert np.allclose(nodes.face_color[first], nodes.face_color[first][0])
    assert np.allclose(nodes.face_color[track == 0], CL.GREY)


def test_region_bubbles_of_current_and_next(make_napari_viewer, chain):
    viewer = make_napari_viewer()
    shapes = CL.show_chain(viewer, chain)["chain_regions"]
    per_slice = {}
    for poly in shapes.data:
        assert np.ptp(poly[:, 0]) == 0  # every outline lies in one representation
        per_slice[int(poly[0, 0])] = per_slice.get(int(poly[0, 0]), 0) + 1
    n = len(chain)
    for t in range(n - 1):  # filled around graph t, outlined around graph t + 1
        assert per_slice.get(t, 0) >= 2 * len(chain.consecutive_regions(t)) > 0
    filled = shapes.face_color[:, 3] > 0
    assert filled.any() and (~filled).any()


def test_reshowing_replaces_the_chain_layers(make_napari_viewer, chain):
    viewer = make_napari_viewer()
    CL.show_chain(viewer, chain)
    viewer.add_points(np.zeros((1, 3)), name="mine")
    CL.show_chain(viewer, chain)
    assert len(viewer.layers) == len(CL.ROLES) + 1 and "mine" in viewer.layers


def test_widget_curve_follows_the_slider(make_napari_viewer, chain):
    from napari_topoalign._napari.chain_widget import ChainWidget

    viewer = make_napari_viewer()
    widget = ChainWidget(viewer)
    widget.set_chain(chain)
    for i in (0, 2):
        viewer.dims.set_current_step(0, i)
        ax = widget.figure.axes[0]
        marks = [line for line in ax.lines if np.ptp(line.get_xdata()) == 0 and len(line.get_xdata()) == 2]
        assert [line.get_xdata()[0] for line in marks] == [i]
        assert chain.names[i] in widget.current.text() and chain.pair_label(i) in widget.current.text()
    viewer.dims.set_current_step(0, len(chain) - 1)  # the last representation starts no pair
    assert not [line for line in widget.figure.axes[0].lines if np.ptp(line.get_xdata()) == 0]


def test_widget_aligns_checked_representation_layers(make_napari_viewer, qtbot, tmp_path):
    from qtpy.QtCore import Qt

    from napari_topoalign._napari._reader import read_files
    from napari_topoalign._napari.chain_widget import ChainWidget

    layers = circle_layers(n_layers=3)
    np.savez(tmp_path / "model.npz", **{f"layer{i}": X for i, X in enumerate(layers)})
    viewer = make_napari_viewer()
    for data, kwargs, kind in read_files(str(tmp_path / "model.npz")):
        viewer._add_layer_from_data(data, kwargs, kind)
    widget = ChainWidget(viewer)
    assert widget.reps.count() == 3
    widget.reps.item(1).setCheckState(Qt.Unchecked)  # leave layer1 out
    widget.eps.setValue(0.25)
    widget.intervals.setValue(8)
    widget.overlap.setValue(0.3)
    widget.align_button.click()
    qtbot.waitUntil(lambda: widget.chain is not None, timeout=WAIT_MS)
    assert widget.chain.names == ("layer0", "layer2")
    assert find_layer(viewer, "chain_nodes") is not None and widget.save_button.isEnabled()
    # a saved chain opens again through the reader as the same layers
    widget.chain.save(tmp_path / "chain.npz")
    roles = [kwargs["metadata"]["topoalign"] for _, kwargs, _ in read_files(str(tmp_path / "chain.npz"))]
    assert roles == ["chain_regions", "chain_edges", "chain_next", "chain_nodes"]


def test_screenshot_of_the_chain(make_napari_viewer, chain):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1000, 700)
    CL.show_chain(viewer, chain)
    shots = []
    for i in (0, len(chain) - 1):
        viewer.dims.set_current_step(0, i)
        shots.append(viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int))
    for shot in shots:
        background = shot[0, 0]
        assert (np.abs(shot - background).sum(-1) > 30).mean() > 0.005
        assert ((shot.max(-1) - shot.min(-1)) > 80).mean() > 0.001  # coloured track nodes and bubbles
    assert np.abs(shots[0] - shots[1]).sum(-1).mean() > 1  # the arc and the circle differ
