"""The stepwise pipeline (typed progress events, one place for stage fractions) and the thread policy."""

import os

import numpy as np
import pytest
import torch

from napari_topoalign import pipeline as P
from napari_topoalign.alignment import align
from napari_topoalign.errors import InputShapeError, ParameterError
from napari_topoalign.mapper import MapperParams
from napari_topoalign.threads import ENV, choose_threads, thread_policy, usable_cores

PARAMS = MapperParams(lens="pca", n_intervals=8, overlap=0.4)
KW = dict(device="cpu", iterations=40, names=("early", "late"))


def circles(n=200, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    X_a = np.c_[np.cos(t), np.sin(t)] + 0.05 * rng.normal(size=(n, 2))
    X_b = np.c_[3 * np.cos(t), 3 * np.sin(t), 0.1 * rng.normal(size=n)]
    return X_a.astype(np.float32), X_b.astype(np.float32)


@pytest.fixture(scope="module")
def data():
    return circles()


@pytest.fixture(scope="module")
def events(data):
    return list(P.steps(*data, PARAMS, bubbles=True, **KW))


def test_events_in_order_with_rising_progress(events):
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "StageStarted" and kinds[-1] == "Done"
    assert [e.side for e in events if isinstance(e, P.GraphBuilt)] == ["a", "b"]
    first = {k: kinds.index(k) for k in set(kinds)}
    assert first["GraphBuilt"] < first["LayoutStep"] < first["RegionsFound"] < first["BubblesDrawn"]
    assert first["BubblesDrawn"] < first["ScoresComputed"] < first["Done"]
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    # every stage is visited, in the order of STAGES, and the layout moves the bar block by block
    order = [name for name, _ in P.STAGES]
    seen = list(dict.fromkeys(e.stage for e in events))
    assert seen == order + ["done"]
    steps = [e for e in events if isinstance(e, P.LayoutStep)]
    assert [e.iteration for e in steps] == [10, 20, 30, 40] and len({e.fraction for e in steps}) == 4
    assert all(e.message for e in events)


def test_done_holds_the_same_alignment_as_align(events, data):
    al = events[-1].alignment
    ref = align(*data, PARAMS, **KW)
    np.testing.assert_array_equal(al.layout.pos_a, ref.layout.pos_a)
    np.testing.assert_array_equal(al.layout.pos_b, ref.layout.pos_b)
    assert al.scores == ref.scores and len(al.regions) == len(ref.regions)
    last = [e for e in events if isinstance(e, P.LayoutStep)][-1]
    np.testing.assert_array_equal(last.pos_a, al.layout.pos_a)  # the last block is the result
    assert al._bubbles is not None and len(al.bubbles()) == len(al.regions)  # computed in the pipeline
    drawable = next(e for e in events if isinstance(e, P.BubblesDrawn))
    assert drawable.alignment is al and drawable.bubbles is al.bubbles()  # drawn while the scores come


def test_closing_stops_the_layout(data, monkeypatch):
    from napari_topoalign import layout as layout_module

    calls = []
    energy = layout_module._Energy.__call__
    monkeypatch.setattr(layout_module._Energy, "__call__", lambda self, Z: calls.append(1) or energy(self, Z))
    run = P.steps(*data, PARAMS, device="cpu", iterations=5000)
    for event in run:
        if isinstance(event, P.LayoutStep):
            break
    run.close()
    assert len(calls) == 10  # one block of iterations, not 5000


def test_given_graphs_are_not_rebuilt(events, data, monkeypatch):
    import napari_topoalign.mapper as mapper_module

    al = events[-1].alignment
    monkeypatch.setattr(mapper_module, "build_mapper", lambda *a, **k: pytest.fail("graphs were rebuilt"))
    out = list(P.steps(*data, graphs=(al.graph_a, al.graph_b), **KW))
    assert out[-1].alignment.graph_a is al.graph_a
    with pytest.raises(InputShapeError, match="pair"):
        next(P.steps(*data, graphs=(al.graph_a,)))


def test_graph_steps_shared_lens(data):
    A, B = P.graph_steps(*data, PARAMS, MapperParams(n_intervals=8), shared_lens=True)
    np.testing.assert_array_equal(A.lens, B.lens)


def test_thread_policy(monkeypatch):
    monkeypatch.setenv(ENV, "3")
    assert choose_threads() == 3
    before = torch.get_num_threads()
    with thread_policy() as n:
        assert n == 3 and torch.get_num_threads() == 3
    assert torch.get_num_threads() == before
    monkeypatch.setenv(ENV, "torch")
    with thread_policy() as n:
        assert n is None and torch.get_num_threads() == before
    monkeypatch.setenv(ENV, "many")
    with pytest.raises(ParameterError, match=ENV):
        choose_threads()
    monkeypatch.delenv(ENV)
    assert 1 <= choose_threads() <= usable_cores()
    assert choose_threads(reserve=os.cpu_count() or 1) == 1  # never fewer than one thread


def test_warm_up_imports_what_a_first_run_needs():
    """After ``warm_up`` a first run on other data imports nothing more (without it, ~600 modules)."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from napari_topoalign import pipeline
pipeline.warm_up()
before = set(sys.modules)
rng = np.random.default_rng(1)
X = np.repeat(rng.normal(size=(4, 64)) * 4, 100, axis=0) + rng.normal(size=(400, 64))
for _ in pipeline.steps(X, X[:, ::-1] * 2, bubbles=True, iterations=30):
    pass
print(sorted(set(sys.modules) - before))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
