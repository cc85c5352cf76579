"""align_chain, Chain (file format, scores, tracks) and chain_layout on planted chains of known topology."""

import numpy as np
import pytest
import torch

import napari_topoalign as ta
from napari_topoalign import chain as chain_module
from napari_topoalign.errors import FileFormatError, InputShapeError, ParameterError

LOOP_FROM = 2
N_LAYERS = 5
PARAMS = ta.MapperParams(lens="pca", n_intervals=8, overlap=0.3, eps=0.25)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def planted_layers(n=240, n_layers=N_LAYERS, loop_from=LOOP_FROM, seed=0):
    """Layers of the same inputs on a closed curve: an open arc (0.6 of a circle) before ``loop_from``,
    the full circle from it on; each layer noisy and randomly rotated in 5-D."""
    rng = np.random.default_rng(seed)
    theta = np.sort(rng.uniform(0, 2 * np.pi, n))
    layers = []
    for k in range(n_layers):
        a = (1.0 if k >= loop_from else 0.6) * theta
        X = np.column_stack([np.cos(a), np.sin(a), 0.02 * rng.normal(size=(n, 3))]) + 0.01 * rng.normal(size=(n, 5))
        layers.append((X @ np.linalg.qr(rng.normal(size=(5, 5)))[0]).astype(np.float32))
    return layers


@pytest.fixture(scope="module")
def layers():
    return planted_layers()


@pytest.fixture(scope="module")
def chain(layers):
    return ta.align_chain(layers, PARAMS, iterations=80, device="cpu")


def test_chain_shapes_and_pairs(chain, layers):
    assert len(chain) == N_LAYERS and chain.names == tuple(f"R{i}" for i in range(N_LAYERS))
    assert chain.pairs == [(i, i + 1) for i in range(N_LAYERS - 1)]
    for G, pos in zip(chain.graphs, chain.positions):
        assert pos.shape == (G.n_nodes, 2) and pos.dtype == np.float32 and np.isfinite(pos).all()
    for (i, j), al in zip(chain.pairs, chain.alignments):
        assert al.graph_a is chain.graphs[i] and al.graph_b is chain.graphs[j]  # each graph built once, shared
        assert al.names == (chain.names[i], chain.names[j])
        np.testing.assert_array_equal(al.layout.pos_a, chain.positions[i])
        np.testing.assert_allclose(al.layout.pos_b - al.layout.offset, chain.positions[j], atol=1e-4)
        assert al.layout.pos_b[:, 0].min() > al.layout.pos_a[:, 0].max()  # side by side, as align draws them


def test_each_graph_is_built_once(layers, monkeypatch):
    calls = []
    build = ta.build_mapper

    def counting(X, params=ta.MapperParams()):
        calls.append(X.shape)
        return build(X, params)

    monkeypatch.setattr("napari_topoalign.mapper.build_mapper", counting)
    ch = ta.align_chain(layers, PARAMS, pairs="all", iterations=5, device="cpu")
    assert len(calls) == N_LAYERS
    assert len(ch.alignments) == N_LAYERS * (N_LAYERS - 1) // 2


def test_pair_results_equal_align_on_the_same_graphs(chain, layers):
    """Regions and scores of each pair are exactly what ``align`` gives on those two graphs."""
    for (i, j), al in zip(chain.pairs, chain.alignments):
        ref = ta.align(layers[i], layers[j], graphs=(chain.graphs[i], chain.graphs[j]), iterations=2, device="cpu")
        assert al.scores == ref.scores
        assert al.regions == ref.regions
        assert (al.correspondence != ref.correspondence).nnz == 0


def test_scores_table_has_every_pair_and_the_geometric_baselines(chain):
    table = chain.scores
    assert list(table.index) == [f"R{i} → R{i + 1}" for i in range(N_LAYERS - 1)]
    assert {"cka", "mutual_knn"} <= set(table.columns)
    assert set(chain.alignments[0].scores) == set(table.columns)
    assert table.loc["R0 → R1", "cka"] == chain.alignments[0].scores["cka"]
    # the arc -> circle step changes the organisation most
    assert table["topology"].idxmin() == f"R{LOOP_FROM - 1} → R{LOOP_FROM}"


@pytest.mark.parametrize("pairs, expected", [
    ("to_last", [(0, 3), (1, 3), (2, 3)]),
    ("all", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),
    ([(0, 2), (3, 1)], [(0, 2), (3, 1)]),
])
def test_pairs(layers, pairs, expected):
    ch = ta.align_chain(layers[:4], PARAMS, pairs=pairs, names=list("abcd"), iterations=5, device="cpu")
    assert ch.pairs == expected
    assert [al.names for al in ch.alignments] == [(ch.names[i], ch.names[j]) for i, j in expected]


def test_positions_change_smoothly(chain):
    """Consecutive positions of matched nodes (overlap >= 0.5) lie far closer than those of unmatched pairs."""
    for i, al in enumerate(chain.alignments):
        a, b = chain.positions[i], chain.positions[i + 1]
        C = al.correspondence.toarray()
        d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
        matched, unmatched = d[C >= 0.5], d[C == 0]
        assert len(matched) and len(unmatched)
        assert np.median(matched) < 0.3 * np.median(unmatched), (i, np.median(matched), np.median(unmatched))


def test_coupling_is_what_keeps_positions_together(layers):
    """Oracle for the coupling: laid out without correspondences (empty couplings), the matched nodes of
    consecutive graphs drift apart far more than with them."""
    import scipy.sparse as sp

    graphs = [ta.build_mapper(X, PARAMS) for X in layers[LOOP_FROM:]]
    coupled = ta.chain_layout(graphs, iterations=80, device="cpu")
    empty = [sp.csr_matrix((A.n_nodes, B.n_nodes)) for A, B in zip(graphs[:-1], graphs[1:])]
    free = ta.chain_layout(graphs, empty, iterations=80, device="cpu")

    def gap(pos):
        C = ta.correspondence(graphs[0], graphs[1]).toarray()
        i, j = np.nonzero(C >= 0.5)
        return np.linalg.norm(pos[0][i] - pos[1][j], axis=1).mean()

    assert gap(coupled.positions) < 0.5 * gap(free.positions)


def test_loop_track_appears_at_the_known_layer(chain):
    loops = chain.tracks("loop")
    assert len(loops) == 1
    assert loops[0].start == LOOP_FROM and loops[0].stop == N_LAYERS - 1
    assert loops[0].split_from is None and loops[0].merges_into is None
    # no graph before LOOP_FROM has a loop, each from it on has exactly one
    assert [len(ta.find_motifs(G, "loop")) for G in chain.graphs] == [0] * LOOP_FROM + [1] * (N_LAYERS - LOOP_FROM)
    table = chain.track_table("loop")
    assert table.loc[0, "appears in"] == f"R{LOOP_FROM}" and table.loc[0, "last in"] == f"R{N_LAYERS - 1}"


def test_region_tracks_follow_the_regions(chain):
    tracks = chain.tracks("region")
    # a region may break where the arc closes into a circle (the planted change); one reaches the end
    assert tracks and tracks[0].start == 0 and max(t.stop for t in tracks) == N_LAYERS - 1
    r = chain.alignments[0].regions[0]
    assert set(r.nodes_a) <= set(tracks[0].nodes[0]) and set(r.nodes_b) <= set(tracks[0].nodes[1])
    for t in range(N_LAYERS - 1):
        ids = chain.item_tracks(t)
        assert len(ids) == len(chain.alignments[t].regions) and (ids >= 0).all()
    labels = chain.node_tracks("region")
    assert [len(lab) for lab in labels] == [G.n_nodes for G in chain.graphs]
    assert (labels[0][tracks[0].nodes[0]] == 0).all()


def test_tracks_split_and_merge():
    """Hand-made steps: one structure splits in two, which merge again."""
    whole, left, right = np.arange(100), np.arange(60), np.arange(50, 100)
    steps = [[({0: np.array([0])}, whole)],
             [({1: np.array([0])}, left), ({1: np.array([1])}, right)],
             [({2: np.array([0, 1])}, whole)]]
    tracks = chain_module._follow(steps, "branch", 100, 0.3)
    assert [(t.start, t.stop) for t in tracks] == [(0, 2), (1, 1)]
    assert tracks[1].split_from == 0 and tracks[1].merges_into == 0
    assert tracks[0].split_from is None and tracks[0].merges_into is None
    assert tracks[0].items == [(0, 0), (1, 0), (2, 0)] and tracks[1].items == [(1, 1)]
    # below the overlap threshold nothing links: each structure is its own track
    assert len(chain_module._follow(steps, "branch", 100, 0.7)) == 4


def test_save_load_round_trip(chain, tmp_path):
    path = chain.save(tmp_path / "chain.npz")
    back = ta.Chain.load(path)
    assert back.names == chain.names and back.pairs == chain.pairs and back.device == chain.device
    np.testing.assert_array_equal(back.energy, chain.energy)
    for g, h in zip(chain.graphs, back.graphs):
        assert len(g.members) == len(h.members) and all(np.array_equal(m, n) for m, n in zip(g.members, h.members))
        np.testing.assert_array_equal(g.edges, h.edges)
        np.testing.assert_array_equal(g.lens, h.lens)
        assert g.params == h.params
    for p, q in zip(chain.positions, back.positions):
        np.testing.assert_array_equal(p, q)
    for a, b in zip(chain.alignments, back.alignments):
        assert a.scores == b.scores and a.regions == b.regions and a.names == b.names
        assert (a.correspondence != b.correspondence).nnz == 0
        np.testing.assert_array_equal(a.layout.pos_b, b.layout.pos_b)
    assert back.scores.equals(chain.scores)
    assert back.track_table("loop").equals(chain.track_table("loop"))
    with np.load(path, allow_pickle=False) as z:  # plain arrays only
        assert all(z[k].dtype != object for k in z.files)


def test_round_trip_with_a_lens_array(layers, tmp_path):
    ch = ta.align_chain(layers[:3], PARAMS, shared_lens=True, iterations=5, device="cpu")
    np.testing.assert_array_equal(ch.graphs[2].params.lens, ch.graphs[0].lens)
    back = ta.Chain.load(ch.save(tmp_path / "c.npz"))
    np.testing.assert_array_equal(back.graphs[2].params.lens, ch.graphs[0].lens)


def test_load_rejects_other_and_damaged_files(chain, layers, tmp_path):
    al = ta.align(layers[0], layers[1], PARAMS, iterations=2, device="cpu")
    with pytest.raises(FileFormatError, match="not a napari-topoalign chain"):
        ta.Chain.load(al.save(tmp_path / "al.npz"))
    with pytest.raises(FileFormatError, match="not a napari-topoalign alignment"):
        ta.Alignment.load(chain.save(tmp_path / "c.npz"))
    data = (tmp_path / "c.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError):
        ta.Chain.load(tmp_path / "cut.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "pos1"}
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(FileFormatError, match="pos1"):
        ta.Chain.load(tmp_path / "missing.npz")


def test_representations_as_dict_or_representation_objects(layers):
    ch = ta.align_chain({"early": layers[0], "late": layers[3]}, PARAMS, iterations=2, device="cpu")
    assert ch.names == ("early", "late")
    reps = [ta.Representation(layers[0], "x"), ta.Representation(layers[1], "y")]
    assert ta.align_chain(reps, PARAMS, iterations=2, device="cpu").names == ("x", "y")


def test_bad_input_says_what_to_fix(layers):
    with pytest.raises(InputShapeError, match="at least two"):
        ta.align_chain(layers[:1], PARAMS)
    with pytest.raises(InputShapeError):
        ta.align_chain([layers[0], layers[1][:-1]], PARAMS)
    with pytest.raises(InputShapeError, match="names"):
        ta.align_chain(layers[:3], PARAMS, names=["a", "b"])
    with pytest.raises(InputShapeError, match="differ"):
        ta.align_chain(layers[:2], PARAMS, names=["a", "a"])
    with pytest.raises(ParameterError, match="pairs"):
        ta.align_chain(layers[:3], PARAMS, pairs="neighbours")
    with pytest.raises(ParameterError, match="pair"):
        ta.align_chain(layers[:3], PARAMS, pairs=[(0, 3)])
    with pytest.raises(ParameterError, match="one per representation"):
        ta.align_chain(layers[:3], [PARAMS, PARAMS])
    with pytest.raises(ParameterError, match="track kind"):
        ta.align_chain(layers[:2], PARAMS, iterations=1, device="cpu").tracks("ring")


# ---------------------------------------------------------------------- CLI and report
FAST_CLI = ["--lens", "pca", "--intervals", "8", "--overlap", "0.3", "--eps", "0.25", "--iterations", "30",
            "--device", "cpu"]


def _cli(argv):
    from napari_topoalign.cli import main

    return main(argv)


def test_cli_chain_of_files_writes_chain_and_report(layers, tmp_path, capsys):
    files = []
    for i, X in enumerate(layers):
        files.append(str(tmp_path / f"L{i}.npy"))
        np.save(files[-1], X)
    out = tmp_path / "out"
    assert _cli(["chain", *files, "--out", str(out), *FAST_CLI]) == 0
    ch = ta.Chain.load(out / "chain.npz")
    assert ch.names == tuple(f"L{i}" for i in range(N_LAYERS)) and ch.pairs == [(i, i + 1) for i in range(N_LAYERS - 1)]
    assert [t.start for t in ch.tracks("loop")] == [LOOP_FROM]
    text = (out / "report.html").read_text()
    for part in ("Scores by pair", "Tracked regions", "Tracked motifs", "L0 → L1", "chain_graphs.png"):
        assert part in text
    assert (out / "chain_scores.png").stat().st_size > 0 and (out / "chain_graphs.png").stat().st_size > 0
    assert "topoalign: error" not in capsys.readouterr().err


def test_cli_chain_from_one_npz_and_keys(layers, tmp_path):
    np.savez(tmp_path / "model.npz", **{f"layer{i}": X for i, X in enumerate(layers)},
             labels=np.repeat(["a", "b"], len(layers[0]) // 2))
    out = tmp_path / "out"
    assert _cli(["chain", str(tmp_path / "model.npz"), "--keys", "layer3,layer1,layer0", "--pairs", "all",
                 "--out", str(out), *FAST_CLI]) == 0
    ch = ta.Chain.load(out / "chain.npz")
    assert ch.names == ("layer3", "layer1", "layer0") and ch.pairs == [(0, 1), (0, 2), (1, 2)]


def test_cli_chain_from_h5ad_obsm(layers, tmp_path):
    anndata = pytest.importorskip("anndata")
    adata = anndata.AnnData(X=layers[0], obsm={f"layer{i}": X for i, X in enumerate(layers[1:], 1)})
    adata.write_h5ad(tmp_path / "cells.h5ad")
    out = tmp_path / "out"
    assert _cli(["chain", str(tmp_path / "cells.h5ad"), "--out", str(out), *FAST_CLI]) == 0
    assert ta.Chain.load(out / "chain.npz").names == ("X", *(f"layer{i}" for i in range(1, N_LAYERS)))


def test_cli_chain_errors(layers, tmp_path, capsys):
    """User mistakes: exit code 2, one line."""
    np.save(tmp_path / "one.npy", layers[0])
    assert _cli(["chain", str(tmp_path / "one.npy"), "--out", str(tmp_path / "o")]) == 2
    assert "at least two representations" in capsys.readouterr().err
    assert _cli(["chain", str(tmp_path / "one.npy"), "--sample", "sentences_layers", "--out", str(tmp_path)]) == 2
    assert "not both" in capsys.readouterr().err
    np.save(tmp_path / "short.npy", layers[1][:-3])
    assert _cli(["chain", str(tmp_path / "one.npy"), str(tmp_path / "short.npy"), "--out", str(tmp_path)]) == 2
    assert "topoalign: error" in capsys.readouterr().err
    assert _cli(["chain", str(tmp_path / "one.npy"), str(tmp_path / "one.npy"), "--keys", "nope",
                 "--out", str(tmp_path)]) == 2
    assert "no representation named 'nope'" in capsys.readouterr().err


def test_chain_report_lists_tracks_with_labels(chain, tmp_path):
    from types import SimpleNamespace

    from napari_topoalign.report import write_chain_report

    labels = np.where(np.arange(chain.n_inputs) < chain.n_inputs // 2, "first half", "second half")
    path = write_chain_report(chain, tmp_path, inputs=SimpleNamespace(labels=labels))
    text = path.read_text()
    assert "dominant labels" in text and "first half" in text
    assert text.count("<tr>") >= 1 + (N_LAYERS - 1) + len(chain.tracks("region")) + len(chain.tracks("loop"))


def test_neighbours_are_computed_once_per_representation(layers, monkeypatch):
    from napari_topoalign import neighbours

    calls = []
    compute = neighbours._nearest

    def counting(Z, k, queries):
        calls.append((Z.shape, k, queries is None))
        return compute(Z, k, queries)

    monkeypatch.setattr(neighbours, "_nearest", counting)
    ch = ta.align_chain(layers, PARAMS, iterations=2, device="cpu")
    assert sum(all_rows for *_, all_rows in calls) == N_LAYERS  # 2 (N - 1) without reuse
    assert ch.alignments[1].scores["mutual_knn"] == ta.mutual_knn(layers[1], layers[2], k=10)
    # outside the chain nothing is kept
    calls.clear()
    ta.mutual_knn(layers[0], layers[1])
    ta.mutual_knn(layers[0], layers[1])
    assert len(calls) == 4


def test_region_tracks_without_consecutive_pairs(layers):
    """With pairs="to_last" the tracks still follow the regions of consecutive representations."""
    ch = ta.align_chain(layers, PARAMS, pairs="to_last", iterations=5, device="cpu")
    assert (0, 1) not in ch.pairs
    regions = ch.consecutive_regions(0)
    assert regions and ch.consecutive_regions(0) is regions  # computed once
    ref = ta.find_matching_regions(ch.graphs[0], ch.graphs[1])
    assert regions == ref
    assert [t.start for t in ch.tracks("region")][0] == 0
