import sys
import types

import numpy as np
import pytest

from napari_topoalign.alignment import Alignment
from napari_topoalign.cli import main

FAST = ["--intervals", "6", "--overlap", "0.4", "--iterations", "30", "--device", "cpu"]


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 150)
    a = tmp_path / "early.npy"
    b = tmp_path / "late.npy"
    np.save(a, (np.c_[np.cos(t), np.sin(t)] + 0.05 * rng.normal(size=(150, 2))).astype(np.float32))
    np.save(b, (np.c_[np.cos(t), np.sin(t), np.cos(2 * t)] + 0.05 * rng.normal(size=(150, 3))).astype(np.float32))
    return tmp_path, a, b


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("topoalign: error: ")
    assert "Traceback" not in err[0]
    return err[0]


def test_run_writes_alignment_and_report(files, capsys):
    tmp, a, b = files
    out = tmp / "out"
    assert main(["run", str(a), str(b), "--out", str(out), *FAST]) == 0
    captured = capsys.readouterr()
    assert str(out / "report.html") in captured.out
    assert "layout" in captured.err and "100%" in captured.err
    al = Alignment.load(out / "alignment.npz")
    assert al.names == ("early", "late") and al.graph_a.n_inputs == 150
    assert al.graph_a.params.n_intervals == 6
    assert "Matching regions" in (out / "report.html").read_text()
    assert (out / "layout.png").is_file()


def test_run_with_shared_lens(files):
    tmp, a, b = files
    out = tmp / "shared"
    assert main(["run", str(a), str(b), "--lens", "pca", "--shared-lens", "--out", str(out), *FAST]) == 0
    al = Alignment.load(out / "alignment.npz")
    np.testing.assert_array_equal(al.graph_b.lens, al.graph_a.lens)
    assert main(["run", str(a), str(b), "--lens", "pca", "--out", str(out), *FAST]) == 0
    al = Alignment.load(out / "alignment.npz")
    assert not np.array_equal(al.graph_b.lens, al.graph_a.lens)


def test_run_with_metadata_and_lens_column(files, capsys):
    tmp, a, b = files
    X = np.load(a)
    meta = tmp / "meta.csv"
    meta.write_text("label,angle\n" + "".join(f"{'up' if y > 0 else 'down'},{np.arctan2(y, x)}\n" for x, y in X))
    out = tmp / "out2"
    assert main(["run", str(a), str(b), "--metadata", str(meta), "--lens", "angle", "--out", str(out), *FAST]) == 0
    al = Alignment.load(out / "alignment.npz")
    np.testing.assert_allclose(al.graph_a.params.lens, np.arctan2(X[:, 1], X[:, 0]), rtol=1e-6)
    assert "dominant labels" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda t, a, b: ["run", str(t / "missing.npy"), str(b)], "missing.npy"),
        (lambda t, a, b: ["run", str(t / "x.txt"), str(b)], "unknown file type"),
        (lambda t, a, b: ["run", str(a), str(t / "short.npy")], "inputs"),
        (lambda t, a, b: ["run", str(a), str(b), "--lens", "wobble"], "unknown lens"),
        (lambda t, a, b: ["run", str(a), str(b), "--lens", str(t / "short.npy")], "must hold"),
        (lambda t, a, b: ["run", str(a), str(b), "--lens", str(t / "nan_lens.npy")], "1 NaN or infinite"),
        (lambda t, a, b: ["run", str(a)], "two representation files"),
        (lambda t, a, b: ["run", str(a), str(b), "--sample", "x"], "either --sample"),
        (lambda t, a, b: ["run", str(a), str(b), "--images", str(t / "short.npy")], "images"),
    ],
)
def test_bad_arguments_give_one_line_error(files, capsys, make_args, message):
    tmp, a, b = files
    (tmp / "x.txt").write_text("1 2 3\n")
    np.save(tmp / "short.npy", np.zeros((20, 3), np.float32))
    n = len(np.load(a))
    np.save(tmp / "nan_lens.npy", np.r_[np.nan, np.arange(n - 1.0)])
    code = main([*make_args(tmp, a, b), "--out", str(tmp / "o")])
    assert code != 0
    assert message in one_line_error(capsys)


@pytest.mark.parametrize(
    "argv",
    [["run", "a.npy", "b.npy"], ["run", "a.npy", "b.npy", "--out", "o", "--mode", "sideways"],
     ["run", "a.npy", "b.npy", "--out", "o", "--intervals", "many"], ["frobnicate"], []],
)
def test_argparse_errors_exit_2_on_one_line(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    one_line_error(capsys)


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "topoalign run" in out and "topoalign demo" in out and "examples" in out


def test_demo_opens_napari_when_a_display_exists(monkeypatch):
    calls = []
    fake = types.ModuleType("napari_topoalign._napari.demo")
    fake.launch_demo = lambda sample=None: calls.append(sample)
    monkeypatch.setitem(sys.modules, "napari_topoalign._napari.demo", fake)
    monkeypatch.setenv("DISPLAY", ":99")
    assert main(["demo", "--sample", "whatever"]) == 0
    assert calls == ["whatever"]


def test_samples_lists_names(capsys):
    from napari_topoalign.samples import list_samples

    assert main(["samples"]) == 0
    out = capsys.readouterr().out
    for info in list_samples():
        assert info.name in out and info.title in out


def test_run_on_smallest_sample(tmp_path, capsys):
    from napari_topoalign.samples import list_samples, load_sample

    sizes = {i.name: load_sample(i.name).inputs.n_inputs for i in list_samples()}
    name = min(sizes, key=sizes.get)
    out = tmp_path / "sample"
    assert main(["run", "--sample", name, "--out", str(out), "--lens", "pca", *FAST]) == 0
    al = Alignment.load(out / "alignment.npz")
    assert al.graph_a.n_inputs == sizes[name]
    text = (out / "report.html").read_text()
    assert al.names[0] in text and "Motifs" in text
    assert "topoalign: error" not in capsys.readouterr().err


@pytest.mark.parametrize("flag, display", [(["--headless"], ":0"), ([], None)])
def test_demo_headless_writes_report_instead(monkeypatch, tmp_path, capsys, flag, display):
    import napari_topoalign.cli as cli

    calls = []
    monkeypatch.setattr(cli, "_run_pipeline", lambda X_a, X_b, names, inputs, settings, args, out: calls.append(
        (X_a.shape, names, inputs.n_inputs, out)))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if display:
        monkeypatch.setenv("DISPLAY", display)
    else:
        monkeypatch.delenv("DISPLAY", raising=False)
    assert main(["demo", "--sample", "sentences", *flag, "--out", str(tmp_path / "demo")]) == 0
    line = capsys.readouterr().out.strip().splitlines()
    assert len(line) == 1 and "writing the report of sample 'sentences'" in line[0]
    assert ("--headless" in line[0]) == bool(flag)
    (shape, names, n, out), = calls
    assert n == shape[0] and out == tmp_path / "demo" and len(names) == 2


def test_table_notes_are_one_line_each(files, capsys):
    import pandas as pd

    tmp, a, b = files
    X = np.load(a)
    pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "label": np.arange(len(X)) % 2}).to_csv(tmp / "a.csv", index=False)
    assert main(["run", str(tmp / "a.csv"), str(b), *FAST, "--out", str(tmp / "o")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("topoalign: note:")]
    assert notes == ["topoalign: note: a.csv: 2 numeric columns are features; kept as per-input metadata: 'label' (its name)."]


def test_user_mistakes_exit_2_and_system_failures_1(files, capsys, monkeypatch):
    from napari_topoalign import alignment

    tmp, a, b = files
    assert main(["run", str(a), str(tmp / "missing.npy"), *FAST, "--out", str(tmp / "o")]) == 2

    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(alignment.Alignment, "save", disk_full)
    assert main(["run", str(a), str(b), *FAST, "--out", str(tmp / "o")]) == 1
    assert "No space left" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp / "o").exists()
