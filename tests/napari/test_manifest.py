"""The npe2 manifest validates and every contribution points at something that exists."""

import subprocess
import sys

import npe2
import numpy as np
import pytest

from napari_topoalign import list_samples


@pytest.fixture(scope="module")
def manifest():
    return npe2.PluginManifest.from_distribution("napari-topoalign")


def test_manifest_validates(manifest):
    result = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "napari-topoalign"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert manifest.display_name == "TopoAlign"


def test_every_command_imports(manifest):
    for command in manifest.contributions.commands:
        assert callable(_resolve(command.python_name))


def _resolve(python_name):
    from importlib import import_module

    module, _, attr = python_name.partition(":")
    return getattr(import_module(module), attr)


def test_one_sample_contribution_per_sample(manifest):
    contributed = {s.key: s.display_name for s in manifest.contributions.sample_data}
    assert contributed == {s.name: s.title for s in list_samples()}


@pytest.mark.parametrize("name", [s.name for s in list_samples()])
def test_sample_opens_ready_to_align(name):
    from napari_topoalign import load_sample
    from napari_topoalign._napari import _sample_data
    from napari_topoalign._napari._reader import INPUTS_KEY, REPRESENTATION_KEY

    sample = load_sample(name)
    data = getattr(_sample_data, name)()
    reps = [meta["metadata"][REPRESENTATION_KEY] for _, meta, _ in data if REPRESENTATION_KEY in meta["metadata"]]
    assert [r.name for r in reps] == [r.name for r in sample.representations] and len(reps) >= 2
    for layer_data, meta, kind in data:
        if REPRESENTATION_KEY in meta["metadata"]:
            assert kind == "image" and layer_data.shape == meta["metadata"][REPRESENTATION_KEY].X.shape
            # scaled into a unit square: a hidden matrix must not set the scene's extent
            assert not meta["visible"] and np.allclose(np.multiply(meta["scale"], max(layer_data.shape)), 1)
    (inputs_data, meta, kind), = [d for d in data if INPUTS_KEY in d[1]["metadata"]]
    inputs = meta["metadata"][INPUTS_KEY]
    assert inputs.n_inputs == reps[0].X.shape[0]
    if kind == "image" and not meta["rgb"]:  # grey images shown over their own range (digits are 0..16)
        assert tuple(meta["contrast_limits"]) == (inputs_data.min(), inputs_data.max())
    if inputs.source_image is not None:
        assert inputs_data.shape == inputs.source_image.shape
    elif inputs.images is not None:  # a mosaic holding every image
        h, w = inputs.images.shape[1:3]
        assert inputs_data.shape[0] % h == 0 and inputs_data.shape[1] % w == 0
        assert inputs_data.shape[0] * inputs_data.shape[1] >= inputs.n_inputs * h * w
        assert np.array_equal(inputs_data[:h, :w], inputs.images[0])
    else:
        assert kind == "points" and len(inputs_data) == 0


def test_reader_claims_representation_files_only(manifest):
    from napari_topoalign._napari._reader import get_reader

    for suffix in (".npy", ".npz", ".csv", ".tsv", ".parquet", ".h5ad", ".pt"):
        assert get_reader(f"x{suffix}") is not None
    assert get_reader("x.png") is None
    assert get_reader(["a.npy", "b.tif"]) is None
    patterns = manifest.contributions.readers[0].filename_patterns
    assert "*.h5ad" in patterns and "*.png" not in patterns


def test_reader_tells_alignments_from_other_npz(tmp_path):
    """A single array under an .npz name or a damaged zip is not an alignment: no crash."""
    from napari_topoalign._napari._reader import is_alignment_file

    renamed = tmp_path / "array.npz"
    with open(renamed, "wb") as fh:
        np.save(fh, np.zeros((4, 3)))
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(b"PK\x03\x04 not a zip")
    assert not is_alignment_file(renamed)
    assert not is_alignment_file(damaged)


def test_reopening_an_alignment_replaces_the_plugins_layers(make_napari_viewer, tmp_path):
    import napari_topoalign as ta
    from napari_topoalign._napari.layers import ROLE_KEY

    X = np.random.default_rng(0).normal(size=(120, 3)).astype(np.float32)
    path = tmp_path / "run.npz"
    ta.align(X, 2 * X[:, ::-1], device="cpu", iterations=5).save(path)
    viewer = make_napari_viewer()
    viewer.add_points(np.array([[1.0, 1.0]]), name="mine")
    viewer.open(str(path), plugin="napari-topoalign")
    names = [layer.name for layer in viewer.layers]
    viewer.open(str(path), plugin="napari-topoalign")
    assert [layer.name for layer in viewer.layers] == names  # replaced, no second set "[1]"
    assert not any(name.endswith("]") for name in names)
    roles = [layer.metadata.get(ROLE_KEY) for layer in viewer.layers]
    assert "nodes_a" in roles and len(set(roles)) == len(roles)
