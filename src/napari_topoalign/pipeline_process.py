"""The pipeline in a process of its own, for applications that draw while it runs (napari).

In one process the pipeline's Python and a GUI thread take turns on the GIL, so a GUI run took
2-3× the headless time even where both had a core. ``PipelineProcess`` starts one helper
process (``python -m napari_topoalign.pipeline_process``: a fresh interpreter that imports only
the core, whatever script or notebook started the application) that warms up the pipeline
(``pipeline.warm_up``) and then runs ``pipeline.steps`` jobs one at a time:

    process = PipelineProcess()
    for event in process.steps(X_a, X_b, params, bubbles=True):  # the events of pipeline.steps
        ...

Messages go over the helper's stdin and stdout as length-prefixed frames: the representations as
raw bytes, everything else (arguments, events, errors) as arrays plus JSON
(``pipeline_messages``; nothing is unpickled). Graphs passed in (``graphs=(A, B)``) come back as
the very same objects in the events and the alignment, and the job's one alignment is filled in
place, as ``pipeline.steps`` does.

Closing the generator before ``Done``, or ``cancel()`` from any thread, cancels the job: the
helper stops at its next event; one that has not stopped within ``STOP_WAIT_S`` is killed and a
fresh one started. A helper that dies (killed, out of memory) is reported as a
``TopoAlignError`` and replaced.
"""

from __future__ import annotations

import os
import queue
import struct
import subprocess
import sys
import threading
import traceback
from dataclasses import replace

import numpy as np

from . import pipeline_messages as messages
from .checks import as_matrix, check_mapper_params
from .errors import FileFormatError, TopoAlignError
from .mapper import MapperParams
from .pipeline import Done, _given_graphs

#: Longest a cancelled job's helper may take to stop at its next event before it is killed (s).
STOP_WAIT_S = 0.5
#: How often a job waiting for the helper's next event looks whether it was cancelled (s).
POLL_S = 0.05
_HEADER = struct.Struct("<Q")
__all__ = ["PipelineProcess", "STOP_WAIT_S"]
_IN_ONE_PROCESS = "In napari, TOPOALIGN_WORKER=thread runs the pipeline in napari's own process instead."


class PipelineProcess:
    """A helper process running ``pipeline.steps`` jobs one at a time (see the module doc).

    ``steps`` may be called from any thread, one job at a time; ``ready`` waits for the warm-up.
    """

    def __init__(self):
        self._lock = threading.Lock()  # one job at a time
        self._cancelled = threading.Event()
        self._job = 0
        self._warm_up = None
        self._start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def ready(self, timeout: float | None = None):
        """Wait (at most ``timeout`` s) for the warm-up; returns its small alignment (a caller may
        warm its own drawing code with it), or None on timeout, when the warm-up failed or a job
        has run since."""
        with self._lock:
            if self._warming:
                try:
                    self._take(self._messages.get(timeout=timeout))
                except (queue.Empty, TopoAlignError):  # not yet; or it died (the next job says why)
                    return None
            return self._warm_up

    def cancel(self) -> None:
        """Cancel the job under way (from any thread): its ``steps`` end quietly at the helper's
        next event, or once the helper, killed after ``STOP_WAIT_S``, is replaced."""
        self._cancelled.set()

    def steps(self, X_a, X_b, params: MapperParams = MapperParams(), *, params_b=None, graphs=None, **options):
        """The events of ``pipeline.steps(X_a, X_b, params, params_b=..., graphs=..., **options)``
        (``options``: plain values), computed in the helper process; its errors are raised here.
        Closing the generator early cancels the job."""
        with self._lock:
            self._cancelled.clear()
            if self._process.poll() is not None:
                self._start()
            self._job += 1
            representations = [np.ascontiguousarray(as_matrix(X, name=f"representation {side}"))
                               for X, side in ((X_a, "A"), (X_b, "B"))]
            params = check_mapper_params(params)  # as pipeline.steps would, before they are sent
            params_b = None if params_b is None else check_mapper_params(params_b, "params_b")
            given = None if graphs is None else _given_graphs(graphs, len(representations[0]))
            layout = [(X.dtype.str, X.shape) for X in representations]
            self._send(messages.job_message(self._job, layout, params, params_b, given, **options),
                       *(memoryview(X).cast("B") for X in representations))
            ended, alignment = False, None
            try:
                while True:
                    try:
                        message = self._next_message()
                    except TopoAlignError:  # the helper died (a fresh one is starting)
                        ended = True
                        raise
                    if message is None:  # cancelled while the helper works on a long step
                        return
                    header, arrays = message
                    if header["job"] != self._job:
                        continue  # of a job cancelled earlier
                    if header["kind"] == "error":
                        ended = True
                        raise messages.read_error(header)
                    event = _with_given_graphs(messages.read_event(header, arrays, alignment), given)
                    alignment = getattr(event, "alignment", alignment)
                    ended = isinstance(event, Done)
                    yield event
                    if ended:
                        return
            finally:
                if not ended:
                    self._stop_job()

    def close(self) -> None:
        """End the helper process (it ends by itself, too, when this process ends)."""
        with self._lock:
            self._end()

    # ------------------------------------------------------------------ internals
    def _start(self) -> None:
        package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_dir, os.environ.get("PYTHONPATH")])))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "napari_topoalign.pipeline_process"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, env=env, creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            raise TopoAlignError(f"could not start the pipeline's process with {sys.executable!r}: {exc}. "
                                 f"{_IN_ONE_PROCESS}") from exc
        self._messages = queue.Queue()
        threading.Thread(target=_read_messages, args=(self._process.stdout, self._messages),
                         name="topoalign pipeline reader", daemon=True).start()
        self._warming = True  # its first message is the warm-up's alignment

    def _end(self) -> None:
        try:
            self._process.stdin.close()
            self._process.wait(STOP_WAIT_S)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()

    def _send(self, *frames) -> None:
        try:
            for frame in frames:
                _write_frame(self._process.stdin, frame)
            self._process.stdin.flush()
        except OSError as exc:
            self._died(exc)

    def _take(self, message):
        """The helper's ``message`` (header, arrays), after noting a warm-up; raises when it has
        died (None)."""
        if message is None:
            self._died(None)
        if message[0]["kind"] == "ready":
            self._warm_up, self._warming = messages.read_ready(message[1]), False
        return message

    def _next_message(self):
        """The helper's next message of a job, or None once ``cancel()`` has been called."""
        while not self._cancelled.is_set():
            try:
                message = self._take(self._messages.get(timeout=POLL_S))
            except queue.Empty:
                continue
            if message[0]["kind"] != "ready":
                return message
        return None

    def _died(self, exc):
        self._process.kill()
        code = self._process.wait()
        if self._warming:  # it never came up: starting another would fail alike
            why = f"before it was ready (its error is on this program's console). {_IN_ONE_PROCESS}"
        else:
            why = ("it may have run out of memory. A new one has been started; try again, with fewer inputs "
                   "or a smaller cover if it happens again.")
        self._start()
        raise TopoAlignError(f"the pipeline's process ended unexpectedly (exit code {code}) {why}") from exc

    def _stop_job(self) -> None:
        """Cancel the job under way: let it end at its next event (at most ``STOP_WAIT_S``), else
        kill the helper and start a fresh one."""
        try:
            self._send(messages.encode({"kind": "cancel", "job": self._job}))
            while True:
                header, _ = self._take(self._messages.get(timeout=STOP_WAIT_S))
                if header.get("job") == self._job and (header["kind"] in ("error", "cancelled")
                                                       or header.get("type") == "Done"):
                    return
        except TopoAlignError:  # it died meanwhile, and a fresh one is starting
            return
        except queue.Empty:
            pass
        self._process.kill()
        self._process.wait()
        self._start()


def _with_given_graphs(event, given):
    """``event`` with the graphs that were passed in in place of their copies from the helper."""
    if given is None:
        return event
    if hasattr(event, "graph"):
        return replace(event, graph=given["ab".index(event.side)])
    alignment = getattr(event, "alignment", None)
    if alignment is not None:
        alignment.graph_a, alignment.graph_b = given
    return event


def _write_frame(stream, data) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)


def _read_frame(stream) -> bytearray | None:
    """One frame (writable: arrays are made on it), or None at the end of the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    data = bytearray(_HEADER.unpack(header)[0])
    return data if stream.readinto(data) == len(data) else None


def _read_messages(stream, received: queue.Queue) -> None:
    """Put each message of the helper in ``received`` as (header, arrays); None when it has ended
    (or sent what is not a message)."""
    try:
        while (frame := _read_frame(stream)) is not None:
            received.put(messages.decode(frame))
    except FileFormatError as exc:
        print(f"napari-topoalign: {exc}", file=sys.stderr)
    received.put(None)


# ---------------------------------------------------------------------- the helper's side
def _serve(inbox, outbox) -> None:
    """The helper: warm up, then run each job read from ``inbox``, writing its events to
    ``outbox``, until ``inbox`` ends. A thread reads ``inbox`` so that a cancel arrives mid-job."""
    from .pipeline import steps, warm_up

    jobs, cancelled = queue.Queue(), {"up_to": 0}

    def read_inbox() -> None:
        while (frame := _read_frame(inbox)) is not None:
            header, arrays = messages.decode(frame)
            if header["kind"] == "cancel":
                cancelled["up_to"] = max(cancelled["up_to"], header["job"])
                continue
            frames = [_read_frame(inbox) for _ in header["layout"]]
            if None in frames:
                break
            jobs.put((header, arrays, frames))
        jobs.put(None)

    def send(message: bytes) -> None:
        _write_frame(outbox, message)
        outbox.flush()

    def run(header, arrays, frames) -> None:
        job, sent = header["job"], False
        try:
            X_a, X_b = (np.frombuffer(f, dtype=d).reshape(s) for f, (d, s) in zip(frames, header["layout"]))
            events = steps(X_a, X_b, **messages.read_job(header, arrays))
            for event in events:
                if cancelled["up_to"] >= job:
                    events.close()
                    send(messages.encode({"kind": "cancelled", "job": job}))
                    break
                send(messages.event_message(job, event, sent))
                sent = sent or hasattr(event, "alignment")
        except Exception as exc:  # noqa: BLE001 (the application reports it)
            trace = [] if isinstance(exc, TopoAlignError) else \
                ["in the pipeline's process:\n" + "".join(traceback.format_exception(exc)).rstrip()]
            send(messages.error_message(job, exc, trace))

    threading.Thread(target=read_inbox, daemon=True).start()
    try:
        warmed = warm_up()
    except Exception:  # noqa: BLE001 (a job then raises what is wrong)
        warmed = None
    send(messages.ready_message(warmed))
    while (item := jobs.get()) is not None:
        header, arrays, frames = item
        del item
        run(header, arrays, frames)
        del frames, arrays  # the representations' copies are not kept until the next job


def main() -> None:
    """Run as the helper: messages on stdin and stdout, which is kept for them alone (anything
    printed goes to stderr)."""
    outbox = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        _serve(sys.stdin.buffer, outbox)
    except BrokenPipeError:  # the application has ended
        pass


if __name__ == "__main__":
    main()
