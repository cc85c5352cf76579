import numpy as np
import pytest

from napari_topoalign.alignment import align
from napari_topoalign.io import InputTable
from napari_topoalign.mapper import MapperParams
from napari_topoalign.report import write_report


def two_blobs_and_a_circle(n=240, seed=0):
    """A: a circle; B: the same inputs, the circle's two halves pulled apart into two arcs."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    X_a = np.c_[np.cos(t), np.sin(t)] + 0.04 * rng.normal(size=(n, 2))
    X_b = np.c_[np.cos(t), np.sin(t), 0.5 * np.sin(3 * t)] + 0.04 * rng.normal(size=(n, 3))
    labels = np.where(t < np.pi, "upper", "lower")
    return X_a.astype(np.float32), X_b.astype(np.float32), labels


@pytest.fixture(scope="module")
def data():
    X_a, X_b, labels = two_blobs_and_a_circle()
    al = align(X_a, X_b, MapperParams(lens="pca", n_intervals=8, overlap=0.4), device="cpu", iterations=60,
               names=("layer 1", "layer 6"))
    images = np.zeros((len(labels), 8, 8), np.float32)
    images[labels == "upper", :4] = 1.0
    inputs = InputTable(n_inputs=len(labels), labels=labels, texts=[f"sentence number {i}" for i in range(len(labels))],
                        images=images, coords=np.c_[16 + 12 * X_a[:, 1], 16 + 12 * X_a[:, 0]],
                        source_image=np.zeros((32, 32), np.float32))
    return al, inputs, X_a, X_b


def test_report_files_and_content(data, tmp_path):
    al, inputs, X_a, X_b = data
    path = write_report(al, tmp_path / "rep", inputs=inputs, X_a=X_a, X_b=X_b)
    assert path == tmp_path / "rep" / "report.html"
    text = path.read_text()
    assert "layout.png" in text and (tmp_path / "rep" / "layout.png").is_file()
    assert (tmp_path / "rep" / "region_examples.png").is_file()
    assert (tmp_path / "rep" / "regions_on_source.png").is_file() and "regions_on_source.png" in text
    assert "layer 1" in text and "layer 6" in text
    assert "Matching regions" in text and "Motifs" in text and "Alignment scores" in text
    assert "local CKA" in text and "dominant labels" in text and "sentence number" in text
    for key, value in al.scores.items():
        assert key in text and f"{value:.3f}" in text
    assert f"Matching regions: {len(al.regions)}" in text
    for kind in ("branch", "loop", "flare", "path"):
        assert f"<td>{kind}</td>" in text
    assert "upper" in text or "lower" in text


def test_layout_png_is_drawn(data, tmp_path):
    from matplotlib.image import imread

    al = data[0]
    write_report(al, tmp_path)
    img = imread(tmp_path / "layout.png")[..., :3]
    assert img.shape[0] > 300 and img.shape[1] > 600
    non_white = (img < 0.95).any(axis=2).mean()
    assert 0.01 < non_white < 0.9
    saturation = img.max(axis=2) - img.min(axis=2)
    assert (saturation > 0.3).mean() > 0.001  # coloured regions are drawn, not only grey


def test_report_without_inputs_has_no_optional_columns(data, tmp_path):
    al = data[0]
    text = write_report(al, tmp_path).read_text()
    assert "dominant labels" not in text and "local CKA" not in text
    assert not (tmp_path / "region_examples.png").exists() and not (tmp_path / "regions_on_source.png").exists()


def test_report_shows_faithfulness_and_the_coverage_warning(tmp_path):
    import warnings

    from napari_topoalign import MapperParams, align
    from napari_topoalign.mapper import graph_faithfulness
    from napari_topoalign.report import write_report

    rng = np.random.default_rng(0)
    X_a = rng.normal(size=(300, 4)).astype(np.float32)
    X_b = X_a + 0.01 * rng.normal(size=X_a.shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        al = align(X_a, X_b, MapperParams(eps=0.8, min_samples=8), iterations=30, device="cpu")
    assert al.graph_a.coverage_warning() is not None  # a radius this small leaves most inputs out
    page = write_report(al, tmp_path, X_a=X_a, X_b=X_b).read_text()
    assert f"{graph_faithfulness(X_a, al.graph_a):.2f}" in page
    assert "in no node of the mapper graph" in page


def test_example_texts_show_each_common_label_of_a_region_in_turn():
    from napari_topoalign.report import _example_texts

    labels = np.array(["sport"] * 6 + ["music"] * 4 + ["food"] * 2)
    texts = np.array([f"{lab} {i}" for i, lab in enumerate(labels)])
    shown = _example_texts(texts, np.arange(12), labels)
    assert [t.split()[0] for t in shown.replace("<ul>", "").replace("</ul>", "").split("</li>")[:3]] == \
        ["<li>sport", "<li>music", "<li>food"]
    assert "sport 0" in _example_texts(texts, np.arange(12))  # without labels: spread over the inputs
