import json

import numpy as np
import pytest
import scipy.sparse as sp
from shapely.geometry import Point

from napari_topoalign.alignment import FORMAT_VERSION, Alignment, align
from napari_topoalign.errors import EmptyInputError, FileFormatError, InputShapeError, InvalidValuesError
from napari_topoalign.mapper import MapperParams

PARAMS = MapperParams(lens="pca", n_intervals=8, overlap=0.4)


def noisy_circles(n=240, seed=0):
    """A circle in 2-D and the same circle, rotated, scaled and noisier, in 5-D."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    X_a = np.c_[np.cos(t), np.sin(t)] + 0.05 * rng.normal(size=(n, 2))
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    X_b = 3.0 * np.c_[np.cos(t), np.sin(t), np.zeros((n, 3))] @ Q + 0.08 * rng.normal(size=(n, 5))
    return X_a.astype(np.float32), X_b.astype(np.float32)


@pytest.fixture(scope="module")
def circles():
    return noisy_circles()


@pytest.fixture(scope="module")
def alignment(circles):
    return align(*circles, PARAMS, device="cpu", iterations=60, names=("early", "late"))


def test_fields(alignment, circles):
    al = alignment
    n = len(circles[0])
    assert al.names == ("early", "late")
    assert al.graph_a.n_inputs == al.graph_b.n_inputs == n
    assert al.graph_a.n_nodes > 3 and al.graph_b.n_nodes > 3
    assert sp.issparse(al.correspondence)
    assert al.correspondence.shape == (al.graph_a.n_nodes, al.graph_b.n_nodes)
    assert al.layout.pos_a.shape == (al.graph_a.n_nodes, 2)
    assert al.layout.pos_b.shape == (al.graph_b.n_nodes, 2)
    assert al.scores and all(isinstance(v, float) for v in al.scores.values())
    assert len(al.regions) >= 1
    # two noisy views of one circle: a good part of the inputs lie in matching regions
    assert len(al.matched_inputs()) > 0.3 * n
    assert "early" in al.summary() and "matching regions" in al.summary()


def test_same_data_up_to_exact_isometry_gives_same_graphs():
    X, _ = noisy_circles(200, seed=1)
    X3 = np.c_[X, 0.3 * X[:, :1]]
    Y = 2.0 * X3[:, [2, 0, 1]] * np.array([1, -1, 1], np.float32)  # exact in float: permute, flip, scale by 2
    al = align(X3, Y, PARAMS, device="cpu", iterations=30)
    assert al.graph_a.n_nodes == al.graph_b.n_nodes
    for ma, mb in zip(al.graph_a.members, al.graph_b.members):
        np.testing.assert_array_equal(ma, mb)
    covered = np.setdiff1d(np.arange(len(X)), al.graph_a.uncovered)
    assert len(np.intersect1d(al.matched_inputs(), covered)) >= 0.9 * len(covered)


def test_progress_and_callback(circles):
    stages, iterations = [], []
    align(*circles, PARAMS, device="cpu", iterations=30,
          progress=lambda s, f: stages.append((s, f)), callback=lambda i, a, b: iterations.append(i))
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and stages[-1] == ("done", 1.0)
    assert {"correspondence", "layout", "regions"} <= {s for s, _ in stages}
    assert iterations


def test_lens_array_used_for_both(circles):
    lens = np.arctan2(circles[0][:, 1], circles[0][:, 0]).astype(np.float64)
    al = align(*circles, MapperParams(lens=lens, n_intervals=6), device="cpu", iterations=20)
    np.testing.assert_allclose(al.graph_a.lens, lens)
    np.testing.assert_allclose(al.graph_b.lens, lens)


def test_bubbles_cover_members_and_are_cached(alignment):
    polys = alignment.bubbles()
    assert len(polys) == len(alignment.regions)
    for region, (pa, pb, band) in zip(alignment.regions, polys):
        assert pa.is_valid and pb.is_valid and not band.is_empty
        for i in region.nodes_a:
            assert pa.buffer(1e-6).contains(Point(alignment.layout.pos_a[i]))
        for i in region.nodes_b:
            assert pb.buffer(1e-6).contains(Point(alignment.layout.pos_b[i]))
    assert alignment.bubbles() is polys


def assert_alignments_equal(x: Alignment, y: Alignment):
    assert x.names == y.names
    for ga, gb in ((x.graph_a, y.graph_a), (x.graph_b, y.graph_b)):
        assert ga.n_inputs == gb.n_inputs
        assert len(ga.members) == len(gb.members)
        for m1, m2 in zip(ga.members, gb.members):
            np.testing.assert_array_equal(m1, m2)
        for name in ("edges", "edge_weight", "intervals", "node_interval", "lens", "uncovered"):
            np.testing.assert_array_equal(getattr(ga, name), getattr(gb, name))
        for name in ("n_intervals", "overlap", "cover", "clusterer", "eps", "min_samples", "metric"):
            assert getattr(ga.params, name) == getattr(gb.params, name)
        np.testing.assert_array_equal(np.asarray(ga.params.lens), np.asarray(gb.params.lens))
    assert (x.correspondence != y.correspondence).nnz == 0
    np.testing.assert_array_equal(x.correspondence.toarray(), y.correspondence.toarray())
    for name in ("pos_a", "pos_b", "offset", "energy"):
        np.testing.assert_array_equal(getattr(x.layout, name), getattr(y.layout, name))
    assert (x.layout.device, x.layout.mode) == (y.layout.device, y.layout.mode)
    assert len(x.regions) == len(y.regions)
    for r1, r2 in zip(x.regions, y.regions):
        assert r1.score == r2.score
        for name in ("nodes_a", "nodes_b", "inputs"):
            np.testing.assert_array_equal(getattr(r1, name), getattr(r2, name))
    assert x.scores == y.scores


def test_save_load_round_trip(alignment, tmp_path):
    path = alignment.save(tmp_path / "al.npz")
    assert path == tmp_path / "al.npz" and path.is_file()
    assert_alignments_equal(alignment, Alignment.load(path))


def test_round_trip_with_lens_array(circles, tmp_path):
    lens = circles[0][:, 0].astype(np.float64)
    al = align(*circles, MapperParams(lens=lens, n_intervals=5), mode="overlay", device="cpu", iterations=15)
    loaded = Alignment.load(al.save(tmp_path / "lens.npz"))
    assert isinstance(loaded.graph_a.params.lens, np.ndarray)
    assert_alignments_equal(al, loaded)


@pytest.mark.parametrize("lens", ["pca2", "array"])
def test_round_trip_with_a_2d_lens(circles, tmp_path, lens):
    lens = circles[0][:, :2].astype(np.float64) if lens == "array" else lens
    al = align(*circles, MapperParams(lens=lens, n_intervals=(4, 3)), mode="overlay", device="cpu", iterations=15)
    assert al.graph_a.lens.shape == (len(circles[0]), 2) and al.graph_a.intervals.shape == (12, 2, 2)
    loaded = Alignment.load(al.save(tmp_path / "lens2.npz"))
    assert loaded.graph_a.params.n_intervals == (4, 3)
    assert_alignments_equal(al, loaded)


def _rewrite(src, dst, change):
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(dst, **arrays)
    return dst


def _edit_header(**updates):
    def change(arrays):
        header = json.loads(str(arrays["header"][()]))
        header.update(updates)
        arrays["header"] = np.array(json.dumps(header))
    return change


@pytest.mark.parametrize(
    "damage, message",
    [
        ("truncated", "not a readable alignment"),
        ("text", "not a readable alignment"),
        ("npy", "single .npy"),
        ("missing", "missing array layout_pos_b"),
        ("bad_json", "bad JSON"),
        ("not_ours", "not a napari-topoalign alignment"),
        ("newer", "newer"),
        ("bad_offsets", "damaged"),
    ],
)
def test_damaged_files(alignment, tmp_path, damage, message):
    good = alignment.save(tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    if damage == "truncated":
        data = good.read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "text":
        bad.write_text("this is not an alignment\n")
    elif damage == "npy":
        with open(bad, "wb") as fh:
            np.save(fh, np.zeros(3))
    elif damage == "missing":
        _rewrite(good, bad, lambda a: a.pop("layout_pos_b"))
    elif damage == "bad_json":
        _rewrite(good, bad, lambda a: a.__setitem__("header", np.array("{not json")))
    elif damage == "not_ours":
        _rewrite(good, bad, _edit_header(format="something-else"))
    elif damage == "newer":
        _rewrite(good, bad, _edit_header(version=FORMAT_VERSION + 1))
    elif damage == "bad_offsets":
        _rewrite(good, bad, lambda a: a.__setitem__("a_members_offsets", a["a_members_offsets"][::-1].copy()))
    with pytest.raises(FileFormatError, match=message):
        Alignment.load(bad)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        Alignment.load(tmp_path / "nothing.npz")


def test_bad_inputs(circles):
    X_a, X_b = circles
    with pytest.raises(InputShapeError, match="inputs"):
        align(X_a, X_b[:-5], PARAMS)
    bad = X_b.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidValuesError, match="NaN"):
        align(X_a, bad, PARAMS)
    with pytest.raises(EmptyInputError):
        align(np.zeros((0, 2)), np.zeros((0, 3)), PARAMS)


def test_shared_lens_slices_b_by_a_lens(circles):
    al = align(*circles, PARAMS, device="cpu", iterations=20, shared_lens=True)
    np.testing.assert_array_equal(al.graph_b.lens, al.graph_a.lens)
    np.testing.assert_array_equal(al.graph_b.intervals, al.graph_a.intervals)
    own = align(*circles, PARAMS, device="cpu", iterations=20)
    assert not np.allclose(own.graph_b.lens, own.graph_a.lens)  # B's own PCA lens is on another scale
    # the same circle seen twice: with one cover, nodes of A find close twins in B
    best = al.correspondence.max(axis=1).toarray().mean()
    assert best > 0.55 and best > own.correspondence.max(axis=1).toarray().mean() + 0.1


def test_given_graphs_are_reused_not_rebuilt(circles, alignment, monkeypatch):
    import napari_topoalign.mapper as mapper_module

    A, B = alignment.graph_a, alignment.graph_b

    def no_rebuild(*args, **kwargs):
        raise AssertionError("align rebuilt graphs it was given")

    monkeypatch.setattr(mapper_module, "build_mapper", no_rebuild)
    al = align(*circles, device="cpu", iterations=60, names=("early", "late"), graphs=(A, B))
    assert al.graph_a is A and al.graph_b is B
    # the same result as building them from their parameters
    np.testing.assert_array_equal(al.correspondence.toarray(), alignment.correspondence.toarray())
    np.testing.assert_array_equal(al.layout.pos_a, alignment.layout.pos_a)
    assert al.scores == alignment.scores
    assert [r.score for r in al.regions] == [r.score for r in alignment.regions]


def test_given_graphs_must_fit_the_inputs(circles, alignment):
    X_a, X_b = circles
    with pytest.raises(InputShapeError, match="built from 240 inputs but the representations have 100"):
        align(X_a[:100], X_b[:100], graphs=(alignment.graph_a, alignment.graph_b))
    with pytest.raises(InputShapeError, match="pair"):
        align(X_a, X_b, graphs=(alignment.graph_a,))
