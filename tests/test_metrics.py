import numpy as np
import pytest
from layout_graphs import curve_graph, graph_from_members, random_geometric
from scipy.stats import ortho_group

from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import InputShapeError, InvalidValuesError, ParameterError
from napari_topoalign.metrics import alignment_scores, edge_preservation, linear_cka, mutual_knn


def test_cka_rotation_and_scale_give_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 20))
    Q = ortho_group.rvs(20, random_state=1)
    assert linear_cka(X, 3.0 * X @ Q + 5.0) == pytest.approx(1.0, abs=1e-6)


def test_cka_independent_noise_is_near_zero():
    rng = np.random.default_rng(0)
    assert linear_cka(rng.normal(size=(4000, 10)), rng.normal(size=(4000, 10))) < 0.02


def test_cka_matches_kernel_formula():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(60, 5)), rng.normal(size=(60, 8))
    X[:, 0] += Y[:, 0]
    H = np.eye(60) - 1 / 60
    K, L = H @ X @ X.T @ H, H @ Y @ Y.T @ H
    hsic = lambda a, b: np.sum(a * b)  # noqa: E731
    assert linear_cka(X, Y) == pytest.approx(hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L)), rel=1e-6)


def test_mutual_knn_known_answers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 16))
    assert mutual_knn(X, X, k=10) == 1.0
    assert mutual_knn(X, 2 * X @ ortho_group.rvs(16, random_state=0), k=5) == pytest.approx(1.0)
    assert mutual_knn(X, rng.normal(size=(3000, 16)), k=10) < 0.02


def test_mutual_knn_matches_brute_force():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(80, 3)), rng.normal(size=(80, 3))
    Y[:, :2] = X[:, :2]
    k = 4

    def knn(Z):
        d = np.linalg.norm(Z[:, None] - Z[None], axis=2) + np.eye(len(Z)) * 1e9
        return np.argsort(d, axis=1)[:, :k]

    a, b = knn(X), knn(Y)
    expected = np.mean([len(set(a[i]) & set(b[i])) / k for i in range(80)])
    assert mutual_knn(X, Y, k=k) == pytest.approx(expected)


def test_geometric_score_errors():
    X = np.zeros((10, 3))
    with pytest.raises(InvalidValuesError):
        linear_cka(X, np.ones((10, 3)))
    with pytest.raises(InputShapeError):
        linear_cka(np.eye(10), np.eye(11)[:, :10])
    with pytest.raises(ParameterError):
        mutual_knn(np.eye(10), np.eye(10), k=10)
    with pytest.raises(InvalidValuesError):
        mutual_knn(np.full((10, 2), np.nan), np.eye(10))


def test_edge_preservation_known_answers():
    A = random_geometric(120, seed=1)
    assert edge_preservation(A, A) == pytest.approx(1.0)
    # a loop against the same loop cut open: only the edge over the cut is lost, seen from both sides
    loop = curve_graph(40)
    path = graph_from_members(loop.members[:-1] + [loop.members[-1][:1]], loop.n_inputs)
    score = edge_preservation(loop, path)
    assert 0.8 < score < 1.0
    # no correspondence at all: nothing is carried over
    assert edge_preservation(loop, loop, np.zeros((40, 40))) == 0.0
    # graphs without edges: trivially preserved
    dots = graph_from_members([[i] for i in range(5)], 5)
    assert edge_preservation(dots, dots) == 1.0


def test_edge_preservation_of_shuffled_graph_is_low():
    A = curve_graph(60)
    rng = np.random.default_rng(0)
    perm = rng.permutation(A.n_inputs)
    B = graph_from_members([perm[m] for m in A.members], A.n_inputs)  # same shape, inputs scrambled
    assert edge_preservation(A, B) < 0.3


def test_alignment_scores():
    rng = np.random.default_rng(0)
    A = curve_graph(30)
    X = rng.normal(size=(A.n_inputs, 8))
    s = alignment_scores(X, X, A, A, correspondence(A, A))
    assert set(s) == {"cka", "mutual_knn", "edge_preservation", "node_match"}
    assert all(v == pytest.approx(1.0) for v in s.values())
    s = alignment_scores(None, None, A, A)
    assert set(s) == {"edge_preservation", "node_match"}
    with pytest.raises(InputShapeError):
        alignment_scores(X, X[:-1], A, A)
    with pytest.raises(InputShapeError):
        alignment_scores(None, None, A, A, np.ones((2, 2)))
