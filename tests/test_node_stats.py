"""node_stats: per-node statistics against brute-force loops, colourable columns, tooltips, motif browser."""

from collections import Counter
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from napari_topoalign import node_stats as S
from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import InputShapeError, ParameterError
from napari_topoalign.io import InputTable
from napari_topoalign.mapper import MapperGraph, nerve
from napari_topoalign.motifs import motif_alignment

N = 120


def _graph(members, n=N, lens=None):
    edges, weight = nerve(members, n)
    return MapperGraph(
        [np.asarray(m, dtype=np.int64) for m in members], edges, weight, intervals=np.zeros((1, 2)),
        node_interval=np.zeros(len(members), int), lens=np.linspace(0, 1, n) if lens is None else lens,
        n_inputs=n, uncovered=np.zeros(0, int),
    )


def _random_graph(rng, k=15, n=N):
    return _graph([np.sort(rng.choice(n, rng.integers(1, 20), replace=False)) for _ in range(k)], n)


def test_dominant_and_mean_match_brute_force():
    rng = np.random.default_rng(0)
    G = _random_graph(rng)
    labels = rng.choice(["cat", "dog", "eel"], N, p=[0.6, 0.3, 0.1])
    numbers = rng.normal(size=N)
    numbers[rng.choice(N, 10, replace=False)] = np.nan
    dom, purity = S.dominant(G, labels)
    mean = S.node_mean(G, numbers)
    for k, m in enumerate(G.members):
        counts = Counter(labels[m])
        top = max(counts.values())
        assert dom[k] == min(v for v, c in counts.items() if c == top)  # ties: first in sorted order
        assert purity[k] == pytest.approx(top / len(m))
        finite = numbers[m][np.isfinite(numbers[m])]
        if len(finite):
            assert mean[k] == pytest.approx(finite.mean())
        else:
            assert np.isnan(mean[k])
    lo_hi = S.lens_range(G)
    np.testing.assert_allclose(lo_hi, [[G.lens[m].min(), G.lens[m].max()] for m in G.members])


def test_dominant_ignores_missing_values_and_pure_nodes_have_purity_one():
    G = _graph([[0, 1, 2], [3, 4], [5]], n=6)
    values = np.array(["x", "x", "y", None, "z", None], dtype=object)
    dom, purity = S.dominant(G, values)
    assert list(dom) == ["x", "z", None]
    np.testing.assert_allclose(purity, [2 / 3, 1.0, np.nan])
    assert S.composition(G, 0, values) == [("x", pytest.approx(2 / 3)), ("y", pytest.approx(1 / 3))]


def test_wrong_length_column_and_non_numeric_mean_raise():
    G = _graph([[0, 1]], n=4)
    with pytest.raises(InputShapeError, match="4 inputs"):
        S.dominant(G, np.zeros(3))
    with pytest.raises(ParameterError, match="numeric"):
        S.node_mean(G, np.array(["a", "b", "c", "d"]))


def test_counterparts_are_row_and_column_maxima():
    C = sp.csr_matrix(np.array([[0.0, 0.2, 0.5], [0.0, 0.0, 0.0], [0.7, 0.1, 0.0]]))
    best, strength = S.counterparts(C, "a")
    np.testing.assert_array_equal(best, [2, -1, 0])
    np.testing.assert_allclose(strength, [0.5, 0.0, 0.7])
    best, strength = S.counterparts(C, "b")
    np.testing.assert_array_equal(best, [2, 0, 0])
    np.testing.assert_allclose(strength, [0.7, 0.2, 0.5])
    with pytest.raises(ParameterError):
        S.counterparts(C, "c")


def test_colour_columns_kinds():
    rng = np.random.default_rng(1)
    meta = pd.DataFrame({
        "label": rng.choice(["a", "b"], N),          # the same as labels: listed once
        "caption": [f"text {i}" for i in range(N)],  # all distinct text: cannot colour
        "digit": rng.integers(0, 10, N),              # few integers: categories
        "age": rng.normal(40, 10, N),                 # numeric
        "empty": np.full(N, np.nan),                  # nothing to show
    })
    table = InputTable(N, labels=meta["label"].to_numpy(), metadata=meta)
    assert S.colour_columns(table) == {"label": "categorical", "digit": "categorical", "age": "numeric"}
    assert S.colour_columns(None) == {}
    np.testing.assert_array_equal(S.input_column(table, "age"), meta["age"].to_numpy())
    with pytest.raises(ParameterError, match="no column 'nope'"):
        S.input_column(table, "nope")


def test_node_table_and_description():
    rng = np.random.default_rng(2)
    A, B = _random_graph(rng), _random_graph(rng, k=9)
    C = correspondence(A, B)
    labels = rng.choice(["red", "blue"], N)
    table_in = InputTable(N, labels=labels, metadata=pd.DataFrame({"age": np.arange(N, dtype=float)}))
    regions = [SimpleNamespace(nodes_a=np.array([0, 1]), nodes_b=np.array([2]), inputs=np.arange(5), score=0.9)]
    t = S.node_table(A, table_in, side="a", correspondence=C, regions=regions)
    assert list(t.columns) == ["node", "size", "lens", "lens_min", "lens_max", "region", "score",
                               "counterpart", "strength", "label", "label_purity", "age"]
    assert len(t) == A.n_nodes
    assert t["region"].tolist()[:3] == [0, 0, -1] and t["score"].iloc[0] == 0.9 and np.isnan(t["score"].iloc[2])
    Cd = C.toarray()
    for k in range(A.n_nodes):
        assert t["strength"].iloc[k] == pytest.approx(Cd[k].max())
        assert t["age"].iloc[k] == pytest.approx(A.members[k].mean())
    text = S.describe_node(A, 0, t, table_in, side_name="A", other_name="B")
    top = Counter(labels[A.members[0]]).most_common(1)[0]
    assert text.splitlines()[0] == f"A node 0: {len(A.members[0])} inputs"
    assert f"{top[0]} {100 * top[1] / len(A.members[0]):.0f}%" in text
    assert "region 1 (score 0.90)" in text and f"B node {int(Cd[0].argmax())}" in text
    # without inputs or correspondence: still a table, no counterpart line
    t0 = S.node_table(B)
    assert (t0["counterpart"] == -1).all() and "counterpart" not in S.describe_node(B, 0, t0)


def test_motif_instances_follow_motif_alignment_and_filter_by_status():
    # A: a star, centre 0 with three flares of two nodes; B: the same centre and first two flares,
    # a third leaf on other inputs, and nothing holding the third flare's inputs (absent there)
    members_a = [list(range(10))] + [list(range(10 + 15 * i, 25 + 15 * i)) for i in range(6)]
    edges_a = [(0, 1), (1, 2), (0, 3), (3, 4), (0, 5), (5, 6)]
    members_b = members_a[:5] + [list(range(100, N))]
    edges_b = [(0, 1), (1, 2), (0, 3), (3, 4), (0, 5)]

    def graph(members, edges):
        e = np.array(edges, dtype=np.int64)
        return MapperGraph([np.asarray(m) for m in members], e, np.ones(len(e)), np.zeros((1, 2)),
                           np.zeros(len(members), int), np.linspace(0, 1, N), N, np.zeros(0, int))

    A, B = graph(members_a, edges_a), graph(members_b, edges_b)
    C = correspondence(A, B)
    expected = motif_alignment(A, B, C, "flare")
    got = S.motif_instances(A, B, C, "flare")
    assert [(g.index, g.kind, g.status, g.nodes_a, g.nodes_b) for g in got] == [
        (i, m.motif.kind, m.status, tuple(m.motif.nodes), tuple(m.counterpart)) for i, m in enumerate(expected)
    ]
    for g in got:
        assert g.n_inputs == len(np.unique(np.concatenate([members_a[k] for k in g.nodes_a])))
    statuses = {g.status for g in got}
    assert statuses == {"preserved", "absent"}
    for status in statuses:
        only = S.motif_instances(A, B, C, "flare", status=status)
        assert only and all(g.status == status for g in only)
        assert [g.index for g in only] == [g.index for g in got if g.status == status]
    assert S.motif_instances(A, B, C, "flare", status=list(statuses)) == got
    with pytest.raises(ParameterError, match="status"):
        S.motif_instances(A, B, C, "flare", status="lost")


def test_input_columns_named_like_node_statistics_are_described_by_their_own_values():
    rng = np.random.default_rng(4)
    A = _random_graph(rng)
    meta = pd.DataFrame({"score": rng.normal(50, 10, N), "strength": rng.normal(100, 10, N)})
    table_in = InputTable(N, metadata=meta)
    t = S.node_table(A, table_in)
    text = S.describe_node(A, 0, t, table_in)
    for name in ("score", "strength"):
        assert S.feature_key(name) == f"input_{name}"
        assert f"{name}: mean {meta[name].to_numpy()[A.members[0]].mean():.3g}" in text
