import networkx as nx
import numpy as np
import pytest
import torch
from layout_graphs import (
    curve_graph,
    fragmented_pair,
    graph_from_members,
    graph_from_nx,
    hub_and_chain,
    random_geometric,
)

from napari_topoalign import layout
from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import EmptyInputError, InputShapeError, ParameterError
from napari_topoalign.layout import JointLayout, joint_layout, neighbourhood_preservation


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # the test machine is shared; one thread avoids oversubscription slowdowns
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _gap(L):
    """Mean distance between node i of A and node i of B, as a fraction of the layout extent."""
    a, b = L.pos_a, L.pos_b - L.offset
    extent = np.ptp(np.vstack([a, b]), axis=0).max()
    return np.linalg.norm(a - b, axis=1).mean() / extent


def _thinned(G, seed, keep=0.8):
    """Same inputs, each node losing about a fifth of its members: a noisy second representation."""
    rng = np.random.default_rng(seed)
    members = [m[rng.random(len(m)) < keep] if len(m) > 2 else m for m in G.members]
    return graph_from_members([m if len(m) else G.members[i] for i, m in enumerate(members)], G.n_inputs)


@pytest.mark.parametrize("mode", ["side_by_side", "overlay"])
def test_identical_graphs_coincide(mode):
    A = random_geometric(150, radius=0.15)
    L = joint_layout(A, A, mode=mode)
    assert isinstance(L, JointLayout) and L.mode == mode
    assert L.pos_a.dtype == np.float32 and L.pos_b.dtype == np.float32 and L.offset.dtype == np.float32
    assert L.pos_a.shape == L.pos_b.shape == (150, 2)
    assert _gap(L) < 0.05
    if mode == "overlay":
        np.testing.assert_array_equal(L.offset, 0)


def test_identical_large_graphs_coincide_with_sampled_repulsion():
    A = curve_graph(layout.DENSE_MAX["cpu"] + 100, width=6)
    L = joint_layout(A, A, device="cpu", iterations=100)
    assert np.isfinite(L.pos_a).all()
    assert _gap(L) < 0.05


def test_corresponding_nodes_sit_closer_than_random_pairs():
    A = curve_graph(80)
    B = curve_graph(60, width=6, shift=5, n_inputs=A.n_inputs)
    C = correspondence(A, B)
    L = joint_layout(A, B, C, mode="overlay")
    strong = C.multiply(C >= 0.3).tocoo()
    assert strong.nnz > 20
    d_strong = np.linalg.norm(L.pos_a[strong.row] - L.pos_b[strong.col], axis=1).mean()
    rng = np.random.default_rng(0)
    i, j = rng.integers(A.n_nodes, size=2000), rng.integers(B.n_nodes, size=2000)
    d_random = np.linalg.norm(L.pos_a[i] - L.pos_b[j], axis=1).mean()
    assert d_strong < 0.15 * d_random


def test_each_graph_reads_well_alone():
    A = random_geometric(150, radius=0.15, seed=3)
    B = _thinned(A, seed=4)
    L = joint_layout(A, B)
    for G, pos in ((A, L.pos_a), (B, L.pos_b)):
        spring = nx.spring_layout(G.to_networkx(), seed=0)
        assert neighbourhood_preservation(G, pos) >= 0.8 * neighbourhood_preservation(G.to_networkx(), spring)


def test_graphs_of_different_structure_put_matched_parts_in_the_same_place():
    # A: a star of fine paths; B: the same arms, coarse, joined end to end. Each coarse B node
    # matches several A nodes; pairwise springs pulled those together and left the arms' centroids
    # 3-4% of the extent apart, the mean coupling about 2%
    A, B, arm_a, arm_b = hub_and_chain()
    L = joint_layout(A, B)
    a, b = L.pos_a, L.pos_b - L.offset
    extent = np.ptp(np.vstack([a, b]), axis=0).max()
    gaps = [np.linalg.norm(a[arm_a == k].mean(axis=0) - b[arm_b == k].mean(axis=0)) / extent for k in range(3)]
    assert np.mean(gaps) < 0.025
    for G, pos in ((A, a), (B, b)):
        spring = nx.spring_layout(G.to_networkx(), seed=0)
        assert neighbourhood_preservation(G, pos) >= 0.8 * neighbourhood_preservation(G.to_networkx(), spring)


def test_fragmented_graphs_read_well_alone_and_still_correspond():
    # many strands cut at different places in A and B, one graph's strand matching several parallel
    # strands of the other; big enough for sampled repulsion
    A, B = fragmented_pair(length=640, n_cuts=24)
    assert min(A.n_nodes, B.n_nodes) > layout.DENSE_MAX["cpu"]
    C = correspondence(A, B)
    L = joint_layout(A, B, C, device="cpu")
    for G, pos in ((A, L.pos_a), (B, L.pos_b)):
        assert nx.number_connected_components(G.to_networkx()) > 30
        spring = nx.spring_layout(G.to_networkx(), seed=0)
        preserved = neighbourhood_preservation(G, pos)
        assert preserved >= 0.8 * neighbourhood_preservation(G.to_networkx(), spring)
        assert preserved > 0.9  # the previous start (one MDS of the joint graph) stacked parallel strands: 0.6-0.75
    strong = C.multiply(C >= 0.3).tocoo()
    d_strong = np.linalg.norm(L.pos_a[strong.row] - (L.pos_b - L.offset)[strong.col], axis=1).mean()
    rng = np.random.default_rng(0)
    i, j = rng.integers(A.n_nodes, size=2000), rng.integers(B.n_nodes, size=2000)
    assert d_strong < 0.15 * np.linalg.norm(L.pos_a[i] - (L.pos_b - L.offset)[j], axis=1).mean()
    L2 = joint_layout(A, B, C, device="cpu")  # sampled mode is deterministic too
    np.testing.assert_array_equal(L.pos_a, L2.pos_a)
    np.testing.assert_array_equal(L.pos_b, L2.pos_b)


def test_panels_never_overlap_and_extent_is_normalised():
    A = random_geometric(80, radius=0.2, seed=1)
    B = graph_from_nx(nx.star_graph(30))
    L = joint_layout(A, B, np.zeros((A.n_nodes, B.n_nodes)) if A.n_inputs != B.n_inputs else None)
    assert L.pos_a[:, 0].max() + layout.MARGIN <= L.pos_b[:, 0].min() + 1e-3
    joint = np.vstack([L.pos_a, L.pos_b - L.offset])
    assert np.ptp(joint, axis=0).max() == pytest.approx(layout.EXTENT, rel=1e-4)
    assert L.offset[1] == 0


def test_device_choice_and_errors():
    A = curve_graph(20)
    L = joint_layout(A, A, iterations=5)
    assert L.device == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert joint_layout(A, A, iterations=5, device="cpu").device == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA"):
            joint_layout(A, A, device="cuda")
    with pytest.raises(ParameterError):
        joint_layout(A, A, device="tpu")
    with pytest.raises(ParameterError, match="mode"):
        joint_layout(A, A, mode="stacked")
    with pytest.raises(ParameterError, match="iterations"):
        joint_layout(A, A, iterations=-1)
    with pytest.raises(InputShapeError):
        joint_layout(A, A, np.ones((2, 2)))
    with pytest.raises(EmptyInputError):
        joint_layout(graph_from_members([], 5), A)


def test_same_seed_same_result():
    A = random_geometric(100, seed=2)
    B = _thinned(A, seed=5)
    L1, L2 = joint_layout(A, B, seed=7, device="cpu"), joint_layout(A, B, seed=7, device="cpu")
    np.testing.assert_array_equal(L1.pos_a, L2.pos_a)
    np.testing.assert_array_equal(L1.pos_b, L2.pos_b)
    np.testing.assert_array_equal(L1.energy, L2.energy)
    L3 = joint_layout(A, B, seed=8, device="cpu")
    assert not np.array_equal(L1.pos_a, L3.pos_a)


def test_energy_history_decreases():
    A = random_geometric(120, seed=6)
    L = joint_layout(A, _thinned(A, seed=1), iterations=150)
    assert L.energy.shape == (150,) and np.isfinite(L.energy).all()
    assert L.energy[-10:].mean() < L.energy[:10].mean()


def test_callback_sees_progress_and_can_cancel():
    A = curve_graph(30)
    seen = []
    L = joint_layout(A, A, iterations=35, callback=lambda it, pa, pb: seen.append((it, pa.shape, pb.shape)))
    assert [s[0] for s in seen] == [10, 20, 30, 35]
    assert all(s[1] == (30, 2) and s[2] == (30, 2) for s in seen)
    assert L.energy.shape == (35,)

    class Stop(Exception):
        pass

    def cancel(it, pa, pb):
        raise Stop

    with pytest.raises(Stop):
        joint_layout(A, A, iterations=50, callback=cancel)


def test_components_and_isolated_nodes_stay_apart_and_near():
    G = nx.disjoint_union_all([nx.cycle_graph(20), nx.path_graph(15), nx.complete_graph(6), nx.empty_graph(4)])
    A = graph_from_nx(G)
    L = joint_layout(A, A)
    assert np.isfinite(L.pos_a).all() and np.isfinite(L.pos_b).all()
    label = np.empty(A.n_nodes, int)
    for c, nodes in enumerate(nx.connected_components(A.to_networkx())):
        label[list(nodes)] = c
    d = np.linalg.norm(L.pos_a[:, None] - L.pos_a[None], axis=2)
    other = label[:, None] != label[None, :]
    # nodes of different components never sit on top of each other; nothing flies off (extent is shared)
    assert d[other].min() > 1.0
    edges = A.edges
    median_edge = np.median(np.linalg.norm(L.pos_a[edges[:, 0]] - L.pos_a[edges[:, 1]], axis=1))
    assert median_edge > 1.0  # components are not squeezed to dots by the spread of the others
    assert neighbourhood_preservation(A, L.pos_a) > 0.8


@pytest.mark.parametrize(
    "A, B, C",
    [
        (graph_from_members([[0, 1]], 2), graph_from_members([[0, 1]], 2), None),  # single nodes
        (graph_from_members([[i] for i in range(12)], 12),) * 2 + (None,),  # no edges
        (curve_graph(20), curve_graph(20), np.zeros((20, 20))),  # no correspondence at all
    ],
)
def test_degenerate_graphs_give_finite_layouts(A, B, C):
    L = joint_layout(A, B, C, iterations=60)
    assert np.isfinite(L.pos_a).all() and np.isfinite(L.pos_b).all() and np.isfinite(L.energy).all()
    assert L.pos_a[:, 0].max() < L.pos_b[:, 0].min()
    if A.n_nodes > 1:
        d = np.linalg.norm(L.pos_a[:, None] - L.pos_a[None], axis=2) + np.eye(A.n_nodes) * 1e9
        assert d.min() > 0.5  # nodes do not pile up


def test_neighbourhood_preservation_known_answers():
    path = nx.path_graph(20)
    line = np.stack([np.arange(20.0), np.zeros(20)], axis=1)
    assert neighbourhood_preservation(path, line) == 1.0
    assert neighbourhood_preservation(path, {i: line[i] for i in range(20)}) == 1.0
    star = nx.star_graph(5)  # centre far from its 5 leaves, which huddle together
    pos = np.vstack([[0, 0], np.stack([np.full(5, 10.0), 0.1 * np.arange(5)], axis=1)])
    assert neighbourhood_preservation(star, pos) == pytest.approx(1 / 6)  # only the centre is served
    assert neighbourhood_preservation(star, pos, k=3) == pytest.approx(1 / 6)
    angle = np.arange(5) * 2 * np.pi / 5  # leaves on a unit circle around the centre: all served
    pos = np.vstack([[0, 0], np.stack([np.cos(angle), np.sin(angle)], axis=1)])
    assert neighbourhood_preservation(star, pos) == 1.0
    shuffled = line[np.random.default_rng(0).permutation(20)]
    assert neighbourhood_preservation(path, shuffled) < 0.5
    assert neighbourhood_preservation(nx.empty_graph(3), np.zeros((3, 2))) == 1.0
    G = graph_from_nx(path)
    assert neighbourhood_preservation(G, line) == 1.0
    with pytest.raises(InputShapeError):
        neighbourhood_preservation(path, np.zeros((3, 2)))
    with pytest.raises(ParameterError):
        neighbourhood_preservation(path, line, k=0)
