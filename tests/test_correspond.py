import numpy as np
import pytest
from layout_graphs import curve_graph, graph_from_members

from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import InputShapeError, InvalidValuesError, ParameterError
from napari_topoalign.correspond import as_correspondence


def _random_graph(rng, k, n):
    return graph_from_members([rng.choice(n, size=rng.integers(1, 12), replace=False) for _ in range(k)], n)


@pytest.mark.parametrize("measure", ["jaccard", "overlap"])
def test_matches_brute_force_sets(measure):
    rng = np.random.default_rng(1)
    A, B = _random_graph(rng, 30, 60), _random_graph(rng, 25, 60)
    C = correspondence(A, B, measure=measure)
    assert C.shape == (30, 25) and C.dtype == np.float64
    expected = np.zeros((30, 25))
    for i, a in enumerate(A.members):
        for j, b in enumerate(B.members):
            inter = len(set(a) & set(b))
            denom = len(set(a) | set(b)) if measure == "jaccard" else min(len(a), len(b))
            expected[i, j] = inter / denom
    np.testing.assert_allclose(C.toarray(), expected)
    assert C.nnz == np.count_nonzero(expected)


def test_identical_graphs_have_unit_diagonal():
    A = curve_graph(40)
    C = correspondence(A, A)
    np.testing.assert_allclose(C.diagonal(), 1.0)
    assert (C.data <= 1.0 + 1e-12).all()


def test_large_graphs():
    A = curve_graph(12000, width=6)
    B = curve_graph(12000, width=6, shift=1, n_inputs=A.n_inputs)
    C = correspondence(A, B)
    assert C.shape == (12000, 12000)
    assert np.allclose(C.max(axis=1).toarray(), 5 / 7)  # windows of 6 shifted by 1


def test_errors():
    A = curve_graph(10)
    with pytest.raises(ParameterError, match="measure"):
        correspondence(A, A, measure="cosine")
    with pytest.raises(InputShapeError, match="same inputs"):
        correspondence(A, curve_graph(10, n_inputs=50))
    with pytest.raises(InputShapeError, match="shape"):
        as_correspondence(A, A, np.ones((3, 3)))
    with pytest.raises(InvalidValuesError):
        as_correspondence(A, A, -np.ones((10, 10)))
