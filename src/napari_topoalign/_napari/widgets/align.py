"""The Align tab: runs the core pipeline in a worker and draws it without ever blocking the GUI.

How the Qt thread stays free (each piece of drawing is one short slice of the event loop):

- the pipeline (``Session.steps``: graphs, layout blocks, regions, scores, Bubble Sets) runs in a
  process of its own (``pipeline_process()``, started with the first dock; its Python does not
  take turns with the GUI's on one GIL) with one core left to the GUI
  (``threads.thread_policy(reserve=1)``); a worker thread here relays its events and
  forwards layout positions at most every ``LIVE_EVERY_S`` seconds, and at least five times the
  Qt thread's CPU time of the last frame apart (always the newest: drawing, painting and the
  window's composition, which dominates under software GL), and
  prepares the final drawing (``layers.prepare``: Bubble Set polygons, links) as soon as the
  Bubble Sets are known: the GUI draws it while the worker computes the scores;
- the plugin's layers are made once per viewer and then updated in place (napari takes
  0.1-0.8 s to add a layer and runs a full garbage collection to remove one); on the first run
  they are made one per slice while the worker computes;
- once the layout has run ``LIVE_AFTER_S``, the graphs appear at its newest positions
  (``draw_graphs``) and then move in place, each move painted in a slice after its own; a
  shorter layout shows as the final drawing alone, which adds the Bubble Sets a few polygons per
  slice (``show_alignment_steps``);
- while a drawing slice runs the worker waits at its next pipeline event, so the GUI thread does
  not fight it for the GIL after every Qt call;
- Python's garbage collector is paused for the run (``_pause_collector``): a full collection of
  napari's objects took ~0.3 s in the middle of the animation;
- every slice is quiet (``layers.quiet_drawing``): no thumbnails, no dims recompute, no layer-list
  repaint per property set; a drawing ends by settling them once, one thumbnail per slice;
- the text glyphs are rendered a few per slice before any text is drawn: by the dock while the
  user loads data (``run_in_slices``), and by the first run for those still missing;
- the first run leaves the canvas unfrozen, adding and painting each new layer in slices of their
  own (its first paint compiles its shaders; ``layers.drawing_layers_steps``);
- quick steps share a slice up to ``SLICE_BUDGET_S`` (``_Stepper``), and the edge and bubble
  meshes keep their shaders when they move (``layers.keep_mesh_shaders``).

Cancel acts at once: the worker's results are dropped (it stops at its next pipeline event) and
the previous alignment (if any) is drawn back, in slices.
"""

from __future__ import annotations

import functools
import gc
import os
import threading
import time

from napari.qt.threading import thread_worker
from napari.utils.notifications import show_info
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox

from ...errors import ParameterError, TopoAlignError
from ..layers import PAINT_DUE, SLICE_END, qt_canvas, qt_viewer, quiet_drawing, quietly
from . import session as _session
from .session import _Section, report_error

MODES = {"side by side": "side_by_side", "overlay": "overlay"}
#: The newest layout positions reach the GUI at most this often (seconds), and at least
#: ``LIVE_COST_FACTOR`` times the Qt thread's CPU time of the last frame apart (so the animation
#: takes at most about 1 / LIVE_COST_FACTOR of a core while the layout runs: on software GL,
#: where painting and composing the window cost the most, fewer frames).
LIVE_EVERY_S = 0.15
LIVE_COST_FACTOR = 5
#: Layout frames are drawn once the layout has run this long (seconds), and its final positions
#: this long after it ended: a shorter layout shows as the final drawing alone (an animation that
#: short shows nothing, and drawing it took the core the pipeline needed: a third of a small
#: sample's run).
LIVE_AFTER_S = 0.3
#: A drawing slice runs its steps until it has taken this long (seconds; a step is never cut):
#: a slice per step spent more time between the steps than in them.
SLICE_BUDGET_S = 0.015
#: Longest a drawing waits for the canvas to paint a new layer before its next step (ms).
PAINT_WAIT_MS = 250
#: Longest the worker waits for a GUI slice to end (seconds).
GUI_WAIT_S = 0.5
#: Share of the progress bar for the pipeline; the rest is the final drawing.
PIPELINE_SHARE = 0.95
#: Longest Python's garbage collector stays paused for one run (seconds; see ``_pause_collector``).
GC_PAUSE_MAX_S = 120.0
#: The progress bar and status line show the pipeline's newest event at most this often (ms): each
#: change repaints napari's window, which composes its GL canvas anew (~25 ms under software GL).
REPORT_EVERY_MS = 150


#: ``TOPOALIGN_WORKER=thread`` runs Align's pipeline in a thread of napari's process instead of
#: a process of its own (e.g. where no process may be started, or to debug it in one process).
WORKER_ENV = "TOPOALIGN_WORKER"


def pipeline_process():
    """The ``PipelineProcess`` every Align tab runs the pipeline in (one per napari process,
    started by the first dock), or None with ``TOPOALIGN_WORKER=thread``. In a thread of napari's
    process the pipeline's Python took turns on the GIL with the GUI's drawing: a GUI run took
    2-3× the headless time, where both had a core."""
    choice = os.environ.get(WORKER_ENV, "process").strip().lower()
    if choice not in ("process", "thread"):
        raise ParameterError(f"{WORKER_ENV}={choice!r}; set it to 'process' (the default) or 'thread', or unset it.")
    return _shared_process() if choice == "process" else None


@functools.cache
def _shared_process():
    from ...pipeline_process import PipelineProcess

    return PipelineProcess()


def available_devices() -> list[str]:
    """Device choices for the layout: auto and cpu, plus cuda when torch sees a GPU."""
    import torch

    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@thread_worker(ignore_errors=True)
def _pipeline_worker(steps, cancel: threading.Event, gui_free: threading.Event, pace: dict,
                     canvas_aspect: float = 1.0, inputs=None):
    """Iterate the pipeline ``steps`` (made with ``bubbles=True``) here (a worker thread),
    yielding its events to the GUI with layout steps thinned to one per ``pace["every"]`` seconds
    (set by the GUI), and after ``BubblesDrawn`` the final drawing prepared (``layers.Prepared``, for a canvas of
    ``canvas_aspect`` with ``inputs`` beside the graphs): the GUI draws it while the scores are
    computed here. Returns the alignment, or None when ``cancel`` was set (the pipeline is closed
    at its next event).

    Before each event it forwards it waits while ``gui_free`` is clear (the GUI thread is drawing): both threads
    run Python, and a GUI slice that must win the GIL back after every Qt call (PyQt releases it)
    from a busy worker takes many times longer (the convoy effect)."""
    from ...pipeline import BubblesDrawn, Done, LayoutStep
    from ..layers import prepare

    last = 0.0
    try:
        for event in steps:
            if cancel.is_set():
                return None
            if isinstance(event, LayoutStep):
                if event.iteration < event.iterations and time.monotonic() - last < pace["every"]:
                    continue  # not forwarded: the layout goes on without waiting for the GUI
                last = time.monotonic()
            drawing = prepare(event.alignment, canvas_aspect, inputs) if isinstance(event, BubblesDrawn) else None
            gui_free.wait(GUI_WAIT_S)
            if cancel.is_set():
                return None
            if drawing is not None:
                yield drawing
            if isinstance(event, Done):
                return event.alignment
            yield event
    finally:
        steps.close()


def _one_shot_timer(interval_ms: int, slot, parent=None) -> QTimer:
    """A single-shot QTimer of ``interval_ms`` calling ``slot``, started with ``start()``."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    timer.timeout.connect(slot)
    return timer


def _freeze(widgets) -> list:
    """Stop repainting those of ``widgets`` that repaint now; returns them (for ``_thaw``)."""
    frozen = [widget for widget in widgets if widget.updatesEnabled()]
    for widget in frozen:
        widget.setUpdatesEnabled(False)
    return frozen


def _thaw(widgets) -> None:
    """Let ``widgets`` (frozen by ``_freeze``) repaint again, and ask for their repaint."""
    for widget in widgets:
        try:
            widget.setUpdatesEnabled(True)
            widget.update()
        except RuntimeError:  # the viewer was closed meanwhile: its widgets are gone
            pass


class _Soon:
    """Calls ``slot`` on the Qt thread once the event loop has run what is pending: the posted
    events (a paint, the window's composition), then the timers that came due meanwhile (a click's,
    the heartbeat's). Two zero-interval timers, the second started when the first fires: one
    started at once is due before a timer that comes due during a paint, and Qt fires the
    earliest due first."""

    def __init__(self, slot, parent=None):
        self._last = _one_shot_timer(0, slot, parent)
        self._first = _one_shot_timer(0, self._last.start, parent)

    def start(self, wait_ms: int = 0) -> None:
        """Call ``slot`` soon (no sooner than ``wait_ms`` from now)."""
        self._last.stop()
        self._first.start(wait_ms)

    def stop(self) -> None:
        self._first.stop()
        self._last.stop()

    def isActive(self) -> bool:
        return self._first.isActive() or self._last.isActive()


class _Stepper:
    """Runs a generator of drawing steps on the Qt thread, a few steps per event-loop slice (until
    the slice has taken ``SLICE_BUDGET_S``), then calls ``done(return value)``. ``stop()``
    abandons it. The ``frozen`` widgets (the canvas and the layer list) do not repaint until it
    ends: the drawing appears whole, and the slices are not followed by a repaint of everything
    drawn so far. Its timers are children of ``parent`` (if any): deleting ``parent`` ends it.

    ``done`` runs in a slice of its own, then the frozen widgets are thawed: what ``done`` shows
    (status, tables) is composed into napari's window with the drawing's first paint, once.

    The next slice comes ``_Soon`` after the events that the last one posted have run, or, after a
    step that yields ``layers.PAINT_DUE`` (it ends the slice, as ``layers.SLICE_END`` does), once
    the canvas has painted (``painted``: the canvas's draw event; at most ``PAINT_WAIT_MS``
    later): Qt runs the timers and input due before it. A ``QTimer.singleShot(0)`` chain (posted
    events) ran two steps back to back about every other time, and a step right after a paint,
    doubling the longest wait of a click."""

    def __init__(self, steps, done, gui_free: threading.Event, frozen=(), painted=None, parent=None):
        self.steps, self.done, self.stopped, self.gui_free = steps, done, False, gui_free
        self.ended, self.result = False, None  # the steps have ended; their return value
        self.painted, self.waiting = painted, False
        self.frozen = _freeze(frozen)
        self.timer = _Soon(self._next, parent)
        if parent is not None:  # its timers are gone with it: the pending calls must not start them
            parent.destroyed.connect(self._parent_deleted)
        self.timer.start()

    def _parent_deleted(self, _=None) -> None:
        self.stopped = True

    def stop(self) -> None:
        self.stopped = True
        self.timer.stop()
        self._stop_waiting()
        self._thaw()

    def _thaw(self) -> None:
        _thaw(self.frozen)
        self.frozen = []

    def _next(self) -> None:
        self._stop_waiting()
        if self.stopped:
            return
        if self.ended:  # the slice after the last step's
            self.stopped = True
            try:
                self.done(self.result)
            finally:
                self._thaw()
            return
        self.gui_free.clear()
        start = time.perf_counter()
        try:
            value = next(self.steps)
            while value is not PAINT_DUE and value is not SLICE_END \
                    and time.perf_counter() - start < SLICE_BUDGET_S:
                value = next(self.steps)
        except StopIteration as stop:
            self.ended, self.result = True, stop.value
            QTimer.singleShot(0, self._schedule)
            return
        except BaseException:
            self._thaw()
            raise
        finally:
            self.gui_free.set()
        if value is PAINT_DUE and self.painted is not None:
            self.waiting = True
            self.painted.connect(self._schedule, position="last")
            self.timer.start(PAINT_WAIT_MS)  # in case no paint comes
        else:
            QTimer.singleShot(0, self._schedule)  # after what the step posted

    def _schedule(self, event=None) -> None:
        self._stop_waiting()
        if not self.stopped:
            self.timer.start()

    def _stop_waiting(self) -> None:
        if self.waiting:
            self.waiting = False
            self.painted.disconnect(self._schedule)


def _pause_collector():
    """Pause Python's automatic garbage collection (when it is on) and return an idempotent
    ``resume``. A full collection walks every object of the process (~0.5 M in napari with a
    sample open: ~0.3 s here) in whichever thread allocates, so during a run it stalled the GUI;
    paused, it runs after the run instead. ``resume`` is also called after ``GC_PAUSE_MAX_S``."""
    if not gc.isenabled():
        return lambda: None
    gc.disable()
    resumed = []

    def resume() -> None:
        if not resumed:
            resumed.append(True)
            gc.enable()

    QTimer.singleShot(int(1000 * GC_PAUSE_MAX_S), resume)
    return resume


def run_in_slices(steps, parent) -> _Stepper:
    """Run ``steps`` (a generator) on the Qt thread in event-loop slices of ``SLICE_BUDGET_S``
    (``_Stepper``), apart from any drawing, until they end (``.stopped``), ``.stop()`` or the
    QObject ``parent`` is deleted (its timers go with it)."""
    return _Stepper(steps, lambda result: None, threading.Event(), parent=parent)


def _repainted_widgets(viewer, first_run: bool) -> list:
    """The widgets a drawing freezes (napari internals; those not found are left out): on the first
    run the layer list (layers are added to it; the canvas paints each new one), later the canvas
    (the layer list hears of nothing in a drawing, ``layers.quiet_drawing``, until ``settle``
    repaints it once: re-enabling its updates repainted it after every drawing)."""
    widget = getattr(qt_viewer(viewer), "layers", None) if first_run else getattr(qt_canvas(viewer), "native", None)
    return [widget] if hasattr(widget, "setUpdatesEnabled") else []


class AlignWidget(_Section):
    """Mode, device, iterations and seed (the session's layout options); Align runs the pipeline
    in a worker, animating the layout live; Cancel; Save."""

    def __init__(self, session, view, parent=None):
        super().__init__(session, view, parent)
        form = QFormLayout(self)
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.device = QComboBox()
        self.device.addItems(available_devices())
        self.device.setToolTip("cuda is listed only when torch sees a GPU")
        self.iterations = QSpinBox()
        self.iterations.setRange(0, 100000)
        self.iterations.setSingleStep(50)
        self.iterations.setSpecialValueText("auto")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("mode", self.mode)
        form.addRow("device", self.device)
        form.addRow("iterations", self.iterations)
        form.addRow("seed", self.seed)
        for combo in (self.mode, self.device):
            combo.currentIndexChanged.connect(self._options_changed)
        for spin in (self.iterations, self.seed):
            spin.valueChanged.connect(self._options_changed)
        buttons = QHBoxLayout()
        self.align_button = QPushButton("Align")
        self.align_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the alignment to one .npz file")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save_dialog)
        for b in (self.align_button, self.cancel_button, self.save_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel("Ready when A and B are chosen.")
        self.status.setWordWrap(True)
        form.addRow(self.progress)
        form.addRow(self.status)
        self._cancel = threading.Event()
        self._gui_free = threading.Event()  # clear while a drawing slice runs (the worker waits)
        self._gui_free.set()
        self._layers = None  # the drawing layers (AlignmentLayers) this run draws into
        self._stepper = None  # the drawing in progress (_Stepper)
        self._drawn_once = False  # an alignment has been drawn (every drawing layer painted)
        self._latest = None  # the newest layout positions not drawn yet
        self._graphs = {}  # the graphs built in this run, by side
        self._graphs_drawn = False  # the node and edge layers show this run's graphs
        self._pace = {"every": LIVE_EVERY_S}  # the worker's interval between layout positions
        self._result = None  # the alignment the worker returned, waiting for its drawing to end
        self._final = None  # (prepared, layers) of the final drawing once it has ended
        self._final_started = False  # the final drawing has begun (events no longer set the status)
        self._frame_cpu = None  # the Qt thread's CPU time when the last frame began (a move or the first drawing)
        self._layout_since = None  # when this run's first (or final) layout positions arrived (time.monotonic)
        self._reported = None  # (progress, status) of the newest pipeline event, not shown yet
        self._report = _one_shot_timer(REPORT_EVERY_MS, self._show_report, self)
        # after a drawing, the newest positions are drawn in a slice of their own
        self._move_soon = _Soon(self._move, self)
        # a move's paint comes in a slice after the move's: the canvas is held until then
        self._held = []  # the widgets a move froze
        self._paint_soon = _Soon(self._thaw_held, self)
        self._resume_collector = lambda: None  # ends this run's pause of the garbage collector
        # the collector resumes in a slice of its own after a run (its first collection takes ~25 ms)
        self._resume_soon = _Soon(self._resume, self)
        self._process = None  # the PipelineProcess of the run under way (None: a thread here)
        session.events.alignment.connect(lambda: self.save_button.setEnabled(True))

    @property
    def drawn(self) -> bool:
        """No drawing is under way (the alignment shown, or the previous one drawn back after a cancel)."""
        return self._stepper is None

    def _options_changed(self) -> None:
        self.session.set_layout(
            mode=MODES[self.mode.currentText()], device=self.device.currentText(), seed=self.seed.value(),
            iterations=self.iterations.value() or None,
        )

    # ------------------------------------------------------------------ run
    def run(self) -> None:
        """Align A and B in a worker; the graphs animate while the layout runs."""
        from ..layers import canvas_aspect, drawing_layers_steps

        s = self.session
        problems = s.problems()
        if problems:
            _session.show_error(" ".join(problems))
            return
        if self.busy:
            return
        self._options_changed()
        cancel = self._cancel = threading.Event()
        self._pace, self._frame_cpu, self._layout_since = {"every": LIVE_EVERY_S}, None, None
        try:
            self._process = pipeline_process()
        except TopoAlignError as exc:
            report_error(exc)
            return
        worker = _pipeline_worker(s.steps(self._process, bubbles=True, reserve_threads=1), cancel, self._gui_free,
                                  self._pace, canvas_aspect(self.viewer), s.inputs)
        worker.yielded.connect(lambda event: None if cancel.is_set() else self._on_event(event))
        worker.returned.connect(lambda alignment: None if cancel.is_set() or alignment is None
                                else self._on_result(alignment))
        worker.errored.connect(lambda exc: None if cancel.is_set() else self._on_error(exc))
        self._layers, self._latest, self._graphs, self._graphs_drawn = None, None, {}, False
        self._result, self._final, self._final_started, self._reported = None, None, False, None
        self.progress.setValue(0)
        self.status.setText("Starting…")
        self.align_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker, self.busy = worker, True
        if self._resume_soon.isActive():
            self._resume_soon.stop()  # the last run's pause goes on
        else:
            self._resume_collector = _pause_collector()
        worker.start()
        if self.view.linked is not None:
            self.view.linked.disconnect()
        # the drawing layers are made (first run) or found while the worker computes
        self._draw(drawing_layers_steps(self.viewer), self._layers_ready)

    def cancel(self) -> None:
        """Stop the running alignment; the previous alignment (if any) is drawn back."""
        if not self.busy:
            return
        self._cancel.set()
        if self._process is not None:
            self._process.cancel()  # it stops at once, even in a long step
        self._restore()
        self.status.setText("Cancelled; the previous alignment (if any) is shown.")
        show_info("TopoAlign: alignment cancelled.")

    def _draw(self, steps, done) -> None:
        """Run drawing ``steps`` in event-loop slices (``_Stepper``), then ``done(result)``; replaces any
        drawing under way."""
        self._thaw_held()
        if self._stepper is not None:
            self._stepper.stop()

        def finished(result):
            self._stepper = None
            done(result)

        # until one alignment has been drawn, the canvas paints after each step: each new layer's
        # first paint compiles its shaders (slow under software GL), one layer at a time
        frozen = _repainted_widgets(self.viewer, first_run=not self._drawn_once)
        scene = getattr(qt_canvas(self.viewer), "_scene_canvas", None)
        self._stepper = _Stepper(quietly(self.viewer, steps), finished, self._gui_free, frozen,
                                 painted=getattr(getattr(scene, "events", None), "draw", None))

    def _layers_ready(self, layers) -> None:
        self._layers = layers
        self._move_soon.start()

    def _on_event(self, event) -> None:
        from ...pipeline import GraphBuilt, LayoutStep
        from ..layers import Prepared

        if isinstance(event, Prepared):
            self._final_drawing(event)
            return
        self._reported = (int(100 * PIPELINE_SHARE * event.fraction), event.message)
        if not self._report.isActive():
            self._report.start()
        if isinstance(event, GraphBuilt):
            self._graphs[event.side] = event.graph
            if event.side == "b":
                self.session.set_graphs(self._graphs["a"], self._graphs["b"])
        elif isinstance(event, LayoutStep):
            self._latest = (event.pos_a, event.pos_b)
            if self._layout_since is None or event.iteration >= event.iterations:
                self._layout_since = time.monotonic()  # its end too: the final drawing may come first
            if self._stepper is None:
                self._move_soon.start()  # after the posted events (a paint) and the timers due

    def _show_report(self) -> None:
        """Show the newest event's progress and message (``REPORT_EVERY_MS``), while the run is on."""
        if self._reported is None or not self.busy:
            return
        value, message = self._reported
        self._reported = None
        self.progress.setValue(value)
        if not self._final_started:
            self.status.setText(message)

    def _move(self) -> None:
        """Draw the newest layout positions (one slice): the graphs the first time, then moves in
        place; not while a drawing is under way (its end calls this again) or once the final one began."""
        if self._latest is None or self._layers is None or self._stepper is not None or self._final_started:
            return
        early = 0.0 if self._graphs_drawn else LIVE_AFTER_S - (time.monotonic() - self._layout_since)
        if early > 0:
            self._move_soon.start(int(1000 * early) + 1)  # the newest positions then, if the layout still runs
            return
        s, live = self.session, self._layers
        frame_cpu = time.thread_time()  # this is the Qt thread: its CPU since the last frame began
        if self._frame_cpu is not None:
            self._pace["every"] = max(LIVE_EVERY_S, LIVE_COST_FACTOR * (frame_cpu - self._frame_cpu))
        self._frame_cpu = frame_cpu
        self._gui_free.clear()
        try:
            with quiet_drawing(self.viewer, set(), watch=False):
                self._draw_positions(s, live)
        finally:
            self._gui_free.set()
        self._latest = None

    def _draw_positions(self, s, live) -> None:
        from ..layers import keep_in_view, update_positions

        if not self._graphs_drawn:
            self._draw(self._first_drawing(s, live, self._latest), lambda _: self._move_soon.start())
        else:
            self._held = _freeze(_repainted_widgets(self.viewer, first_run=False))
            update_positions(live, *self._latest)
            keep_in_view(self.viewer, live)
            self._paint_soon.start()

    def _thaw_held(self) -> None:
        """Let the canvas a move froze repaint (the move's paint, in a slice of its own)."""
        self._paint_soon.stop()
        _thaw(self._held)
        self._held = []

    def _first_drawing(self, s, live, positions):
        """Steps drawing this run's graphs at their first layout positions (the previous
        alignment's bubbles, links and region numbers emptied until the new ones are drawn)."""
        from ..layers import clear_alignment_marks, draw_graphs_steps, fit_view

        clear_alignment_marks(live)
        yield from draw_graphs_steps(live, s.graph_a, s.graph_b, *positions, s.names, inputs=s.inputs)
        self._graphs_drawn = True
        yield
        fit_view(self.viewer, live)

    def _final_drawing(self, prepared) -> None:
        """Draw the alignment (its scores are still being computed in the worker)."""
        from ..layers import show_alignment_steps

        self._final_started = True
        self.status.setText("drawing the alignment (the scores are being computed)…")
        drawn = self._graphs_drawn and self._stepper is None
        steps = show_alignment_steps(self.viewer, prepared.alignment, self.session.inputs, prepared=prepared,
                                     graphs_drawn=drawn)
        self._draw(self._hiding_inputs_drawn(steps), lambda layers: self._final_drawn(prepared, layers))

    def _hiding_inputs_drawn(self, steps):
        """``steps`` (a drawing), then a step hiding the inputs layer that the drawing now shows
        beside the graphs (the first time: napari updates its scene graph, ~35 ms)."""
        layers = yield from steps
        yield
        self.view.hide_inputs_drawn(layers)
        return layers

    def _final_drawn(self, prepared, layers) -> None:
        self._final = (prepared, layers)
        if self._result is not None:
            self._drawn(self._result, *self._final)
        else:
            self.status.setText("Drawn; computing the alignment scores…")

    def _on_result(self, alignment) -> None:
        self._result = alignment
        if self._final is not None:
            self._drawn(alignment, *self._final)
        else:
            self.status.setText("drawing the alignment…")

    def _drawn(self, alignment, prepared, layers) -> None:
        self._drawn_once = True
        self.view.adopt(alignment, layers, prepared)
        self.session.set_alignment(alignment)
        a, b = alignment.graph_a, alignment.graph_b
        self.status.setText(
            f"Aligned on {alignment.layout.device}: {a.n_nodes} + {b.n_nodes} nodes, "
            f"{len(alignment.regions)} matching regions."
        )
        self.progress.setValue(100)
        self._finish()

    def _on_error(self, exc) -> None:
        self._restore()
        self.status.setText(f"Failed: {exc}")
        report_error(exc)

    def _resume(self) -> None:
        self._resume_collector()
        self._resume_collector = lambda: None

    def _finish(self) -> None:
        self._resume_soon.start()
        self.busy = False
        self.align_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _restore(self) -> None:
        """Draw the previous alignment back (in slices), or empty the drawing when there was none."""
        from ..layers import empty_drawing, show_alignment_steps

        previous = self.session.alignment
        if previous is not None:
            steps = show_alignment_steps(self.viewer, previous, self.session.inputs, prepared=self.view.prepared)
            self._draw(steps, lambda layers: self.view.adopt(previous, layers, self.view.prepared, relink=True))
        else:
            if self._stepper is not None:
                self._stepper.stop()
                self._stepper = None
            self._thaw_held()
            empty_drawing(self.viewer)
        self._latest = None
        self.progress.setValue(0)
        self._finish()

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save alignment", "alignment.npz", "Alignment (*.npz)")
        if path:
            try:
                self.session.alignment.save(path)
            except (TopoAlignError, OSError) as exc:
                report_error(exc)
