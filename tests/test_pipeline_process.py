"""The pipeline in a helper process: the same events and result as in this process, errors
raised here, cancel, and a helper that dies or does not answer replaced."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from napari_topoalign import pipeline as P
from napari_topoalign import pipeline_process as PP
from napari_topoalign.errors import InputShapeError, TopoAlignError
from napari_topoalign.mapper import MapperParams, build_mapper

from test_pipeline import circles

PARAMS = MapperParams(lens="pca", n_intervals=8, overlap=0.4)
KW = dict(device="cpu", iterations=40, names=("early", "late"), bubbles=True)


@pytest.fixture(scope="module")
def helper():
    os.environ["TOPOALIGN_THREADS"] = "1"  # the same thread count here and in the helper it starts
    try:
        process = PP.PipelineProcess()
        yield process
        process.close()
    finally:
        del os.environ["TOPOALIGN_THREADS"]


def _long_job(helper, data):
    """A job whose layout runs for seconds, started: (generator, its first layout step)."""
    job = helper.steps(*data, PARAMS, **dict(KW, iterations=200_000))
    first = next(e for e in job if isinstance(e, P.LayoutStep))
    return job, first


def test_the_helper_gives_the_events_and_result_of_a_run_here(helper):
    assert helper.ready(timeout=120) is not None  # the warm-up's alignment
    data = circles()
    there = list(helper.steps(*data, PARAMS, **KW))
    here = list(P.steps(*data, PARAMS, **KW))
    assert [type(e).__name__ for e in there] == [type(e).__name__ for e in here]
    assert [e.fraction for e in there] == [e.fraction for e in here]
    a, b = there[-1].alignment, here[-1].alignment
    assert a.graph_a.n_nodes == b.graph_a.n_nodes and a.graph_b.n_nodes == b.graph_b.n_nodes
    np.testing.assert_allclose(a.layout.pos_a, b.layout.pos_a, atol=1e-4)
    np.testing.assert_allclose(a.layout.pos_b, b.layout.pos_b, atol=1e-4)
    assert [(r.nodes_a.tolist(), r.nodes_b.tolist()) for r in a.regions] == [
        (r.nodes_a.tolist(), r.nodes_b.tolist()) for r in b.regions]
    assert a.scores == pytest.approx(b.scores)
    assert len(a.bubbles()) == len(a.regions)


def test_given_graphs_come_back_as_the_same_objects(helper):
    data = circles()
    graphs = (build_mapper(data[0], PARAMS), build_mapper(data[1], PARAMS))
    events = list(helper.steps(*data, PARAMS, graphs=graphs, **KW))
    assert [e.graph for e in events if isinstance(e, P.GraphBuilt)] == list(graphs)
    assert all(e.graph is g for e, g in zip([e for e in events if isinstance(e, P.GraphBuilt)], graphs))
    done = events[-1].alignment
    assert done.graph_a is graphs[0] and done.graph_b is graphs[1]


def test_errors_of_the_helper_are_raised_here(helper):
    X_a, X_b = circles()
    with pytest.raises(InputShapeError, match="same inputs"):
        list(helper.steps(X_a, X_b[:50], PARAMS))
    with pytest.raises(TypeError, match="no_such_option") as caught:  # a bug, with the helper's traceback
        list(helper.steps(X_a, X_b, PARAMS, no_such_option=1))
    assert "in the pipeline's process" in "".join(getattr(caught.value, "__notes__", []))
    assert len(list(helper.steps(X_a, X_b, PARAMS, **KW))) > 3  # and it goes on working


def test_closing_the_steps_cancels_the_job(helper):
    data = circles()
    pid = helper.pid
    job, _ = _long_job(helper, data)
    t0 = time.perf_counter()
    job.close()
    assert time.perf_counter() - t0 < 2 * PP.STOP_WAIT_S and helper.pid == pid  # it stopped at its next event
    assert isinstance(list(helper.steps(*data, PARAMS, **KW))[-1], P.Done)


def test_cancel_from_another_thread_ends_the_steps(helper):
    data = circles()
    job, _ = _long_job(helper, data)
    threading.Timer(0.2, helper.cancel).start()
    t0 = time.perf_counter()
    rest = list(job)
    assert time.perf_counter() - t0 < 0.2 + 2 * PP.STOP_WAIT_S
    assert not any(isinstance(e, P.Done) for e in rest)
    assert isinstance(list(helper.steps(*data, PARAMS, **KW))[-1], P.Done)  # the cancel does not linger


def test_a_helper_that_does_not_stop_is_replaced(helper, monkeypatch):
    monkeypatch.setattr(PP, "STOP_WAIT_S", 0.0)  # no time to reach its next event
    data = circles()
    pid = helper.pid
    job, _ = _long_job(helper, data)
    job.close()
    assert helper.pid != pid
    monkeypatch.undo()
    assert isinstance(list(helper.steps(*data, PARAMS, **KW))[-1], P.Done)


def test_a_helper_that_dies_is_reported_and_replaced(helper):
    data = circles()
    job, _ = _long_job(helper, data)
    os.kill(helper.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    with pytest.raises(TopoAlignError, match="ended unexpectedly"):
        list(job)
    assert isinstance(list(helper.steps(*data, PARAMS, **KW))[-1], P.Done)


@pytest.mark.skipif(not os.path.exists("/bin/false"), reason="needs /bin/false")
def test_a_helper_that_cannot_start_says_what_to_do(monkeypatch):
    monkeypatch.setattr(PP.sys, "executable", "/nonexistent/python")
    with pytest.raises(TopoAlignError, match="could not start.*TOPOALIGN_WORKER=thread"):
        PP.PipelineProcess()
    monkeypatch.setattr(PP.sys, "executable", "/bin/false")  # starts, and ends before it is ready
    process = PP.PipelineProcess()
    assert process.ready(timeout=10) is None
    with pytest.raises(TopoAlignError, match="before it was ready.*TOPOALIGN_WORKER=thread"):
        list(process.steps(*circles(), PARAMS, **KW))
    process.close()


def test_cancelling_the_job_of_a_dead_helper_starts_one_fresh_helper(helper, monkeypatch):
    data = circles()
    job, _ = _long_job(helper, data)
    os.kill(helper.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    helper._process.wait()
    starts = []
    start = PP.PipelineProcess._start
    monkeypatch.setattr(PP.PipelineProcess, "_start", lambda self: starts.append(1) or start(self))
    job.close()
    assert len(starts) == 1
    monkeypatch.undo()
    assert isinstance(list(helper.steps(*data, PARAMS, **KW))[-1], P.Done)
