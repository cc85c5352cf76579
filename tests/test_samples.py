"""The bundled samples load quickly and consistently, without the model packages."""

import numpy as np
import pytest

from napari_topoalign.errors import TopoAlignError
from napari_topoalign.mapper import MapperParams
from napari_topoalign.samples import list_samples, load_sample

EXPECTED = {
    "sentences": (960, {"MiniLM layer 1": 384, "MiniLM layer 6": 384}),
    "digits": (1797, {"digits CNN": 64, "MiniLM captions": 384}),
    "coins": (1692, {"HOG": 36, "digits CNN": 64}),
    "sentences_layers": (960, {f"MiniLM layer {k}": 384 for k in range(7)}),
}


def test_list_samples():
    infos = list_samples()
    assert [s.name for s in infos] == list(EXPECTED)
    assert all(s.title and s.description for s in infos)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_sample_loads(name):
    n, dims = EXPECTED[name]
    sample = load_sample(name)
    assert sample.name == name and sample.description
    assert {r.name: r.X.shape[1] for r in sample.representations} == dims
    for rep in sample.representations:
        assert rep.X.shape[0] == n and rep.X.dtype == np.float32
        assert np.isfinite(rep.X).all() and rep.X.std() > 0
    inputs = sample.inputs
    assert inputs.n_inputs == n and len(inputs.labels) == n
    # every label names a real group of several inputs
    assert 2 < len(np.unique(inputs.labels)) < n / 10


def test_sentences_inputs():
    inputs = load_sample("sentences").inputs
    assert len(set(inputs.texts)) == 960
    assert set(np.unique(inputs.labels)) >= {"cooking", "astronomy", "finance"}


def test_digits_inputs():
    inputs = load_sample("digits").inputs
    assert inputs.images.shape == (1797, 8, 8) and inputs.images.dtype == np.uint8
    assert inputs.images.max() == 16
    # captions name the digit in the label
    assert all(label in text for label, text in zip(inputs.labels, inputs.texts))


def test_coins_inputs():
    inputs = load_sample("coins").inputs
    h, w = inputs.source_image.shape
    assert inputs.images.shape == (1692, 16, 16)
    assert (inputs.coords >= 8).all() and (inputs.coords[:, 0] <= h - 8).all() and (inputs.coords[:, 1] <= w - 8).all()
    # each patch is the source image around its coordinates
    r, c = inputs.coords[100].astype(int)
    np.testing.assert_array_equal(inputs.images[100], inputs.source_image[r - 8:r + 8, c - 8:c + 8])


def test_unknown_sample():
    with pytest.raises(TopoAlignError, match="sentences, digits, coins"):
        load_sample("mnist")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_recommended_settings(name):
    settings = load_sample(name).align_kwargs()
    assert set(settings) == {"params", "params_b", "shared_lens"}
    if name in ("digits", "coins"):  # hand-set radii on a shared lens; the others use the defaults
        assert settings["params"].lens == "pca" and settings["shared_lens"] is True
        assert settings["params"].metric == settings["params_b"].metric == "euclidean"
        assert settings["params"].eps == {"digits": 16.0, "coins": 0.5}[name]
    else:
        assert settings == {"params": MapperParams(), "params_b": MapperParams(), "shared_lens": False}


def test_default_settings_find_topic_regions_in_the_sentences():
    from napari_topoalign.alignment import align

    sample = load_sample("sentences")
    X_a, X_b = (r.X for r in sample.representations)
    al = align(X_a, X_b, **sample.align_kwargs(), device="cpu", iterations=30)
    assert al.graph_a.params.metric == "centred-cosine" and al.graph_a.params.lens == "pca3"
    assert len(al.graph_a.uncovered) == len(al.graph_b.uncovered) == 0
    labels = sample.inputs.labels
    pure = [np.unique(labels[r.inputs], return_counts=True)[1].max() / len(r.inputs) for r in al.regions]
    assert len(al.regions) >= 3 and max(len(r.inputs) for r in al.regions) < 0.4 * len(labels)
    assert np.mean(pure) > 2 / 8  # 8 topics of 120 sentences: random sets have purity ~1/8


def test_recommended_settings_find_digit_classes():
    from napari_topoalign.alignment import align

    sample = load_sample("digits")
    X_a, X_b = (r.X for r in sample.representations)
    al = align(X_a, X_b, **sample.align_kwargs(), device="cpu", iterations=30)
    labels = sample.inputs.labels
    pure = [np.unique(labels[r.inputs], return_counts=True)[1].max() / len(r.inputs) for r in al.regions]
    assert len(al.regions) >= 3 and sum(p > 0.9 for p in pure) >= 2  # regions organised alike beyond chance
    assert len(al.matched_inputs()) > 0.1 * len(labels)  # only regions organised alike beyond chance


def test_chain_sample_settings():
    sample = load_sample("sentences_layers")
    kwargs = sample.chain_kwargs()
    assert len(kwargs["params"]) == len(sample.representations) == 7 and kwargs["shared_lens"] is False
    assert all(p == MapperParams() for p in kwargs["params"])
    # a two-representation sample gives its align settings, A's for the first and B's for the rest
    two = load_sample("digits").chain_kwargs()
    assert two["params"] == [load_sample("digits").params, load_sample("digits").params_b]
