"""End-to-end tests of the TopoAlign dock widget (run under Xvfb).

Data: a loop and the same loop cut open, two representations of the same 300 inputs,
so graph A has a cycle and graph B has none: the loop motif must come back "broken" or
"absent", and matching regions must exist along the arcs the two share.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from napari.layers import Layer

from napari_topoalign.io import InputTable, Representation
from napari_topoalign._napari.widgets import session as widgets  # every tab shows errors through its show_error
from napari_topoalign._napari._reader import INPUTS_KEY, representation_layer_data
from napari_topoalign._napari import layers as L
from napari_topoalign._napari.layers import find_layer
from napari_topoalign._napari.widgets import TopoAlignWidget

N = 300
WAIT_MS = 45_000
SCREENSHOT = "/tmp/topoalign_widget.png"


def _pair():
    rng = np.random.default_rng(0)
    t = (np.arange(N) + 0.5) / N
    angle = 2 * np.pi * t
    loop = np.column_stack([np.cos(angle), np.sin(angle), 0.005 * rng.normal(size=(N, 4))])
    cut = np.column_stack([3 * t, 0.3 * np.sin(3 * t), 0.005 * rng.normal(size=(N, 4))])
    images = (np.outer(t, np.ones(64)).reshape(N, 8, 8) * 255).astype(np.uint8)
    inputs = InputTable(N, labels=(t * 4).astype(int), texts=[f"input {i} at t={x:.2f}" for i, x in enumerate(t)],
                        images=images)
    return Representation(loop, "loop"), Representation(cut, "cut"), inputs


def _setup(make_napari_viewer, monkeypatch, show=False):
    """A viewer with a user layer, the pair and its inputs as layers, and the widget docked."""
    errors = []
    monkeypatch.setattr(widgets, "show_error", errors.append)
    viewer = make_napari_viewer(show=show)
    viewer.add_points(np.array([[5.0, 5.0]]), name="my points")
    rep_a, rep_b, inputs = _pair()
    for data in (representation_layer_data(rep_a), representation_layer_data(rep_b)):
        viewer.add_layer(Layer.create(*data))
    viewer.add_points(np.zeros((0, 2)), name="inputs", visible=False, metadata={INPUTS_KEY: inputs})
    widget = TopoAlignWidget(viewer)
    viewer.window.add_dock_widget(widget, name="TopoAlign", area="right")
    widget.mapper.form_a.lens.setCurrentText("pca")
    widget.mapper.form_a.n_intervals.setValue(10)
    return viewer, widget, errors


@pytest.fixture
def setup(make_napari_viewer, monkeypatch):
    return _setup(make_napari_viewer, monkeypatch)


def _wait(qtbot, section):
    """Wait until the section's worker is done and its buttons are enabled again."""
    qtbot.waitUntil(lambda: not section.busy and getattr(section, "drawn", True), timeout=WAIT_MS)


def _align(qtbot, widget, errors):
    widget.align.align_button.click()
    _wait(qtbot, widget.align)
    assert not errors and widget.session.alignment is not None


def test_load_shows_data_and_problems(setup, tmp_path):
    viewer, widget, errors = setup
    load = widget.load
    assert load.combo_a.currentText().startswith("loop") and load.combo_b.currentText().startswith("cut")
    assert "N = 300" in load.summary.text() and "6-D" in load.summary.text()
    assert widget.session.rep_a.name == "loop" and widget.session.inputs.n_inputs == N
    assert load.problems.text() == "" and load.note.text() == ""

    # a representation of other inputs is refused: shown in the label, notified once, no layer added
    np.save(tmp_path / "short.npy", np.ones((10, 3), np.float32))
    names = [layer.name for layer in viewer.layers]
    assert not load.open_file(str(tmp_path / "short.npy"), "B")
    assert "300" in load.problems.text() and "10" in load.problems.text()
    assert len(errors) == 1 and [layer.name for layer in viewer.layers] == names
    assert widget.session.rep_b.name == "cut" and widget.session.ready
    viewer.add_points(np.array([[1.0, 1.0]]), name="another layer")  # a later layer change ...
    assert len(errors) == 1  # ... does not repeat the toast
    viewer.layers.remove("another layer")
    # metadata of other inputs: refused the same way
    np.savez(tmp_path / "meta.npz", labels=np.arange(7))
    assert not load.open_file(str(tmp_path / "meta.npz"), None)
    assert "7 inputs" in errors[-1] and [layer.name for layer in viewer.layers] == names

    # a damaged file: a notification, no new layer, the user's layers intact
    names = [layer.name for layer in viewer.layers]
    (tmp_path / "bad.npy").write_bytes(b"not a numpy file at all")
    errors.clear()
    assert not load.open_file(str(tmp_path / "bad.npy"), "A")
    assert len(errors) == 1 and "bad.npy" in errors[0]
    assert [layer.name for layer in viewer.layers] == names
    assert np.array_equal(viewer.layers["my points"].data, [[5.0, 5.0]])


def test_end_to_end(make_napari_viewer, monkeypatch, qtbot):
    """Load -> build -> align (live) -> regions -> motif -> screenshot -> cancel a second run."""
    from skimage.io import imsave

    viewer, widget, errors = _setup(make_napari_viewer, monkeypatch, show=True)
    viewer.window._qt_window.resize(1400, 900)
    session = widget.session

    widget.mapper.build_button.click()
    _wait(qtbot, widget.mapper)
    counts = widget.mapper.counts.text()
    assert f"{session.graph_a.n_nodes} nodes" in counts and "eps" in counts
    assert widget.mapper.form_a.eps.value() == pytest.approx(session.graph_a.params.eps, rel=1e-3)

    built = (session.graph_a, session.graph_b)
    steps = []
    widget.align.run()
    widget.align.worker.yielded.connect(lambda event: steps.append(type(event).__name__))
    _wait(qtbot, widget.align)
    assert not errors
    al = session.alignment
    assert "LayoutStep" in steps  # the layout was animated live
    assert al.graph_a is built[0] and al.graph_b is built[1]  # the built graphs were aligned, not rebuilt
    assert widget.align.progress.value() == 100

    nodes_a = find_layer(viewer, "nodes_a")
    assert len(nodes_a.data) == al.graph_a.n_nodes
    assert {"node", "size", "lens", "region", "score"} <= set(nodes_a.features.columns)
    assert nodes_a.features["size"].sum() == sum(len(m) for m in al.graph_a.members)
    assert "my points" in viewer.layers  # the user's layer is still there
    assert find_layer(viewer, "inputs") is not None  # the mosaic of the input images

    # scores beside each other; regions table, one row per region, sortable
    assert widget.regions.scores.rowCount() == len(al.scores) > 0
    table = widget.regions.regions
    assert table.rowCount() == len(al.regions) > 0
    ranks = [table.item(r, 0).value for r in range(table.rowCount())]
    assert ranks == list(range(1, len(al.regions) + 1))  # best first
    # the view shows the drawing (the hidden 300×6 matrices and the user's point do not set it)
    nodes = np.concatenate([find_layer(viewer, "nodes_a").data, find_layer(viewer, "nodes_b").data])
    rect, box = L.visible_rect(viewer), L.drawing_bbox(widget.view.layers)
    assert (nodes >= rect[0]).all() and (nodes <= rect[1]).all()
    assert ((box[1] - box[0]) / (rect[1] - rect[0])).max() > 0.6
    assert (find_layer(viewer, "region_labels").features["text"] == "1").sum() == 2  # region 1 numbered in A and B
    table.sortItems(1)  # by score, ascending
    scores = [table.item(r, 1).value for r in range(table.rowCount())]
    assert scores == sorted(scores)

    # choosing a region highlights it and centres the view on it
    bubbles = find_layer(viewer, "bubbles")
    widget.regions.select_region(0)
    chosen = bubbles.features["region"].to_numpy() == 0
    membrane = bubbles.features["part"].to_numpy() == "membrane"
    assert np.allclose(bubbles.edge_color[chosen & ~membrane], [1, 1, 1, 1])  # its bubbles outlined in white
    assert np.all(bubbles.edge_color[membrane, 3] == 0)  # membranes: a faint band, never an outline
    assert bubbles.face_color[chosen & membrane, 3].min() > 0.12  # stronger than an unchosen membrane
    pts = np.concatenate([bubbles.data[i] for i in np.flatnonzero(chosen)])
    assert np.allclose(L.camera_of(viewer).center[-2:], (pts.min(0) + pts.max(0)) / 2, atol=1e-3)

    # selecting nodes lists their inputs' texts
    session.select_nodes("a", [0])
    listed = [widget.regions.texts.item(i).text() for i in range(widget.regions.texts.count())]
    assert listed == [session.inputs.texts[i] for i in session.selection.inputs] and listed
    assert set(al.graph_a.members[0]) <= set(session.selection.inputs)

    # the loop of A does not survive in B (the circle is cut open)
    widget.regions.motif.setCurrentText("loop")
    widget.regions.motif_button.click()
    _wait(qtbot, widget.regions)
    assert not errors
    motifs = find_layer(viewer, "motifs")
    assert set(motifs.features["status"]) <= {"broken", "absent"} and len(motifs.features)
    assert "loop motif(s) in A: 0 preserved" in widget.regions.motif_counts.text()

    imsave(SCREENSHOT, viewer.screenshot(canvas_only=False, flash=False), check_contrast=False)
    _check_canvas(viewer)

    # cancel a second run as soon as it animates: the first alignment and its layers stay
    widget.align.iterations.setValue(5000)
    widget.mapper.form_a.n_intervals.setValue(14)  # other graphs, so the live layers differ
    widget.align.run()
    cancelled = []

    def cancel_on_positions(event):
        if type(event).__name__ == "LayoutStep" and not cancelled:
            cancelled.append(True)
            widget.align.cancel()

    widget.align.worker.yielded.connect(cancel_on_positions)
    _wait(qtbot, widget.align)
    assert cancelled and not errors
    assert session.alignment is al
    assert len(find_layer(viewer, "nodes_a").data) == al.graph_a.n_nodes
    assert find_layer(viewer, "bubbles").visible
    assert "Cancelled" in widget.align.status.text() and widget.align.progress.value() == 0
    assert widget.align.align_button.isEnabled()


def _check_canvas(viewer):
    """The canvas shows both graphs side by side, and coloured bubbles (graphs panel alone)."""
    hidden = [la for la in viewer.layers if la.visible and la.metadata.get("topoalign") in ("inputs", None)]
    for layer in hidden:
        layer.visible = False
    viewer.reset_view()
    shot = viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
    for layer in hidden:
        layer.visible = True
    background = np.median(shot.reshape(-1, 3), axis=0)
    drawn = np.abs(shot - background).sum(-1) > 30
    assert drawn.mean() > 0.01
    middle = shot.shape[1] // 2
    assert drawn[:, : middle - 10].mean() > 0.005 and drawn[:, middle + 10 :].mean() > 0.005
    colourful = (shot.max(-1) - shot.min(-1)) > 40  # region colours, not grey edges
    assert colourful.mean() > 0.005


def test_garbage_collector_is_paused_only_while_aligning(setup, qtbot):
    import gc

    viewer, widget, errors = setup
    assert gc.isenabled()
    during = []
    widget.align.run()
    widget.align.worker.yielded.connect(lambda event: during.append(gc.isenabled()))
    _wait(qtbot, widget.align)
    assert not errors and during and not any(during)  # a full collection would stall the GUI mid-run
    qtbot.waitUntil(gc.isenabled, timeout=1000)  # in a slice after the run's last (its collection takes a while)
    widget.align.run()
    assert not gc.isenabled()
    widget.align.cancel()
    widget.align.run()  # a run started before the last one's pause ended: the pause goes on
    assert not gc.isenabled()
    widget.align.cancel()
    qtbot.waitUntil(gc.isenabled, timeout=1000)  # a cancelled run gives it back at once
    _wait(qtbot, widget.align)


def test_the_alignment_is_drawn_while_its_scores_are_computed(setup, qtbot, monkeypatch):
    import threading

    from napari_topoalign import metrics

    monkeypatch.setenv("TOPOALIGN_WORKER", "thread")  # the pipeline in this process, to hold its scores back
    viewer, widget, errors = setup
    scores = metrics.alignment_scores
    drawn_first = threading.Event()

    def slow_scores(*args, **kwargs):  # the worker's scores wait (at most 10 s) for the final drawing
        drawn_first.wait(10)
        return scores(*args, **kwargs)

    monkeypatch.setattr(metrics, "alignment_scores", slow_scores)
    widget.align.run()
    qtbot.waitUntil(lambda: widget.align._final is not None, timeout=WAIT_MS)  # drawn, scores pending
    bubbles = find_layer(viewer, "bubbles")
    assert widget.align.busy and widget.session.alignment is None and bubbles.nshapes > 0
    assert "scores" in widget.align.status.text()
    drawn_first.set()
    _wait(qtbot, widget.align)
    assert not errors and widget.session.alignment is not None and widget.session.alignment.scores
    assert widget.align.progress.value() == 100


def test_a_wrong_worker_setting_is_reported_and_nothing_is_lost(setup, monkeypatch):
    viewer, widget, errors = setup
    names = [layer.name for layer in viewer.layers]
    monkeypatch.setenv("TOPOALIGN_WORKER", "gpu-farm")
    widget.align.align_button.click()
    assert errors and "TOPOALIGN_WORKER" in errors[-1] and "'process'" in errors[-1]
    assert not widget.align.busy and widget.align.align_button.isEnabled()
    assert [layer.name for layer in viewer.layers] == names


def _busy(seconds: float) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        pass


def test_drawing_steps_let_timers_and_paints_run_between_them(qapp, qtbot):
    """Each drawing step is a slice of its own: a timer due meanwhile (a click, the heartbeat) runs
    before the next one, also after a paint that takes longer than the timer's interval; ``done``
    comes in a slice of its own, the frozen widgets thawed."""
    import threading

    from qtpy.QtCore import QTimer
    from qtpy.QtOpenGLWidgets import QOpenGLWidget
    from qtpy.QtWidgets import QLabel

    from napari_topoalign._napari.widgets.align import SLICE_BUDGET_S, _Stepper

    events, frozen = [], QLabel("frozen")

    class SlowCanvas(QOpenGLWidget):  # painted as napari's canvas is (the window composes it)
        def paintGL(self):  # longer than the timer's interval
            _busy(0.012)
            events.append("paint")

    canvas = SlowCanvas()
    canvas.resize(200, 200)
    canvas.show()
    qtbot.waitExposed(canvas)
    beat = QTimer()
    beat.setInterval(5)
    beat.timeout.connect(lambda: events.append("tick"))

    def steps():
        for i in range(12):
            _busy(SLICE_BUDGET_S)  # a slice's worth: one step per slice
            events.append("step")
            if i % 3 == 0:
                canvas.update()  # a paint follows this step
            yield
        events.append("end")
        _busy(0.012)
        return "done"

    beat.start()
    stepper = _Stepper(steps(), lambda result: events.append(result), threading.Event(),  # noqa: F841
                       frozen=[frozen])
    qtbot.waitUntil(lambda: "done" in events, timeout=5000)
    beat.stop()
    order = [e for e in events if e != "paint"]
    first = order.index("step")
    assert order[first:].count("step") == 12
    assert all(a != b for a, b in zip(order[first:], order[first + 1:]) if a == "step"), order  # a tick between steps
    start = events.index("step")
    after_paint = [events[i + 1] for i in range(start, len(events) - 1) if events[i] == "paint"]
    assert set(after_paint) <= {"tick", "paint"}, events  # a tick due during a paint runs before the next step
    assert "tick" in events[events.index("end"):events.index("done")] and frozen.updatesEnabled()  # a slice of its own


def test_quick_drawing_steps_share_a_slice(qapp, qtbot):
    import threading

    from napari_topoalign._napari.layers import PAINT_DUE
    from napari_topoalign._napari.widgets.align import SLICE_BUDGET_S, _Stepper

    slices, finished = [], []

    class Counting(_Stepper):
        def _next(self):
            slices.append(1)
            super()._next()

    def steps():
        for i in range(40):
            _busy(SLICE_BUDGET_S / 10)
            yield PAINT_DUE if i == 5 else None  # a paint due ends the slice

    stepper = Counting(steps(), finished.append, threading.Event())  # noqa: F841
    qtbot.waitUntil(lambda: finished == [None], timeout=5000)
    assert 5 <= len(slices) <= 12  # ~10 steps a slice, a slice ended at the paint, the slice of ``done``


def test_layout_frames_are_paced_by_the_qt_threads_cpu_per_frame(setup, monkeypatch):
    """The next layout positions are asked for LIVE_COST_FACTOR times the Qt thread's CPU time
    of the last frame later (its paint and the window's composition included), never sooner than
    LIVE_EVERY_S."""
    from napari_topoalign._napari.widgets import align as align_tab

    viewer, widget, errors = setup
    tab, clock, drawn = widget.align, iter([10.0, 10.3, 10.32]), []
    monkeypatch.setattr(align_tab.time, "thread_time", lambda: next(clock))
    monkeypatch.setattr(tab, "_draw_positions", lambda s, live: drawn.append(1))
    tab._layers, tab._pace, tab._graphs_drawn = object(), {"every": align_tab.LIVE_EVERY_S}, True
    for expected in (align_tab.LIVE_EVERY_S, align_tab.LIVE_COST_FACTOR * 0.3, align_tab.LIVE_EVERY_S):
        tab._latest = (np.zeros((2, 2)), np.zeros((2, 2)))
        tab._move()
        assert tab._pace["every"] == pytest.approx(expected) and tab._latest is None
    assert len(drawn) == 3 and not errors
    tab._latest = (np.zeros((2, 2)), np.zeros((2, 2)))
    tab._final_started = True  # the final drawing has begun: no more layout frames
    tab._move()
    assert len(drawn) == 3


def test_a_layout_move_is_painted_in_a_slice_of_its_own(setup, qtbot, monkeypatch):
    """A move of the graphs holds the canvas back; it paints in a later slice, after the timers
    due (the move and the paint together took over 100 ms under software GL)."""
    from qtpy.QtCore import QTimer

    viewer, widget, errors = setup
    tab, events = widget.align, []
    canvas = viewer.window._qt_viewer.canvas.native
    monkeypatch.setattr(L, "update_positions", lambda live, pa, pb: (_busy(0.005), events.append("move")))
    monkeypatch.setattr(L, "keep_in_view", lambda viewer, live: None)
    beat = QTimer()
    beat.setInterval(1)
    beat.timeout.connect(lambda: events.append("tick") if canvas.updatesEnabled() else events.append("held"))
    tab._layers, tab._graphs_drawn = object(), True
    tab._latest = (np.zeros((2, 2)), np.zeros((2, 2)))
    beat.start()
    qtbot.wait(20)
    tab._move()
    assert events[-1] == "move" and not canvas.updatesEnabled()  # held back until a later slice
    qtbot.waitUntil(canvas.updatesEnabled, timeout=1000)
    beat.stop()
    assert "held" in events[events.index("move"):] and not errors  # a timer ran while it was held


def test_a_drawing_step_that_asks_for_a_paint_waits_for_it(qapp, qtbot):
    import threading

    from vispy.util.event import EventEmitter

    from napari_topoalign._napari.layers import PAINT_DUE
    from napari_topoalign._napari.widgets.align import _Stepper

    def steps(events):
        events.append("new layer")
        yield PAINT_DUE
        events.append("next")
        yield
        return "done"

    painted, events, finished = EventEmitter(type="draw"), [], []
    stepper = _Stepper(steps(events), finished.append, threading.Event(), painted=painted)
    qtbot.wait(100)
    assert events == ["new layer"]  # the next step waits for the canvas's paint
    painted()
    qtbot.waitUntil(lambda: finished == ["done"], timeout=2000)
    assert events == ["new layer", "next"] and not painted.callbacks  # no longer listening
    # a paint that never comes (the canvas hidden meanwhile) holds the drawing up for a moment only
    events.clear()
    stepper = _Stepper(steps(events), finished.append, threading.Event(), painted=painted)  # noqa: F841
    qtbot.waitUntil(lambda: finished == ["done", "done"], timeout=2000)
    assert events == ["new layer", "next"] and not painted.callbacks


def test_deleting_the_parent_of_steps_ends_them(qapp, qtbot):
    """``run_in_slices`` steps whose parent (the dock) is deleted in the middle stop there, and
    nothing touches their timers, gone with it (a RuntimeError in a Qt slot)."""
    from qtpy.QtCore import QObject

    from napari_topoalign._napari.layers import SLICE_END
    from napari_topoalign._napari.widgets.align import run_in_slices

    parent, events = QObject(), []

    def steps():
        for i in range(5):
            events.append(i)
            if i == 1:
                parent.deleteLater()  # deleted before the next slice is scheduled
            yield SLICE_END

    stepper = run_in_slices(steps(), parent)
    qtbot.waitUntil(lambda: stepper.stopped, timeout=2000)
    qtbot.wait(100)  # pytest-qt fails the test on an exception in the event loop
    assert events == [0, 1]
