"""The Qt-free session model: arrival order, samples with their settings, invalidation, selection queries."""

from types import SimpleNamespace

import numpy as np
import pytest

from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import InputShapeError, ParameterError
from napari_topoalign.io import InputTable, Representation
from napari_topoalign.mapper import MapperGraph, MapperParams, nerve
from napari_topoalign.samples import load_sample
from napari_topoalign.session import Session


def rep(name, n=30, d=3, seed=0):
    return Representation(np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32), name)


def recorder(session):
    seen = []
    for name in ("representations", "data", "params", "layout", "graphs", "alignment", "selection"):
        getattr(session.events, name).connect(lambda *_, n=name: seen.append(n))
    return seen


def test_representations_fill_a_then_b_in_arrival_order():
    s = Session()
    seen = recorder(s)
    first, second, third = rep("first"), rep("second", seed=1), rep("third", seed=2)
    assert s.add_representation(first) == "a"
    assert s.rep_a is first and s.rep_b is None and not s.ready
    assert "choose representation B" in s.problems()[0]
    assert s.add_representation(second) == "b"
    assert s.rep_a is first and s.rep_b is second and not s.same_representation and s.ready
    assert s.add_representation(first) == ""  # known already: nothing changes
    assert s.add_representation(third) == "a"  # later arrivals alternate, never A = B
    assert s.rep_a is third and s.rep_b is second
    assert s.add_representation(rep("fourth", seed=3), side="a") == "a"  # opened for A
    assert s.rep_a.name == "fourth" and s.rep_b is second
    assert "data" in seen and "representations" in seen
    s.remove_representation(second)
    assert s.rep_b is None and [r.name for r in s.representations] == ["first", "third", "fourth"]


def test_same_representation_only_on_purpose_with_a_note():
    s = Session()
    a, b = rep("a"), rep("b", seed=1)
    s.add_representation(a)
    s.add_representation(b)
    assert s.note == ""
    s.set_representation("b", a)
    assert s.same_representation and "compares it with itself" in s.note and "a" in s.note
    with pytest.raises(ParameterError):
        s.set_representation("c", a)


def test_sample_brings_its_representations_inputs_and_settings():
    sample = load_sample("digits")
    s = Session()
    s.add_representation(rep("earlier", n=sample.inputs.n_inputs))  # something opened before
    seen = recorder(s)
    s.apply_sample(sample)
    assert s.rep_a is sample.representations[0] and s.rep_b is sample.representations[1]
    assert s.inputs is sample.inputs and s.ready
    assert s.params_a == sample.params and s.params_b == sample.params_b and s.shared_lens == sample.shared_lens
    assert s.params_a != MapperParams()  # the sample's recommendations, not the defaults
    assert {"data", "params"} <= set(seen)
    kw = s.align_kwargs()
    assert kw["params"] is sample.params and kw["params_b"] is sample.params_b and kw["shared_lens"] is True


def test_problems_and_invalidation():
    s = Session()
    a, b = rep("a", n=30), rep("b", n=20, seed=1)
    s.add_representation(a)
    s.add_representation(b)
    assert any("30" in p and "20" in p for p in s.problems())
    with pytest.raises(InputShapeError):
        s.steps()
    s.set_representation("b", rep("b2", n=30, seed=2))
    s.set_inputs(InputTable(12))
    assert any("12 inputs" in p for p in s.problems())
    s.set_inputs(InputTable(30, texts=[f"t{i}" for i in range(30)]))
    assert s.ready
    s.set_graphs("graph A", "graph B")
    s.set_params(params_a=MapperParams(n_intervals=7))
    assert s.graph_a is None  # other parameters, other graphs
    s.set_graphs("graph A", "graph B")
    s.set_params(params_a=MapperParams(n_intervals=7))  # the same: the graphs stay
    assert s.graph_a == "graph A"
    s.set_inputs(None)
    assert s.graph_a is None
    s.set_layout(iterations=50, mode="overlay")
    assert s.align_kwargs()["iterations"] == 50 and s.align_kwargs()["mode"] == "overlay"


def _graph(members, n):
    members = [np.asarray(m) for m in members]
    edges, weight = nerve(members, n)
    return MapperGraph(members, edges, weight, intervals=np.zeros((1, 2)), node_interval=np.zeros(len(members), int),
                       lens=np.zeros(n), n_inputs=n, uncovered=np.zeros(0, int))


@pytest.fixture
def aligned():
    """A: three nodes over inputs 0-3, 3-6, 6-9; B: two nodes over 0-5 and 5-9."""
    n = 10
    A = _graph([range(0, 4), range(3, 7), range(6, 10)], n)
    B = _graph([range(0, 6), range(5, 10)], n)
    al = SimpleNamespace(graph_a=A, graph_b=B, correspondence=correspondence(A, B))
    s = Session()
    s.set_inputs(InputTable(n, texts=[f"input {i}" for i in range(n)]))
    s.set_alignment(al)
    return s


def test_selection_nodes_to_counterparts_to_inputs(aligned):
    s = aligned
    seen = []
    s.events.selection.connect(seen.append)
    sel = s.select_nodes("a", [1])  # inputs 3-6: B0 (3,4,5 of 0-5) and B1 (5,6 of 5-9)
    assert sel.side == "a" and sel.nodes_a.tolist() == [1] and sel.inputs.tolist() == [3, 4, 5, 6]
    assert sel.counterparts.tolist() == [0, 1] and sel.nodes_b.tolist() == [0, 1]
    assert sel.strength[0] == pytest.approx(3 / 7) and sel.strength[1] == pytest.approx(2 / 7)
    assert s.selected_texts == ["input 3", "input 4", "input 5", "input 6"] and seen == [sel]
    sel = s.select_nodes("b", [1])  # inputs 5-9: A1 (5,6) and A2 (6-9, the stronger)
    assert sel.counterparts.tolist() == [2, 1] and sel.nodes_a.tolist() == [1, 2]
    with pytest.raises(IndexError):
        s.select_nodes("b", [2])


def test_selection_inputs_to_nodes_and_back(aligned):
    s = aligned
    sel = s.select_inputs([5])
    assert sel.side == "inputs" and sel.nodes_a.tolist() == [1] and sel.nodes_b.tolist() == [0, 1]
    assert sel.inputs.tolist() == [5]
    assert s.select_inputs([]).empty and s.clear_selection().empty
    with pytest.raises(IndexError):
        s.select_inputs([10])
    with pytest.raises(ParameterError, match="nothing is aligned"):
        Session().select_nodes("a", [0])
