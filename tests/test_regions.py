import networkx as nx
import numpy as np
import pytest

from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import InputShapeError
from napari_topoalign.mapper import MapperGraph, build_mapper, nerve
from napari_topoalign.regions import Region, _row_spearman, find_matching_regions, organisation_agreement
from planted import regions_pair


def _graphs(X_a, X_b):
    """Each side's graph with default settings, so with its own lens (its first principal axis)."""
    return build_mapper(X_a), build_mapper(X_b)


def _graph(members, n):
    members = [np.asarray(m) for m in members]
    return MapperGraph(members, *nerve(members, n), intervals=np.zeros((1, 2)),
                       node_interval=np.zeros(len(members), int), lens=np.zeros(n), n_inputs=n,
                       uncovered=np.zeros(0, int))


def _connected(G, nodes):
    H = G.to_networkx().subgraph(nodes.tolist())
    return nx.is_connected(H)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_agreement_is_recovered_under_different_lenses(seed):
    # a circle and a segment both sides keep, a disc whose rows B permutes; B is stretched, so
    # each side's default lens (its first principal axis) differs
    X_a, X_b, agree, scrambled = regions_pair(seed)
    A, B = _graphs(X_a, X_b)
    regions = find_matching_regions(A, B, correspondence(A, B))
    assert regions
    found = np.unique(np.concatenate([r.inputs for r in regions]))
    precision = np.isin(found, agree).mean()
    recall = np.isin(agree, found).mean()
    print(f"seed {seed}: {len(regions)} regions, precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.85 and recall >= 0.7
    for r in regions:
        assert np.isin(r.inputs, scrambled).mean() < 0.1
        assert 0 <= r.score <= 1
    ranks = [r.score * len(r.inputs) for r in regions]  # best first: score x inputs
    assert ranks == sorted(ranks, reverse=True)
    _check_disjoint_connected(A, B, regions)


def test_regions_beat_random_input_sets():
    X_a, X_b, _, _ = regions_pair(0)
    A, B = _graphs(X_a, X_b)
    local = organisation_agreement(A, B)
    rng = np.random.default_rng(5)
    regions = find_matching_regions(A, B)
    for r in regions:
        random_means = [local[rng.choice(A.n_inputs, len(r.inputs), replace=False)].mean() for _ in range(50)]
        assert r.score == pytest.approx(local[r.inputs].mean()) and r.score > np.quantile(random_means, 0.9)
    # a stricter minimum score drops regions, never adds any
    assert len(find_matching_regions(A, B, min_score=0.9)) <= len(find_matching_regions(A, B))


def test_organisation_agreement_known_answers():
    X_a, X_b, agree, scrambled = regions_pair(1)
    A, B = _graphs(X_a, X_b)
    same = organisation_agreement(A, A)
    covered = np.setdiff1d(np.arange(A.n_inputs), A.uncovered)
    assert np.all(same[covered] == 1.0) and np.all(same[A.uncovered] == 0.0)
    local = organisation_agreement(A, B)
    assert local[scrambled].mean() < 0.25 < local[agree].mean()


def test_row_spearman_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    ha = rng.integers(0, 6, size=(30, 40)).astype(float)
    hb = ha + rng.integers(0, 4, size=ha.shape)
    ha[:5, :8] = np.inf  # unreachable in A only: ranked last
    hb[:3, :4] = np.inf  # and in both: left out
    out = _row_spearman(ha, hb)
    for r in range(30):
        keep = np.isfinite(ha[r]) | np.isfinite(hb[r])
        a, b = np.where(np.isfinite(ha[r]), ha[r], 99)[keep], np.where(np.isfinite(hb[r]), hb[r], 99)[keep]
        assert out[r] == pytest.approx(max(spearmanr(a, b)[0], 0.0))
    flat = np.full((2, 5), 2.0)
    assert _row_spearman(flat, flat).tolist() == [1.0, 1.0]
    assert _row_spearman(flat, flat + np.arange(5)).tolist() == [0.0, 0.0]
    assert _row_spearman(np.full((1, 3), np.inf), np.full((1, 3), np.inf)).tolist() == [0.0]


def _check_disjoint_connected(A, B, regions):
    all_a = np.concatenate([r.nodes_a for r in regions])
    all_b = np.concatenate([r.nodes_b for r in regions])
    assert len(np.unique(all_a)) == len(all_a) and len(np.unique(all_b)) == len(all_b)
    for r in regions:
        assert r.nodes_a.dtype == np.int64 and r.inputs.dtype == np.int64
        assert np.all(np.diff(r.nodes_a) > 0) and np.all(np.diff(r.nodes_b) > 0)
        assert _connected(A, r.nodes_a) and _connected(B, r.nodes_b)


def test_identical_inputs_give_one_region_per_component():
    X_a, _, _, _ = regions_pair(0)
    A = build_mapper(X_a)
    regions = find_matching_regions(A, A, min_nodes=1)
    comps = list(nx.connected_components(A.to_networkx()))
    assert len(regions) == len(comps)
    assert {frozenset(r.nodes_a.tolist()) for r in regions} == {frozenset(c) for c in comps}
    for r in regions:
        assert np.array_equal(r.nodes_a, r.nodes_b) and r.score == pytest.approx(1.0)
    covered = np.setdiff1d(np.arange(A.n_inputs), A.uncovered)
    assert np.array_equal(np.unique(np.concatenate([r.inputs for r in regions])), covered)


def test_hand_built_ring_matches_and_chain_does_not():
    # A: a ring of 6 nodes on inputs 0..17 and a chain of 8 nodes of 30 inputs after them;
    # B: the same ring, the chain's inputs shuffled
    ring = [np.arange(3 * i, 3 * i + 4) % 18 for i in range(6)]
    chain = [np.arange(18 + 27 * i, 18 + 27 * i + 30) for i in range(8)]
    n = 18 + 27 * 8 + 3
    A = _graph(ring + chain, n)
    rng = np.random.default_rng(3)
    p = np.arange(n)
    p[18:] = rng.permutation(np.arange(18, n))
    B = _graph(ring + [np.sort(p[c]) for c in chain], n)
    regions = find_matching_regions(A, B)
    assert len(regions) == 1
    assert regions[0].nodes_a.tolist() == list(range(6)) == regions[0].nodes_b.tolist()
    # the ring's inputs see each other alike in both graphs; the chain's inputs do not
    assert regions[0].inputs.tolist() == list(range(18))
    assert isinstance(regions[0], Region) and regions[0].score == pytest.approx(1.0)
    assert regions == find_matching_regions(A, B)
    moved = Region(regions[0].nodes_a, regions[0].nodes_b + 1, regions[0].inputs, regions[0].score)
    assert regions[0] != moved


def test_a_node_split_in_two_regions_stay_disjoint():
    # one A node overlaps two far-apart B nodes equally: it may join only one region
    A = _graph([np.arange(0, 6), np.arange(5, 11), np.arange(10, 16), np.arange(15, 21)], 21)
    B = _graph([np.arange(0, 6), np.arange(5, 11), np.arange(10, 16), np.arange(15, 21)][::-1], 21)
    regions = find_matching_regions(A, B, min_score=0.0, min_nodes=1)
    _check_disjoint_connected(A, B, regions)


def test_shape_errors():
    A = _graph([np.arange(4)], 4)
    B = _graph([np.arange(5)], 5)
    with pytest.raises(InputShapeError):
        find_matching_regions(A, B)


def test_graph_without_nodes_has_no_regions():
    A = _graph([np.arange(4)], 4)
    empty = _graph([], 4)
    assert find_matching_regions(A, empty) == []
    assert find_matching_regions(empty, A) == []


def test_region_of_prefers_the_best_region_and_colours_skip_grey():
    from napari_topoalign.regions import REGION_PALETTE, region_colours, region_of

    regions = [Region(np.array([1, 2]), np.array([0]), np.array([3, 4]), 0.9),
               Region(np.array([2, 3]), np.array([1]), np.array([4, 5]), 0.6)]
    assert region_of(regions, 5, "nodes_a").tolist() == [-1, 0, 0, 1, -1]
    assert region_of(regions, 7, "inputs").tolist() == [-1, -1, -1, 0, 0, 1, -1]
    assert region_of([], 3, "nodes_b").tolist() == [-1, -1, -1]
    # no region is drawn grey (grey means "in no region"); colours cycle past the palette
    rgb = REGION_PALETTE[:, :3]
    assert not np.any(np.ptp(rgb, axis=1) < 0.05)
    np.testing.assert_array_equal(region_colours([0, len(REGION_PALETTE)]), REGION_PALETTE[[0, 0]])
