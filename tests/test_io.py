"""Loaders round-trip every format and reject bad files with a TopoAlignError that says what to fix."""

import numpy as np
import pandas as pd
import pytest
import torch

from napari_topoalign.errors import (
    EmptyInputError,
    FileFormatError,
    InputShapeError,
    InvalidValuesError,
    MissingDependencyError,
    MissingFileError,
    TopoAlignError,
    TopoAlignWarning,
)
from napari_topoalign.io import (
    InputTable,
    Representation,
    load_inputs,
    load_representation,
    load_representations,
)

rng = np.random.default_rng(0)
X = rng.normal(size=(12, 5)).astype(np.float32)
Y = rng.normal(size=(12, 3)).astype(np.float32)
LABELS = np.array(list("aabbccddeeff"))


class Payload:
    """An arbitrary Python object: loading it would need unpickling."""


def _frame():
    df = pd.DataFrame(X.copy(), columns=[f"d{i}" for i in range(X.shape[1])])
    df.insert(0, "label", LABELS)
    df["text"] = [f"input number {i}" for i in range(len(X))]
    return df


# ----------------------------------------------------------------------------- round trips


def test_npy_round_trip(tmp_path):
    p = tmp_path / "emb.npy"
    np.save(p, X.astype(np.float64))
    rep = load_representation(p)
    assert rep.name == "emb" and rep.X.dtype == np.float32 and rep.metadata is None
    np.testing.assert_allclose(rep.X, X)
    assert load_representation(p, name="layer 3").name == "layer 3"


def test_npz_keys_and_all(tmp_path):
    p = tmp_path / "two.npz"
    np.savez(p, early=X, late=Y, labels=LABELS)
    np.testing.assert_array_equal(load_representation(p, key="late").X, Y)
    with pytest.raises(FileFormatError, match="early, late"):
        load_representation(p)
    with pytest.raises(FileFormatError, match="no array named 'mid'"):
        load_representation(p, key="mid")
    reps = load_representations(p)
    assert [r.name for r in reps] == ["early", "late"]
    np.testing.assert_array_equal(reps[0].X, X)
    # a single representation beside input arrays needs no key
    np.savez(tmp_path / "one.npz", emb=X, labels=LABELS)
    assert load_representation(tmp_path / "one.npz").name == "emb"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_table_round_trip(tmp_path, suffix):
    p = tmp_path / f"emb{suffix}"
    df = _frame()
    if suffix == ".parquet":
        df.to_parquet(p, index=False)
    else:
        df.to_csv(p, sep="\t" if suffix == ".tsv" else ",", index=False)
    with pytest.warns(TopoAlignWarning, match=r"5 numeric columns.*'label' \(its name\), 'text' \(its name\)"):
        rep = load_representation(p)
    np.testing.assert_allclose(rep.X, X, rtol=1e-6)
    assert list(rep.metadata.columns) == ["label", "text"]
    np.testing.assert_array_equal(rep.metadata["label"], LABELS)
    inputs = load_inputs(p)
    assert inputs.n_inputs == 12 and inputs.texts[3] == "input number 3"
    np.testing.assert_array_equal(inputs.labels, LABELS)


def test_csv_numeric_label_and_index_columns_are_metadata(tmp_path):
    df = pd.DataFrame(X.copy(), columns=list("abcde"))
    df["label"] = np.arange(12) % 3
    p = tmp_path / "emb.csv"
    df.to_csv(p)  # with the index, as pandas does by default
    with pytest.warns(TopoAlignWarning, match=r"'Unnamed: 0' \(an unnamed index column\)"):
        rep = load_representation(p)
    assert rep.X.shape == (12, 5)
    assert list(rep.metadata.columns) == ["Unnamed: 0", "label"]


def test_headerless_csv(tmp_path):
    p = tmp_path / "raw.csv"
    np.savetxt(p, X, delimiter=",")
    np.testing.assert_allclose(load_representation(p).X, X, rtol=1e-6)


def test_h5ad_round_trip(tmp_path):
    anndata = pytest.importorskip("anndata")
    obs = pd.DataFrame({"label": LABELS}, index=[f"cell{i}" for i in range(12)])
    adata = anndata.AnnData(X=X, obs=obs, obsm={"X_umap": Y[:, :2], "X_pca": Y})
    p = tmp_path / "cells.h5ad"
    adata.write_h5ad(p)
    rep = load_representation(p)
    np.testing.assert_array_equal(rep.X, X)
    assert rep.metadata["obs_name"].iloc[2] == "cell2"
    np.testing.assert_array_equal(rep.metadata["label"].astype(str), LABELS)
    pca = load_representation(p, key="X_pca")
    assert pca.name == "X_pca"
    np.testing.assert_array_equal(pca.X, Y)
    with pytest.raises(FileFormatError, match="X_pca"):
        load_representation(p, key="X_tsne")
    assert sorted(r.name for r in load_representations(p)) == ["X", "X_pca", "X_umap"]
    np.testing.assert_array_equal(load_inputs(p).labels.astype(str), LABELS)


def test_h5ad_sparse_X(tmp_path):
    anndata = pytest.importorskip("anndata")
    import scipy.sparse as sp

    dense = np.where(X > 0.5, X, 0).astype(np.float32)
    p = tmp_path / "sparse.h5ad"
    anndata.AnnData(X=sp.csr_matrix(dense)).write_h5ad(p)
    np.testing.assert_array_equal(load_representation(p).X, dense)


def test_pt_tensor_and_dict(tmp_path):
    p = tmp_path / "emb.pt"
    torch.save(torch.from_numpy(X).to(torch.bfloat16), p)
    rep = load_representation(p)
    assert rep.X.dtype == np.float32
    np.testing.assert_allclose(rep.X, X, atol=0.05)
    q = tmp_path / "layers.pt"
    torch.save({"layer1": torch.from_numpy(X), "layer6": torch.from_numpy(Y), "step": 3}, q)
    np.testing.assert_array_equal(load_representation(q, key="layer6").X, Y)
    assert [r.name for r in load_representations(q)] == ["layer1", "layer6"]


def test_npz_inputs(tmp_path):
    p = tmp_path / "inputs.npz"
    images = rng.integers(0, 17, size=(12, 8, 8)).astype(np.uint8)
    coords = rng.integers(0, 100, size=(12, 2))
    texts = np.array([f"caption {i}" for i in range(12)])
    np.savez(p, labels=LABELS, texts=texts, images=images, coords=coords,
             source_image=np.zeros((100, 100)), split=np.arange(12) % 2, emb=X)
    t = load_inputs(p)
    assert t.n_inputs == 12 and t.texts[5] == "caption 5"
    np.testing.assert_array_equal(t.images, images)
    np.testing.assert_array_equal(t.coords, coords)
    assert t.source_image.shape == (100, 100)
    np.testing.assert_array_equal(t.metadata["split"], np.arange(12) % 2)


def test_npy_image_stack(tmp_path):
    p = tmp_path / "images.npy"
    np.save(p, np.zeros((4, 16, 16, 3), np.uint8))
    t = load_inputs(p)
    assert t.n_inputs == 4 and t.images.shape == (4, 16, 16, 3)


# ----------------------------------------------------------------------------- bad files


def test_missing_and_unknown(tmp_path):
    with pytest.raises(MissingFileError, match="no such file"):
        load_representation(tmp_path / "nope.npy")
    with pytest.raises(FileNotFoundError):
        load_inputs(tmp_path / "nope.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(FileFormatError, match="unknown file type '.json'"):
        load_representation(tmp_path / "x.json")
    with pytest.raises(FileFormatError, match="unknown file type"):
        load_inputs(tmp_path / "x.json")
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(EmptyInputError, match="0 bytes"):
        load_representation(tmp_path / "empty.npy")


def test_content_does_not_match_extension(tmp_path):
    csv = tmp_path / "a.csv"
    _frame().to_csv(csv, index=False)
    fake_npy = tmp_path / "a.npy"
    fake_npy.write_bytes(csv.read_bytes())
    with pytest.raises(FileFormatError, match="not a NumPy .npy file.*looks like text"):
        load_representation(fake_npy)
    np.save(tmp_path / "real.npy", X)
    fake_csv = tmp_path / "b.csv"
    fake_csv.write_bytes((tmp_path / "real.npy").read_bytes())
    with pytest.raises(FileFormatError, match="not a text table.*npy"):
        load_representation(fake_csv)
    fake_pt = tmp_path / "c.pt"
    fake_pt.write_text("hello, this is text")
    with pytest.raises(FileFormatError, match="not a torch file"):
        load_representation(fake_pt)
    fake_h5ad = tmp_path / "d.h5ad"
    fake_h5ad.write_bytes((tmp_path / "real.npy").read_bytes())
    with pytest.raises(FileFormatError, match="not an HDF5"):
        load_representation(fake_h5ad)
    fake_parquet = tmp_path / "e.parquet"
    fake_parquet.write_bytes(csv.read_bytes())
    with pytest.raises(FileFormatError, match="not a Parquet"):
        load_representation(fake_parquet)


def test_zip_that_is_not_npz(tmp_path):
    import zipfile

    p = tmp_path / "z.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(FileFormatError, match="not an .npz.*readme.txt"):
        load_representation(p)
    npz_as_pt = tmp_path / "n.pt"
    np.savez(tmp_path / "n.npz", a=X)
    npz_as_pt.write_bytes((tmp_path / "n.npz").read_bytes())
    with pytest.raises(FileFormatError, match="not a readable torch file"):
        load_representation(npz_as_pt)


def test_pickles_are_refused(tmp_path):
    obj = np.array([{"a": 1}, None], dtype=object)
    np.save(tmp_path / "o.npy", obj, allow_pickle=True)
    with pytest.raises(FileFormatError, match="unpickling.*np.save"):
        load_representation(tmp_path / "o.npy")
    np.savez(tmp_path / "o.npz", emb=X, meta=obj)
    with pytest.raises(FileFormatError, match="'meta'.*unpickling"):
        load_representations(tmp_path / "o.npz")

    torch.save({"emb": torch.zeros(3, 2), "obj": Payload()}, tmp_path / "o.pt")
    with pytest.raises(FileFormatError, match="unpickling.*weights_only=True"):
        load_representation(tmp_path / "o.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(FileFormatError, match="without tensors"):
        load_representation(tmp_path / "list.pt")


def test_bad_values(tmp_path):
    bad = X.copy()
    bad[[2, 7], 1] = np.nan
    bad[9, 0] = np.inf
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(InvalidValuesError, match="nan.npy.*3 of 12 rows.*2, 7, 9"):
        load_representation(tmp_path / "nan.npy")
    np.save(tmp_path / "3d.npy", np.zeros((4, 3, 2)))
    with pytest.raises(InputShapeError, match="2-D"):
        load_representation(tmp_path / "3d.npy")
    np.save(tmp_path / "1d.npy", np.zeros(4))
    with pytest.raises(InputShapeError, match="reshape"):
        load_representation(tmp_path / "1d.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 4)))
    with pytest.raises(EmptyInputError):
        load_representation(tmp_path / "empty.npy")
    np.save(tmp_path / "str.npy", np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(InvalidValuesError, match="non-numeric"):
        load_representation(tmp_path / "str.npy")


@pytest.mark.filterwarnings("ignore::napari_topoalign.errors.TopoAlignWarning")
def test_bad_tables(tmp_path):
    df = _frame()
    df["d2"] = df["d2"].astype(object)
    df.loc[4, "d2"] = "oops"
    df.to_csv(tmp_path / "typo.csv", index=False)
    with pytest.raises(InvalidValuesError, match="'d2' is numeric except in 1 rows.*4.*oops"):
        load_representation(tmp_path / "typo.csv")
    pd.DataFrame({"word": ["a", "b"]}).to_csv(tmp_path / "words.csv", index=False)
    with pytest.raises(InvalidValuesError, match="no numeric feature columns"):
        load_representation(tmp_path / "words.csv")
    (tmp_path / "header.csv").write_text("a,b,c\n")
    with pytest.raises(EmptyInputError, match="no rows"):
        load_representation(tmp_path / "header.csv")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(FileFormatError, match="well-formed"):
        load_representation(tmp_path / "ragged.csv")
    df = _frame()
    df.loc[3, "d0"] = np.nan
    df.to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(InvalidValuesError, match="1 of 12 rows"):
        load_representation(tmp_path / "nan.csv")


def test_different_numbers_of_inputs(tmp_path):
    np.savez(tmp_path / "mismatch.npz", a=X, b=Y[:10])
    with pytest.raises(InputShapeError, match="12 inputs but b has 10"):
        load_representations(tmp_path / "mismatch.npz")
    np.savez(tmp_path / "in.npz", labels=LABELS, texts=np.array(["x"] * 5))
    with pytest.raises(InputShapeError, match="texts has 5 rows"):
        load_inputs(tmp_path / "in.npz")
    np.savez(tmp_path / "odd.npz", labels=LABELS, emb=X, volume=np.zeros((12, 2, 2)))
    with pytest.raises(FileFormatError, match=r"volume \(12, 2, 2\)"):
        load_inputs(tmp_path / "odd.npz")
    np.savez(tmp_path / "none.npz", emb=X)
    with pytest.raises(FileFormatError, match="none of the arrays"):
        load_inputs(tmp_path / "none.npz")


def test_missing_optional_dependency(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow":
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    p = tmp_path / "t.parquet"
    p.write_bytes(b"PAR1" + b"\0" * 16 + b"PAR1")
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(MissingDependencyError, match="pip install pyarrow"):
        load_representation(p)


def test_dataclass_checks():
    with pytest.raises(InputShapeError, match="metadata has 3 rows"):
        Representation(X, "x", metadata=pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(InputShapeError, match="images has 2 rows"):
        InputTable(n_inputs=12, images=np.zeros((2, 4, 4)))
    with pytest.raises(InputShapeError, match=r"coords must be \(N, 2\)"):
        InputTable(n_inputs=12, coords=np.zeros((12, 3)))
    t = InputTable(n_inputs=3, labels=[0, 1, 1], texts=("a", "b", "c"))
    assert t.texts == ["a", "b", "c"] and t.labels.dtype.kind == "i"
    assert issubclass(FileFormatError, TopoAlignError)


def test_a_path_like_object_is_read_by_its_suffix(tmp_path):
    class PathLike:
        def __init__(self, path):
            self.path = str(path)

        def __fspath__(self):
            return self.path

    np.save(tmp_path / "x.npy", np.arange(12, dtype=np.float32).reshape(4, 3))
    rep = load_representation(PathLike(tmp_path / "x.npy"))
    assert rep.X.shape == (4, 3)
