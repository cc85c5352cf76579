import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import ParameterError
from napari_topoalign.mapper import MapperGraph, nerve
from napari_topoalign.motifs import Motif, MotifSearchTimeout, find_motifs, motif_alignment


def _glued(*parts):
    """Disjoint union of graphs with nodes relabelled 0..n-1 in order."""
    return nx.disjoint_union_all(parts)


def test_loops_of_given_lengths():
    G = _glued(nx.cycle_graph(3), nx.cycle_graph(5), nx.cycle_graph(8), nx.path_graph(4))
    loops = find_motifs(G, "loop")
    assert sorted(len(m.nodes) for m in loops) == [3, 5, 8]
    for m in loops:
        assert m.kind == "loop"
        assert all(G.has_edge(a, b) for a, b in zip(m.nodes, m.nodes[1:] + m.nodes[:1]))


def test_loop_count_is_cycle_rank():
    G = nx.grid_2d_graph(6, 7)
    assert len(find_motifs(G, "loop")) == G.number_of_edges() - G.number_of_nodes() + 1


def test_branch_nodes():
    G = nx.star_graph(4)  # centre 0 with 4 leaves
    G.add_edges_from([(1, 5), (1, 6)])  # node 1 gets degree 3
    assert [m.nodes for m in find_motifs(G, "branch")] == [(0,), (1,)]


def test_flares_end_in_leaves():
    # a triangle 0-1-2 with flares: 0 -> 3 -> 4 -> 5 (leaf), 1 -> 6 (leaf); 2 has none
    G = nx.cycle_graph(3)
    nx.add_path(G, [0, 3, 4, 5])
    G.add_edge(1, 6)
    flares = find_motifs(G, "flare")
    assert [m.nodes for m in flares] == [(0, 3, 4, 5), (1, 6)]
    # an isolated path has two leaves but no branch node: no flare
    assert find_motifs(nx.path_graph(5), "flare") == []


def test_paths_are_maximal_degree_two_chains():
    G = nx.star_graph(3)  # 0 centre, leaves 1 2 3
    nx.add_path(G, [1, 4, 5])  # 0-1-4-5: chain 1,4 from 0 to leaf 5
    nx.add_path(G, [2, 6, 3])  # 0-2-6-3-0 makes a loop through the centre
    paths = {m.nodes for m in find_motifs(G, "path")}
    assert paths == {(0, 1, 4, 5), (0, 2, 6, 3, 0)}
    assert find_motifs(nx.cycle_graph(5), "path") == []


def test_custom_triangle_pattern_counts_each_occurrence_once():
    tri = nx.cycle_graph(3)
    assert len(find_motifs(nx.complete_graph(4), tri)) == 4
    assert len(find_motifs(nx.complete_graph(5), tri)) == 10
    # a 3-node path in a triangle occurs 3 times (different edge sets on the same nodes)
    assert len(find_motifs(nx.cycle_graph(3), nx.path_graph(3))) == 3


def test_pattern_timeout_is_reported_with_partial_results():
    G = nx.complete_graph(30)
    with pytest.raises(MotifSearchTimeout) as err:
        find_motifs(G, nx.path_graph(8), time_limit=0.05)
    assert "time_limit" in str(err.value)
    assert isinstance(err.value.partial, list)


def test_mapper_graph_input_and_bad_motif():
    members = [np.array([0, 1]), np.array([1, 2]), np.array([2, 3]), np.array([3, 0])]
    A = MapperGraph(members, *nerve(members, 4), intervals=np.zeros((1, 2)),
                    node_interval=np.zeros(4, int), lens=np.zeros(4), n_inputs=4,
                    uncovered=np.zeros(0, int))
    assert find_motifs(A, "loop") == [Motif("loop", (0, 1, 2, 3))]
    with pytest.raises(ParameterError):
        find_motifs(A, "spiral")


def test_builtin_kinds_on_large_graph_are_deterministic():
    G = nx.random_regular_graph(3, 2000, seed=1)
    nx.add_path(G, [0, 5000, 5001, 5002])
    for kind in ("branch", "loop", "flare", "path"):
        assert find_motifs(G, kind) == find_motifs(G, kind)
    assert find_motifs(G, "flare") == [Motif("flare", (0, 5000, 5001, 5002))]


def _graph(members, n):
    members = [np.asarray(m) for m in members]
    return MapperGraph(members, *nerve(members, n), intervals=np.zeros((1, 2)),
                       node_interval=np.zeros(len(members), int), lens=np.zeros(n), n_inputs=n,
                       uncovered=np.zeros(0, int))


def _ring(start, k, n_per=4):
    """k nodes in a ring over inputs start.., consecutive nodes sharing one input."""
    step = n_per - 1
    total = k * step
    return [start + (np.arange(i * step, i * step + n_per) % total) for i in range(k)]


def test_motif_alignment_preserved_broken_absent():
    ring = _ring(0, 6)  # inputs 0..17
    other = _ring(18, 5)  # inputs 18..32
    A = _graph(ring + other, 40)
    # B keeps the first ring, cuts the second one open (drops the node closing it), and has no
    # node on inputs 18..32 that the cut ring used... except the chain itself
    chain = [m for m in other]
    chain[-1] = chain[-1][chain[-1] != 18]  # last node no longer overlaps the first: ring opened
    B = _graph(ring + chain, 40)
    C = correspondence(A, B)
    status = {m.motif.nodes[0]: m.status for m in motif_alignment(A, B, C, "loop")}
    assert status == {0: "preserved", 6: "broken"}

    B_far = _graph(ring + [np.arange(33, 40)], 40)  # nothing on the second ring's inputs
    matches = motif_alignment(A, B_far, correspondence(A, B_far), "loop")
    assert [m.status for m in matches] == ["preserved", "absent"]
    assert matches[1].counterpart == ()
    assert set(matches[0].counterpart) == set(range(6))


def test_motif_alignment_branches_and_patterns():
    star = [np.array([0, 1, 2, 3]), np.array([3, 4]), np.array([2, 5]), np.array([1, 6])]
    A = _graph(star, 7)
    C = sp.identity(4, format="csr")
    assert [m.status for m in motif_alignment(A, A, C, "branch")] == ["preserved"]
    path = [np.array([0, 3, 4]), np.array([0, 1, 2, 5]), np.array([1, 6])]
    B = _graph(path, 7)
    res = motif_alignment(A, B, correspondence(A, B), "branch")
    assert [m.status for m in res] == ["broken"]
    tri = nx.cycle_graph(3)
    K4 = _graph([np.array([0, 1, 2, 3, 4]), np.array([0, 5]), np.array([0, 6]), np.array([0, 7])], 8)
    assert len(motif_alignment(K4, K4, sp.identity(4, format="csr"), tri)) == 4
    assert all(m.status == "preserved" for m in motif_alignment(K4, K4, sp.identity(4, format="csr"), tri))
