"""The napari GUI against the headless pipeline: time, worst Qt-thread stall, Cancel latency.

Run under a display (``xvfb-run -a python benchmarks/bench_gui.py``). The TopoAlign widget is
docked first, then a sample is opened from its File ▸ Open Sample entry (the first-run path),
the dock's warm-up (the pipeline's helper process starts and runs ``pipeline.warm_up`` when the
dock opens) and the text glyphs the dock renders meanwhile are let finish, as they do while a
user loads data, then Align is clicked
(``TOPOALIGN_WORKER=thread`` measures the pipeline in a thread of napari's process instead). A heartbeat ``QTimer`` every ``HEARTBEAT_MS`` on the Qt thread records
the gaps between its ticks: the longest gap bounds the longest slice the Qt thread was busy
(the user's click or paint waits that long); beside it, the CPU time the Qt thread itself spent
in that gap (on a loaded machine the wall time includes waiting for a core). Cancel latency: a click posted from another thread
while the layout runs, measured until the Align button is enabled again (and until the worker
thread has stopped).

Prints, for the sample: headless time (``align`` + Bubble Sets, the same work: each GUI run
builds its graphs too; run in the same process just before each GUI run, napari idle, as a shared
machine's speed drifts), GUI time (click to both the canvas painted with the final drawing, or its
last step where no paint was due within 0.25 s (the canvas showed it already), and
the alignment set on the session, whichever is later), their
ratio (best against best, and the median of each GUI run against its own headless run; the first
run apart, as it adds the plugin's layers to napari) and the ratio of CPU times (napari's process and the pipeline's helper process together
against the headless process; steadier on a shared machine: the GUI's extra work, not its waiting), the worst stall, the number of stalls over 100 ms, and the
Cancel latencies. Thread counts follow the policy with ``TOPOALIGN_THREADS`` (default here: 1,
as the GUI's worker gets on 2 cores with one kept for the GUI).
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

HEARTBEAT_MS = 10


def headless(sample) -> float:
    from napari_topoalign import align

    t0, c0 = time.perf_counter(), time.process_time()
    al = align(sample.representations[0].X, sample.representations[1].X, **sample.align_kwargs(),
               names=[r.name for r in sample.representations[:2]])
    al.bubbles()
    return time.perf_counter() - t0, time.process_time() - c0


class Heartbeat:
    """Gaps between the ticks of a fast QTimer on the Qt thread."""

    def __init__(self):
        from qtpy.QtCore import QTimer

        self.gaps, self.cpu, self.last, self.last_cpu = [], [], None, None
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)

    def start(self):
        self.gaps, self.cpu, self.last, self.last_cpu = [], [], time.perf_counter(), time.thread_time()
        self.timer.start()

    def stop(self):
        self.timer.stop()
        return self.gaps, self.cpu

    def _tick(self):
        now, cpu = time.perf_counter(), time.thread_time()  # the Qt thread's own CPU time
        self.gaps.append(now - self.last)
        self.cpu.append(cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu


def cpu_time(widget) -> float:
    """CPU seconds of this process and of the pipeline's helper process (Linux /proc), if any."""
    from napari_topoalign._napari.widgets.align import pipeline_process

    process, total = pipeline_process(), time.process_time()
    if process is not None:
        with open(f"/proc/{process.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def wait(app, condition, timeout=300.0):
    t0 = time.perf_counter()
    while not condition():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the GUI did not finish")


def gui(name: str, repeat: int, baseline):
    import napari
    from qtpy.QtCore import QObject, Signal, Slot
    from qtpy.QtWidgets import QApplication

    from napari_topoalign._napari.widgets import TopoAlignWidget
    from napari_topoalign._napari.widgets import align as align_tab

    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1400, 900)
    app = QApplication.instance()
    t_dock = time.perf_counter()
    widget = TopoAlignWidget(viewer)
    viewer.window.add_dock_widget(widget, name="TopoAlign", area="right")
    viewer.open_sample("napari-topoalign", name)  # dock first, then the sample
    wait(app, lambda: widget.session.ready)
    wait(app, lambda: not widget.warm_up.is_alive())  # the dock's background warm-up (a user loads data meanwhile)
    wait(app, lambda: widget.glyphs.stopped)  # and the text glyphs it renders meanwhile
    warm_up = time.perf_counter() - t_dock
    for _ in range(20):
        app.processEvents()
    painted = []  # times the canvas was painted
    viewer.window._qt_viewer.canvas._scene_canvas.events.draw.connect(lambda event: painted.append(time.perf_counter()),
                                                                     position="last")  # after the scene has drawn
    ended = []  # times a run ended (the alignment set on the session, every layer drawn)
    widget.session.events.alignment.connect(lambda: ended.append(time.perf_counter()))
    ends = []  # times a drawing's steps ended (its canvas thawed: it shows at the next canvas paint)
    next_step = align_tab._Stepper._next

    def timed_next(stepper):
        next_step(stepper)
        if stepper.ended and not stepper.stopped:  # the steps ended in this slice; ``done`` comes next
            ends.append(time.perf_counter())

    align_tab._Stepper._next = timed_next
    drawn = []  # times the final drawing's steps ended
    final_drawn = widget.align._final_drawn
    widget.align._final_drawn = lambda *args: (drawn.append(ends[-1]), final_drawn(*args))
    beat = Heartbeat()
    times, cpu_times, stalls, cpu, first, base = [], [], [], [], 0, []
    for _ in range(repeat):
        base.append(baseline())  # headless just before (this machine's speed drifts), napari idle
        for _ in range(20):
            app.processEvents()
        widget.session.set_graphs(None, None)  # the same work as headless: the graphs are built too
        beat.start()
        t0, c0 = time.perf_counter(), cpu_time(widget)
        widget.align.align_button.click()
        wait(app, lambda: not widget.align.busy and widget.align.drawn)
        try:
            wait(app, lambda: painted and painted[-1] > drawn[-1], timeout=0.25)
            shown = next(p for p in painted if p > drawn[-1])  # the canvas shows the whole drawing
        except TimeoutError:  # no paint was due: the canvas showed the whole drawing already (a first run paints as it draws)
            shown = drawn[-1]
        times.append(max(shown, ended[-1]) - t0)  # and the run is over (status, regions table)
        cpu_times.append(cpu_time(widget) - c0)
        gaps, used = beat.stop()
        stalls, cpu = stalls + gaps, cpu + used
        first = first or len(gaps)  # the first run makes the plugin's layers
    assert widget.session.alignment is not None, widget.align.status.text()

    # Cancel: a click arriving from outside the Qt thread while the layout runs
    posted, acted = [], []

    class Poster(QObject):
        click = Signal()

        @Slot()
        def on_click(self):  # a slot of an object of the Qt thread: runs there (queued)
            widget.align.cancel()
            acted.append(time.perf_counter())

    poster = Poster()
    poster.click.connect(poster.on_click)
    widget.align.iterations.setValue(20000)
    latencies, stopped = [], []
    for _ in range(repeat):
        widget.session.set_graphs(None, None)  # rebuild the graphs too, as after a parameter change
        widget.align.align_button.click()
        worker = widget.align.worker
        wait(app, lambda: widget.align.progress.value() >= 50 or not widget.align.busy)

        def post():
            posted.append(time.perf_counter())
            poster.click.emit()

        threading.Thread(target=post).start()
        wait(app, lambda: len(acted) == len(posted) == len(latencies) + 1)
        latencies.append(acted[-1] - posted[-1])
        t_stop = time.perf_counter()
        wait(app, lambda: not worker.is_running if hasattr(worker, "is_running") else True)
        stopped.append(acted[-1] - posted[-1] + time.perf_counter() - t_stop)
    widget.align.iterations.setValue(0)
    viewer.close()
    return base, times, cpu_times, stalls, cpu, first, latencies, stopped, warm_up


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", nargs="+", default=["digits", "sentences"])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("TOPOALIGN_THREADS", "1")
    from napari_topoalign import load_sample

    print(f"TOPOALIGN_THREADS={os.environ['TOPOALIGN_THREADS']}, heartbeat {HEARTBEAT_MS} ms, {os.cpu_count()} cores")
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| sample | headless | GUI | GUI/headless | median of pairs | first run (it makes the layers) "
          "| CPU GUI/headless | worst stall (wall; runs after the first, whose layers exist) | Qt-thread CPU in it "
          "| stalls > 100 ms | Cancel acts | worker stops | dock to sample loaded and warmed up |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.samples:
        sample = load_sample(name)
        headless(sample)  # warm up
        pairs = gui(name, args.repeat, lambda: headless(sample))
        base_runs, times, cpu_times, stalls, cpu, first, latencies, stopped, warm_up = pairs
        base, base_cpu = min(base_runs)
        run, run_cpu = min(zip(times, cpu_times))
        paired = statistics.median(t / b for t, (b, _) in zip(times, base_runs))
        i = max(range(len(stalls)), key=stalls.__getitem__)
        worst = stalls[i] - HEARTBEAT_MS / 1000
        later = max(stalls[first:], default=HEARTBEAT_MS / 1000) - HEARTBEAT_MS / 1000
        over = sum(g - HEARTBEAT_MS / 1000 > 0.1 for g in stalls)
        print(f"| {name} | {base:.2f} s | {run:.2f} s | {run / base:.2f}× | {paired:.2f}× "
              f"| {times[0]:.2f} s, {times[0] / base_runs[0][0]:.2f}× | {run_cpu / base_cpu:.2f}× "
              f"| {1000 * worst:.0f} ms (later runs {1000 * later:.0f} ms) "
              f"| {1000 * cpu[i]:.0f} ms | {over} "
              f"| {1000 * max(latencies):.0f} ms | {1000 * max(stopped):.0f} ms | {warm_up:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
