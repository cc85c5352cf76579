import numpy as np
import pytest
from layout_graphs import curve_graph, graph_from_members
from planted import circle_pair, clusters_pair
from scipy.stats import ortho_group

from napari_topoalign.correspond import correspondence
from napari_topoalign.errors import InputShapeError, InvalidValuesError, ParameterError
from napari_topoalign.mapper import build_mapper
from napari_topoalign.metrics import (
    alignment_scores,
    hop_agreement,
    input_pairs,
    linear_cka,
    mutual_knn,
    procrustes_similarity,
    topology_score,
)


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


def test_mutual_knn_of_a_rotated_copy_is_exactly_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 16))
    Q = ortho_group.rvs(16, random_state=0)
    assert mutual_knn(X, X @ Q) == 1.0
    assert mutual_knn(X, 3.0 * X @ Q - 2.0, k=5) == 1.0
    assert mutual_knn(X.astype(np.float32), (X @ Q).astype(np.float32)) == 1.0
    # exact ties (repeated inputs on a grid) are broken by input index on both sides alike
    G = np.stack(np.meshgrid(np.arange(12.0), np.arange(12.0)), -1).reshape(-1, 2)
    G = np.concatenate([G, G[:40]])
    assert mutual_knn(G, G @ ortho_group.rvs(2, random_state=3) * 7.0, k=6) == 1.0


def test_procrustes_similarity_known_answers():
    from scipy.linalg import orthogonal_procrustes

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 6))
    Q = ortho_group.rvs(6, random_state=2)
    assert procrustes_similarity(X, 2.5 * X @ Q + 3.0) == pytest.approx(1.0, abs=1e-9)
    Y = X @ rng.normal(size=(6, 6)) + rng.normal(size=(400, 6))
    # oracle: 1 - half the squared distance after the best rotation, both sides centred and unit-norm
    Xn, Yn = X - X.mean(0), Y - Y.mean(0)
    Xn, Yn = Xn / np.linalg.norm(Xn), Yn / np.linalg.norm(Yn)
    R, _ = orthogonal_procrustes(Yn, Xn)
    assert procrustes_similarity(X, Y) == pytest.approx(1 - 0.5 * np.linalg.norm(Yn @ R - Xn) ** 2, rel=1e-9)
    assert procrustes_similarity(rng.normal(size=(4000, 5)), rng.normal(size=(4000, 5))) < 0.1
    with pytest.raises(InvalidValuesError):
        procrustes_similarity(np.ones((10, 3)), X[:10])


def test_input_pairs():
    i, j = input_pairs(6, n_pairs=100)
    assert len(i) == 15 and set(zip(i.tolist(), j.tolist())) == {(a, b) for a in range(6) for b in range(a + 1, 6)}
    i, j = input_pairs(1000, n_pairs=5000, seed=3)
    assert len(i) == 5000 and not np.any(i == j) and j.max() == 999
    i2, j2 = input_pairs(1000, n_pairs=5000, seed=3)
    assert np.array_equal(i, i2) and np.array_equal(j, j2)


def test_hop_agreement_is_spearman_with_unreachable_last():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a = rng.integers(0, 8, 300).astype(float)
    b = a + rng.integers(0, 5, 300)
    assert hop_agreement(a, b) == pytest.approx(spearmanr(a, b)[0])
    a[:20], b[10:30] = np.inf, np.inf
    assert hop_agreement(a, b) == pytest.approx(spearmanr(np.where(np.isinf(a), 99, a), np.where(np.isinf(b), 99, b))[0])
    assert hop_agreement(a, a) == 1.0
    assert hop_agreement(np.zeros(5), np.arange(5.0)) == 0.0
    assert hop_agreement(np.arange(5.0), -np.arange(5.0)) == 0.0  # anti-correlated: clipped


def test_topology_score_controls():
    X, _, _ = circle_pair(cut=False, seed=0)
    A = build_mapper(X)
    Q = ortho_group.rvs(X.shape[1], random_state=4)
    assert topology_score(A, build_mapper(3.0 * X @ Q + 1.0)) >= 0.95  # rotated, rescaled, moved copy
    shuffled = build_mapper(X[np.random.default_rng(0).permutation(len(X))])  # same shape, other inputs
    assert topology_score(A, shuffled) <= 0.2
    assert topology_score(A, A) == 1.0
    assert topology_score(A, shuffled) == topology_score(A, shuffled)  # deterministic
    with pytest.raises(InputShapeError):
        topology_score(A, graph_from_members([[0, 1]], 2))
    with pytest.raises(ParameterError):
        topology_score(A, A, n_pairs=0)


@pytest.mark.parametrize("make, flag", [(circle_pair, "cut"), (clusters_pair, "bridged")])
def test_topology_score_sees_what_cka_misses(make, flag):
    # a loop cut open / two clusters joined by a bridge: CKA barely moves, the topology score drops
    X_a, X_same, _ = make(**{flag: False}, seed=1)
    _, X_changed, changed = make(**{flag: True}, seed=1)
    A = build_mapper(X_a)
    same, other = topology_score(A, build_mapper(X_same)), topology_score(A, build_mapper(X_changed))
    cka_drop = linear_cka(X_a, X_same) - linear_cka(X_a, X_changed)
    print(f"{flag}: topology {same:.3f} -> {other:.3f}; CKA drop {cka_drop:.3f}")
    assert same >= 0.95 and same - other >= 0.05 and same - other > 3 * cka_drop
    assert len(changed) > 0


def test_alignment_scores():
    rng = np.random.default_rng(0)
    A = curve_graph(30)
    X = rng.normal(size=(A.n_inputs, 8))
    s = alignment_scores(X, X, A, A, correspondence(A, A))
    assert set(s) == {"topology", "cka", "procrustes", "mutual_knn"}
    assert all(v == pytest.approx(1.0) for v in s.values())
    assert set(alignment_scores(None, None, A, A)) == {"topology"}
    with pytest.raises(InputShapeError):
        alignment_scores(X, X[:-1], A, A)
    with pytest.raises(InputShapeError):
        alignment_scores(None, None, A, A, np.ones((2, 2)))
