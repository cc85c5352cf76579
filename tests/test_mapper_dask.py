"""build_mapper on dask arrays equals the in-memory build (default scheduler and a 2-worker LocalCluster)."""

import numpy as np
import pytest

from napari_topoalign.errors import InvalidValuesError, ParameterError
from napari_topoalign.mapper import MapperParams, build_mapper

da = pytest.importorskip("dask.array")


def assert_same_graph(g, h):
    assert h.params == g.params
    assert h.n_nodes == g.n_nodes > 3
    assert all(np.array_equal(a, b) for a, b in zip(g.members, h.members))
    assert np.array_equal(g.node_interval, h.node_interval)
    assert np.array_equal(g.edges, h.edges) and np.allclose(g.edge_weight, h.edge_weight)
    assert np.array_equal(g.uncovered, h.uncovered)
    np.testing.assert_allclose(h.lens, g.lens, rtol=1e-12, atol=1e-12)


def two_rings(n, dim, seed):
    """Two noisy rings at different norms in ``dim`` dimensions, stored in shuffled order."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    Y = np.c_[np.cos(t), np.sin(t), np.where(np.arange(n) < n // 2, 2.0, 5.0)]
    Q = np.linalg.qr(rng.normal(size=(dim, 3)))[0]
    return (Y @ Q.T + 0.03 * rng.normal(size=(n, dim)))[rng.permutation(n)].astype(np.float32)


@pytest.mark.parametrize(
    "dim,params",
    [
        (5, MapperParams(lens="pca", n_intervals=12)),  # automatic eps, k-d tree pairs
        (24, MapperParams(n_intervals=12, lens="pca", eps=0.3, min_samples=4)),  # blocks
        (24, MapperParams(lens="pca", n_intervals=9, metric="cosine", cover="balanced", eps=0.01)),
        (24, MapperParams(n_intervals=8, lens="eccentricity", clusterer="single", eps=0.3)),
    ],
)
def test_default_scheduler_equals_in_memory(dim, params):
    X = two_rings(2500, dim, 0)
    assert_same_graph(build_mapper(X, params), build_mapper(da.from_array(X, chunks=(600, 7)), params))


def test_auto_lens_is_the_first_principal_component_for_dask_arrays():
    X = two_rings(1200, 24, 1)  # in memory, "auto" takes three components for these rings
    assert build_mapper(X).params.lens == "pca3"
    g = build_mapper(da.from_array(X, chunks=(400, 24)))
    assert g.params.lens == "pca" and g.params.n_intervals == 15  # N / 60 = 20, at most 15
    assert_same_graph(build_mapper(X, MapperParams(lens="pca")), g)


def test_local_cluster_equals_in_memory_and_loads_elements_in_waves():
    distributed = pytest.importorskip("distributed")
    from napari_topoalign.mapper_dask import build_mapper_dask

    X = two_rings(3000, 16, 1)
    lens = np.random.default_rng(2).permutation(np.linalg.norm(X, axis=1))  # a given lens array
    params = MapperParams(n_intervals=10, eps=0.3, lens=lens)
    expected = build_mapper(X, params)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        with distributed.Client(cluster):
            Xd = da.from_array(X, chunks=(500, 16))
            assert_same_graph(expected, build_mapper(Xd, params))
            assert_same_graph(expected, build_mapper_dask(Xd, params, wave=3))  # several passes over the chunks


def test_bad_dask_inputs_raise():
    X = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    X[7, 1] = np.nan
    with pytest.raises(InvalidValuesError, match="1 of 200 rows"):
        build_mapper(da.from_array(X, chunks=50), MapperParams(eps=0.5))
    with pytest.raises(ParameterError, match="density"):
        build_mapper(da.from_array(np.nan_to_num(X), chunks=50), MapperParams(lens="density"))
