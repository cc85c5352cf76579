"""build_mapper: exactness against scikit-learn/scipy, known topologies, validation."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.stats import ortho_group
from sklearn.cluster import DBSCAN

from napari_topoalign.errors import InputShapeError, InvalidValuesError, ParameterError, TopoAlignError
from napari_topoalign.mapper import (
    MapperGraph,
    MapperParams,
    UncoveredInputsWarning,
    build_mapper,
    graph_faithfulness,
    nerve,
)

# exactness tests use small eps on purpose; the warning about uncovered inputs has its own test
sparse_ok = pytest.mark.filterwarnings("ignore::napari_topoalign.mapper.UncoveredInputsWarning")


def embed(Y, D, rng, noise):
    """Pad 2-D points to D dimensions, rotate randomly, add isotropic noise."""
    Q = ortho_group.rvs(D, random_state=int(rng.integers(1 << 31)))
    Y = np.pad(Y, ((0, 0), (0, D - Y.shape[1])))
    return (Y @ Q + noise * rng.normal(size=Y.shape)).astype(np.float32)


def circle(n, rng, centre=(0.0, 0.0)):
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[np.cos(t) + centre[0], np.sin(t) + centre[1]]


def shape_of(g):
    """(components, independent cycles, leaves, branch nodes) of a mapper graph."""
    V, E = g.n_nodes, len(g.edges)
    A = sp.coo_matrix((np.ones(E), (g.edges[:, 0], g.edges[:, 1])), shape=(V, V))
    ncomp, _ = connected_components(A, directed=False)
    deg = np.bincount(g.edges.ravel(), minlength=V)
    return ncomp, E - V + ncomp, int((deg == 1).sum()), int((deg >= 3).sum())


def element_points(g, k):
    """Inputs of cover element k: an interval of a 1-D lens, a grid cell of a 2-D or 3-D one."""
    bounds = np.asarray(g.intervals[k]).reshape(-1, 2)
    L = g.lens.reshape(len(g.lens), -1)
    return np.flatnonzero(((L >= bounds[:, 0]) & (L <= bounds[:, 1])).all(axis=1))


def as_sets(groups):
    return {frozenset(map(int, m)) for m in groups}


def reference(g, X, cluster):
    """Clusters of every cover element by an independent implementation, as a set of frozensets."""
    out = set()
    for k in range(len(g.intervals)):
        idx = element_points(g, k)
        if len(idx) > 1:  # (every test clusters with min_samples >= 2)
            labels = cluster(X[idx])
            out |= as_sets(idx[labels == lab] for lab in np.unique(labels[labels >= 0]))
    return out


@sparse_ok
@pytest.mark.parametrize("metric,eps", [("euclidean", 1.1), ("cosine", 0.15)])
@pytest.mark.parametrize("cover", ["uniform", "balanced"])
@pytest.mark.parametrize("dim", [6, 24])  # a k-d tree finds the pairs in few dimensions, blocks in many
@pytest.mark.parametrize("lens", ["auto", "pca"])  # a 3-D grid; intervals (the blocks path thins the pairs)
def test_dbscan_matches_sklearn_per_cover_element(metric, eps, cover, dim, lens):
    rng = np.random.default_rng(1)
    X = embed(rng.normal(size=(700, 6)), dim, rng, 0.0)
    p = MapperParams(eps=eps, metric=metric, cover=cover, n_intervals=8, min_samples=4, lens=lens)
    g = build_mapper(X, p)
    ref = reference(g, X, lambda Y: DBSCAN(eps=eps, min_samples=4, metric=metric).fit_predict(Y))
    assert g.n_nodes > 8
    assert as_sets(g.members) == ref
    # and per element, not only as a union
    for k in range(len(g.intervals)):
        idx = element_points(g, k)
        if len(idx) == 0:  # an empty cell of the grid
            continue
        labels = DBSCAN(eps=eps, min_samples=4, metric=metric).fit_predict(X[idx])
        ours = [m for m, i in zip(g.members, g.node_interval) if i == k]
        assert as_sets(ours) == as_sets(idx[labels == lab] for lab in np.unique(labels[labels >= 0]))


def test_ambiguous_border_points_follow_sklearn():
    # two dense 1-D clumps whose cores are 2 apart, with a lone point in between reachable from both:
    # it is a border point of both clusters; sklearn gives it to the cluster holding the smallest core index.
    left = np.linspace(0.0, 0.4, 5)
    right = np.linspace(2.0, 2.4, 5)
    for first in ("left", "right"):
        pts = np.r_[left, right] if first == "left" else np.r_[right, left]
        X = np.c_[np.r_[pts, 1.2], np.zeros(11)].astype(np.float32)
        lens = np.zeros(11)
        lens[0] = 1.0  # one cover element holding everything
        g = build_mapper(X, MapperParams(lens=lens, n_intervals=1, eps=0.85, min_samples=4))
        labels = DBSCAN(eps=0.85, min_samples=4).fit_predict(X)
        ref = as_sets(np.flatnonzero(labels == lab) for lab in np.unique(labels[labels >= 0]))
        assert as_sets(g.members) == ref and g.n_nodes == 2
        owner = [m for m in g.members if 10 in m][0]
        assert 0 in owner  # the cluster of index 0 reaches the border point first


@sparse_ok
def test_single_linkage_matches_scipy():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 4)).astype(np.float32)
    p = MapperParams(clusterer="single", eps=0.6, n_intervals=6, min_samples=2)
    g = build_mapper(X, p)

    def scipy_single(Y):
        labels = fcluster(linkage(Y.astype(np.float64), "single"), t=0.6, criterion="distance")
        sizes = np.bincount(labels)
        return np.where(sizes[labels] >= 2, labels, -1)

    assert as_sets(g.members) == reference(g, X, scipy_single)


def dense_blobs(rng, n=1500, dim=16):
    """Tight blobs of unequal sizes and spreads over a sparse background: cliques at eps = 1.5."""
    centres = rng.normal(size=(12, dim)) * 4
    label = rng.choice(12, n - 100, p=np.arange(1, 13) / 78)
    X = centres[label] + rng.uniform(0.05, 0.3, 12)[label, None] * rng.normal(size=(n - 100, dim))
    return np.r_[X, rng.uniform(-8, 8, size=(100, dim))].astype(np.float32)


@sparse_ok
@pytest.mark.parametrize("clusterer", ["dbscan", "single"])
def test_thinned_radius_graph_gives_the_exact_clusters(clusterer):
    # the blocks path leaves out the pairs a core hub makes redundant (most of a clique's);
    # degrees are counted before, and the clusters must still equal the oracle's per element
    from napari_topoalign import mapper

    rng = np.random.default_rng(5)
    X = dense_blobs(rng)
    lens = X @ rng.normal(size=16)
    p = MapperParams(lens=lens, n_intervals=6, overlap=0.5, eps=1.5, min_samples=5, clusterer=clusterer)
    g = build_mapper(X, p)
    if clusterer == "dbscan":
        oracle = lambda Y: DBSCAN(eps=1.5, min_samples=5).fit_predict(Y)  # noqa: E731
    else:
        def oracle(Y):
            labels = fcluster(linkage(Y.astype(np.float64), "single"), t=1.5, criterion="distance")
            return np.where(np.bincount(labels)[labels] >= 5, labels, -1)
    assert g.n_nodes > 12
    assert as_sets(g.members) == reference(g, X, oracle)

    # and the thinning did happen, with the degrees of the whole graph
    L = lens.reshape(-1, 1)
    bounds = mapper._cover(L, p)
    order, sorted_lens, starts, ends = mapper._element_ranges(lens, *bounds[0])
    args = (X, X, order, sorted_lens, *bounds[0], starts, ends, 1.5, "euclidean", False)
    r_all, c_all, _ = mapper._radius_graph(*args)
    r, c, degree = mapper._radius_graph(*args, mapper._hub_min_degree(p))
    assert len(r) < 0.3 * len(r_all)
    assert set(zip(r.tolist(), c.tolist())) <= set(zip(r_all.tolist(), c_all.tolist()))
    first = np.searchsorted(bounds[0][1], sorted_lens, side="left")
    for k, (s, e) in enumerate(zip(starts, ends)):
        inside = (r_all >= s) & (c_all < e)
        full = np.bincount(r_all[inside], minlength=len(X)) + np.bincount(c_all[inside], minlength=len(X))
        pos = np.arange(s, e)
        assert np.array_equal(degree[pos, k - first[pos]], full[pos])


def test_noisy_circle_in_32d_is_one_loop():
    rng = np.random.default_rng(0)
    X = embed(circle(1000, rng), 32, rng, 0.02)
    g = build_mapper(X, MapperParams(lens="pca"))
    ncomp, cycles, _, _ = shape_of(g)
    assert (ncomp, cycles) == (1, 1)
    assert g.params.eps is not None and g.params.eps > 0


def test_two_circles_are_two_loops():
    rng = np.random.default_rng(1)
    X = embed(np.r_[circle(800, rng), circle(800, rng, (3.5, 0.0))], 32, rng, 0.02)
    g = build_mapper(X, MapperParams(lens="pca"))
    A = sp.coo_matrix((np.ones(len(g.edges)), (g.edges[:, 0], g.edges[:, 1])), shape=(g.n_nodes,) * 2)
    ncomp, comp = connected_components(A, directed=False)
    assert ncomp == 2
    for c in range(2):
        nodes = np.flatnonzero(comp == c)
        n_edges = np.isin(g.edges[:, 0], nodes).sum()
        assert n_edges - len(nodes) + 1 == 1


def test_y_shape_with_junction_distance_lens_is_a_tree_with_three_leaves():
    rng = np.random.default_rng(0)
    n = 1500
    arm = rng.integers(0, 3, n)
    r = rng.uniform(0, 1, n)
    angle = arm * 2 * np.pi / 3 + np.pi / 2
    Y = np.c_[r * np.cos(angle), r * np.sin(angle)]
    X = embed(Y, 32, rng, 0.003)
    g = build_mapper(X, MapperParams(lens=r))
    assert shape_of(g) == (1, 0, 3, 1)


def test_deterministic_and_ordered():
    rng = np.random.default_rng(3)
    X = embed(circle(600, rng), 16, rng, 0.02)
    g1 = build_mapper(X, MapperParams(lens="pca"))
    g2 = build_mapper(X.copy(), MapperParams(lens="pca"))
    assert g1.params == g2.params
    assert len(g1.members) == len(g2.members)
    assert all(np.array_equal(a, b) for a, b in zip(g1.members, g2.members))
    assert np.array_equal(g1.edges, g2.edges)
    for m in g1.members:
        assert m.dtype == np.int64 and np.all(np.diff(m) > 0)
    key = [(int(i), int(m[0])) for i, m in zip(g1.node_interval, g1.members)]
    assert key == sorted(key)


@sparse_ok
def test_uncovered_inputs_are_reported():
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal(size=(300, 3)) * 0.1, rng.uniform(20, 40, size=(5, 3))].astype(np.float32)
    g = build_mapper(X, MapperParams(eps=0.5, n_intervals=4, min_samples=5))
    covered = np.unique(np.concatenate(g.members))
    assert np.array_equal(np.sort(np.r_[covered, g.uncovered]), np.arange(len(X)))
    assert set(range(300, 305)) <= set(g.uncovered.tolist())


def test_edges_are_exactly_shared_members_with_jaccard():
    rng = np.random.default_rng(5)
    X = embed(circle(500, rng), 8, rng, 0.02)
    g = build_mapper(X, MapperParams(lens="pca", n_intervals=10))
    expected = {}
    for i in range(g.n_nodes):
        for j in range(i + 1, g.n_nodes):
            a, b = set(g.members[i].tolist()), set(g.members[j].tolist())
            if a & b:
                expected[(i, j)] = len(a & b) / len(a | b)
    got = {(int(i), int(j)): w for (i, j), w in zip(g.edges, g.edge_weight)}
    assert got.keys() == expected.keys()
    assert all(np.isclose(got[k], expected[k]) for k in got)


def test_uniform_cover_matches_keplermapper_placement():
    import kmapper as km
    lens = np.random.default_rng(6).uniform(-3, 5, 200)
    g = build_mapper(np.c_[lens, lens].astype(np.float32), MapperParams(lens=lens, n_intervals=7, overlap=0.3, eps=1.0))
    cover = km.Cover(n_cubes=7, perc_overlap=0.3)
    centres = np.array(cover.fit(np.c_[np.arange(200), lens])).ravel()
    assert np.allclose(g.intervals[:, 0], centres - cover.radius_[0])
    assert np.allclose(g.intervals[:, 1], centres + cover.radius_[0])
    length = g.intervals[0, 1] - g.intervals[0, 0]
    assert np.isclose(g.intervals[0, 1] - g.intervals[1, 0], 0.3 * length)


def test_balanced_cover_has_equal_counts():
    lens = np.random.default_rng(7).exponential(size=1000)
    X = np.c_[lens, np.zeros(1000)].astype(np.float32)
    g = build_mapper(X, MapperParams(lens=lens, cover="balanced", n_intervals=10, eps=5.0))
    counts = [len(element_points(g, k)) for k in range(10)]
    assert max(counts) - min(counts) <= 2


@pytest.mark.parametrize("lens", ["l2norm", "pca", "pca2", "pca3", "density", "eccentricity"])
def test_builtin_lenses(lens):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    g = build_mapper(X, MapperParams(lens=lens, n_intervals=5 if lens != "pca3" else 3, min_samples=3))
    dims = {"pca2": 2, "pca3": 3}.get(lens, 1)
    assert g.lens.shape == ((300, dims) if dims > 1 else (300,)) and np.isfinite(g.lens).all()
    if lens == "l2norm":
        assert np.allclose(g.lens, np.linalg.norm(X, axis=1), rtol=1e-5)
    if lens == "eccentricity":
        D2 = ((X[:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1)
        assert np.allclose(g.lens, np.sqrt(D2.mean(axis=1)))
    if dims > 1 or lens == "pca":
        Xc = X - X.mean(0)
        V = np.linalg.svd(Xc.astype(np.float64), full_matrices=False)[2][:dims].T
        scores = (Xc @ V)[:, 0] if lens == "pca" else Xc @ V
        assert np.allclose(np.abs(g.lens), np.abs(scores), atol=1e-4)
    if lens == "density":
        D = np.sqrt(((X[:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1))
        assert np.allclose(g.lens, np.sort(D, axis=1)[:, 3], atol=1e-4)


@pytest.mark.parametrize(
    "kwargs,error",
    [
        (dict(lens="bogus"), ParameterError),
        (dict(cover="bogus"), ParameterError),
        (dict(clusterer="kmeans"), ParameterError),
        (dict(metric="manhattan"), ParameterError),
        (dict(n_intervals=0), ParameterError),
        (dict(n_intervals=(4, 5)), ParameterError),
        (dict(lens="pca2", n_intervals=(4, 5, 6)), ParameterError),
        (dict(lens=np.zeros((50, 4))), InputShapeError),
        (dict(lens="pca3", n_intervals=(4, 5)), ParameterError),
        (dict(overlap=1.0), ParameterError),
        (dict(overlap=-0.1), ParameterError),
        (dict(min_samples=0), ParameterError),
        (dict(eps=0.0), ParameterError),
        (dict(eps=-1.0), ParameterError),
        (dict(lens=np.zeros(7)), InputShapeError),
        (dict(lens=np.r_[np.zeros(49), np.nan]), InvalidValuesError),
    ],
)
def test_bad_params_raise(kwargs, error):
    X = np.random.default_rng(9).normal(size=(50, 3)).astype(np.float32)
    with pytest.raises(error) as info:
        build_mapper(X, MapperParams(**kwargs))
    assert isinstance(info.value, TopoAlignError) and str(info.value)


def test_bad_inputs_raise():
    with pytest.raises(TopoAlignError):
        build_mapper(np.zeros(10))
    with pytest.raises(TopoAlignError):
        build_mapper(np.full((5, 2), np.nan))
    with pytest.raises(ParameterError, match="constant"):
        build_mapper(np.ones((20, 3)))
    X = np.random.default_rng(10).normal(size=(20, 3))
    X[3] = 0
    with pytest.raises(InvalidValuesError, match="zero"):
        build_mapper(X, MapperParams(metric="cosine", lens="pca"))


def test_adjacency_matches_edges():
    members = [np.array([0, 1]), np.array([1, 2]), np.array([2, 3]), np.array([5])]
    g = MapperGraph(members, *nerve(members, 6), intervals=np.zeros((1, 2)), node_interval=np.zeros(4, int),
                    lens=np.zeros(6), n_inputs=6, uncovered=np.array([4]))
    A = g.adjacency().toarray()
    assert A.tolist() == [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(g.adjacency(self_loops=True).toarray(), A + np.eye(4))


def test_input_hops_against_networkx():
    import networkx as nx

    rng = np.random.default_rng(3)
    g = build_mapper(embed(circle(600, rng), 5, rng, 0.02), MapperParams(lens="pca", n_intervals=8, eps=0.25))
    assert g.n_nodes > 8
    G = g.to_networkx()
    lengths = dict(nx.all_pairs_shortest_path_length(G))
    holders = [[] for _ in range(g.n_inputs)]
    for k, m in enumerate(g.members):
        for x in m:
            holders[x].append(k)
    i, j = rng.integers(0, g.n_inputs, 300), rng.integers(0, g.n_inputs, 300)
    got = g.input_hops(i, j)
    for p in range(len(i)):
        want = min((lengths[a].get(b, np.inf) for a in holders[i[p]] for b in holders[j[p]]), default=np.inf)
        assert got[p] == want
    assert np.isinf(got).sum() == sum(not holders[a] or not holders[b] for a, b in zip(i, j))


def test_node_distances_are_shortest_paths_with_minus_log_jaccard_edges():
    import networkx as nx

    rng = np.random.default_rng(4)
    X = np.r_[embed(circle(500, rng), 6, rng, 0.03), embed(circle(300, rng, (4.0, 0.0)), 6, rng, 0.03)]
    g = build_mapper(X, MapperParams(lens="pca2", n_intervals=5, eps=0.3))
    G = nx.Graph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from((int(a), int(b), -np.log(w)) for (a, b), w in zip(g.edges, g.edge_weight))
    want = dict(nx.all_pairs_dijkstra_path_length(G))
    D = g.node_distances()
    assert D.shape == (g.n_nodes, g.n_nodes) and np.isinf(D).any()  # two circles: two components
    for a in range(g.n_nodes):
        for b in range(g.n_nodes):
            assert D[a, b] == pytest.approx(want[a].get(b, np.inf), abs=1e-9)


# --------------------------------------------------------------------------- defaults on known shapes


def _bench():
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    return importlib.import_module("bench_topology")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("family", ["circle", "two circles", "figure-eight", "Y (3 arms)", "blobs"])
def test_defaults_get_shape_families_right(family, seed):
    bench = _bench()
    rng = np.random.default_rng(seed)
    n, noise, dim = [(1000, 0.02, 32), (2000, 0.05, 128), (1500, 0.005, 8)][seed]
    Y, want = bench.shape(family, n, rng)
    X = bench.embed(Y, dim, noise, rng)
    g = build_mapper(X)
    got = bench.topology(g.n_nodes, g.edges)
    assert bench.is_right(got, want), (got, want)
    assert g.uncovered_fraction <= 0.1


# --------------------------------------------------------------------------- clusterers


def test_hdbscan_matches_sklearn_per_cover_element():
    from sklearn.cluster import HDBSCAN

    rng = np.random.default_rng(11)
    X = embed(circle(600, rng), 6, rng, 0.03)
    g = build_mapper(X, MapperParams(clusterer="hdbscan", n_intervals=6, min_samples=6, eps=0.3))
    assert g.params.eps is None  # HDBSCAN has no radius
    Z = X - X.mean(0)
    ref = reference(g, Z, lambda Y: HDBSCAN(min_cluster_size=6, min_samples=6, allow_single_cluster=True, copy=True).fit_predict(
        Y.astype(np.float64)))
    assert as_sets(g.members) == ref
    assert shape_of(g)[:2] == (1, 1)


def test_single_linkage_first_gap_splits_at_the_gap_only():
    rng = np.random.default_rng(12)
    lens = np.zeros(120)
    lens[0] = 1.0
    clumps = np.r_[rng.normal(0, 0.05, (60, 2)), rng.normal(0, 0.05, (60, 2)) + [3.0, 0.0]].astype(np.float32)
    g = build_mapper(clumps, MapperParams(lens=lens, n_intervals=1, clusterer="single"))
    assert as_sets(g.members) == {frozenset(range(60)), frozenset(range(60, 120))}
    assert g.params.eps is None
    one = rng.uniform(0, 1, (200, 2)).astype(np.float32)
    g = build_mapper(one, MapperParams(lens=np.r_[1.0, np.zeros(199)], n_intervals=1, clusterer="single"))
    assert g.n_nodes == 1


# --------------------------------------------------------------------------- 2-D lens: grid cover


def test_grid_cover_matches_keplermapper_cubes():
    import kmapper as km

    rng = np.random.default_rng(13)
    L = np.c_[rng.uniform(-3, 5, 400), rng.normal(0, 2, 400)]
    g = build_mapper(rng.normal(size=(400, 3)).astype(np.float32),
                     MapperParams(lens=L, n_intervals=(4, 3), overlap=0.3, eps=1.0, min_samples=2))
    cover = km.Cover(n_cubes=[4, 3], perc_overlap=0.3)
    centres = np.array(cover.fit(np.c_[np.arange(400), L]))
    assert g.intervals.shape == (12, 2, 2)
    np.testing.assert_allclose(g.intervals[:, :, 0], centres - cover.radius_)
    np.testing.assert_allclose(g.intervals[:, :, 1], centres + cover.radius_)
    for k, centre in enumerate(centres):  # KeplerMapper's members of each cube are the cell's inputs
        inside = cover.transform_single(np.c_[np.arange(400), L], centre)[:, 0].astype(int)
        mine = np.flatnonzero(((L >= g.intervals[k, :, 0]) & (L <= g.intervals[k, :, 1])).all(1))
        assert np.array_equal(np.sort(inside), mine)


def test_3d_grid_cover_matches_keplermapper_cubes():
    import kmapper as km

    rng = np.random.default_rng(16)
    L = np.c_[rng.uniform(-3, 5, 300), rng.normal(0, 2, 300), rng.exponential(1.0, 300)]
    g = build_mapper(rng.normal(size=(300, 4)).astype(np.float32),
                     MapperParams(lens=L, n_intervals=(3, 4, 2), overlap=0.3, eps=3.0, min_samples=2))
    cover = km.Cover(n_cubes=[3, 4, 2], perc_overlap=0.3)
    centres = np.array(cover.fit(np.c_[np.arange(300), L]))
    assert g.intervals.shape == (24, 3, 2)
    np.testing.assert_allclose(g.intervals[:, :, 0], centres - cover.radius_)
    np.testing.assert_allclose(g.intervals[:, :, 1], centres + cover.radius_)


def test_default_intervals_follow_the_number_of_inputs_for_a_1d_lens():
    from napari_topoalign.mapper import default_intervals

    assert [default_intervals(n, 1) for n in (10, 480, 600, 900, 10**6)] == [8, 8, 10, 15, 15]
    assert (default_intervals(10**6, 2), default_intervals(10**6, 3)) == (10, 5)


def test_auto_lens_is_pca_for_planar_data_and_pca3_for_spread_variance():
    rng = np.random.default_rng(17)
    ring = embed(circle(1500, rng), 32, rng, 0.02)  # a curve: the first two components hold ~all variance
    g = build_mapper(ring)
    assert g.params.lens == "pca" and g.params.n_intervals == 15 and g.lens.shape == (1500,)  # N / 60 = 25, at most 15
    assert g.params.min_samples == 7  # floor(ln 1500)
    cloud = rng.normal(size=(1500, 32)).astype(np.float32)  # variance spread over 32 directions
    h = build_mapper(cloud)
    assert h.params.lens == "pca3" and h.params.n_intervals == 5 and h.lens.shape == (1500, 3)
    assert h.intervals.shape == (125, 3, 2)
    explicit = build_mapper(cloud, MapperParams(lens="pca3", n_intervals=5))
    assert as_sets(explicit.members) == as_sets(h.members)


@pytest.mark.parametrize("cover", ["uniform", "balanced"])
@pytest.mark.parametrize("lens,counts", [("pca2", (5, 4)), ("pca3", (4, 3, 2))])
def test_grid_nodes_and_edges_equal_brute_force_nerve(cover, lens, counts):
    rng = np.random.default_rng(14)
    X = embed(np.r_[circle(500, rng), circle(300, rng, (3.0, 0.0))], 5, rng, 0.05)
    p = MapperParams(lens=lens, n_intervals=counts, overlap=0.4, eps=0.3, min_samples=4, cover=cover)
    g = build_mapper(X, p)
    assert g.intervals.shape == (np.prod(counts), len(counts), 2)
    nodes = []
    for k in range(len(g.intervals)):
        idx = element_points(g, k)
        if len(idx):
            labels = DBSCAN(eps=0.3, min_samples=4).fit_predict(X[idx])
            nodes += sorted((idx[labels == lab] for lab in np.unique(labels[labels >= 0])), key=lambda m: m[0])
    assert len(g.members) == len(nodes) > 20
    assert all(np.array_equal(a, b) for a, b in zip(g.members, nodes))
    edges = {(i, j) for i in range(len(nodes)) for j in range(i + 1, len(nodes)) if np.intersect1d(nodes[i], nodes[j]).size}
    assert {tuple(map(int, e)) for e in g.edges} == edges


# --------------------------------------------------------------------------- uncovered inputs and faithfulness


def test_many_uncovered_inputs_warn_with_fraction_and_advice():
    rng = np.random.default_rng(15)
    X = np.r_[rng.normal(size=(300, 3)) * 0.1, rng.uniform(-40, 40, size=(100, 3))].astype(np.float32)
    with pytest.warns(UncoveredInputsWarning, match=r"2\d% of the inputs .* raise eps") as record:
        g = build_mapper(X, MapperParams(eps=0.2, n_intervals=4))
    assert 0.2 < g.uncovered_fraction < 0.3
    assert g.coverage_warning() == str(record[0].message)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = build_mapper(X[:300], MapperParams(n_intervals=4))
    assert g.coverage_warning() is None


def _path_graph(n_covered, n_inputs, broken_at=None):
    members = [np.array([i]) for i in range(n_covered)]
    edges = np.array([(i, i + 1) for i in range(n_covered - 1) if i + 1 != broken_at], dtype=np.int64).reshape(-1, 2)
    return MapperGraph(members, edges, np.ones(len(edges)), np.zeros((1, 2)), np.zeros(n_covered, int),
                       np.zeros(n_inputs), n_inputs, np.arange(n_covered, n_inputs))


def test_faithfulness_known_answers():
    X = np.c_[np.arange(100.0), np.zeros(100)]
    assert graph_faithfulness(X, _path_graph(100, 100)) == pytest.approx(1.0)  # hops equal distances
    assert graph_faithfulness(X[::-1] ** 0.5 * 0 + X[:, ::-1], _path_graph(100, 100)) == pytest.approx(1.0)
    # a cut path: pairs across the cut are infinitely far, ranked above every finite hop count
    cut = graph_faithfulness(X, _path_graph(100, 100, broken_at=50))
    assert 0.5 < cut < 1.0
    # leaving inputs out never raises the number: half the inputs covered keeps ~1/4 of the pairs
    half = graph_faithfulness(X, _path_graph(50, 100))
    assert half == pytest.approx(0.25, abs=0.02)
    # a graph that ignores the data: a random order along the path
    shuffled = np.random.default_rng(0).permutation(100)
    assert abs(graph_faithfulness(X[shuffled], _path_graph(100, 100))) < 0.1


def test_faithfulness_of_default_graph_on_a_line_is_high():
    rng = np.random.default_rng(16)
    t = rng.uniform(0, 10, 2000)
    X = embed(np.c_[t, np.zeros_like(t)], 16, rng, 0.02)
    assert graph_faithfulness(X, build_mapper(X)) > 0.8
