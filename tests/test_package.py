"""The package promises: a light import without Qt, and the public API of DESIGN.md §2."""

import subprocess
import sys

import numpy as np
import pytest

import napari_topoalign as ta
from napari_topoalign.checks import as_matrix, check_same_inputs
from napari_topoalign.errors import EmptyInputError, InputShapeError, InvalidValuesError, TopoAlignError


def test_import_does_not_pull_napari_or_qt():
    code = (
        "import sys, napari_topoalign as ta; ta.MapperParams; ta.build_mapper; ta.align; "
        "bad = [m for m in ('napari', 'qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'magicgui') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_pipeline_runs_without_napari_or_qt(tmp_path):
    """align, save, bubbles and the report import nothing of napari or Qt, even lazily."""
    code = (
        "import sys, numpy as np, napari_topoalign as ta\n"
        "from napari_topoalign.report import write_report\n"
        "X = np.random.default_rng(0).normal(size=(120, 3)).astype('float32')\n"
        "al = ta.align(X, 2 * X[:, ::-1], device='cpu', iterations=5)\n"
        f"al.save({str(tmp_path / 'a.npz')!r}); al.bubbles(); write_report(al, {str(tmp_path)!r}, X_a=X, X_b=X)\n"
        "bad = [m for m in ('napari', 'qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'magicgui', 'vispy') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert (tmp_path / "report.html").is_file()


def test_bare_import_is_light():
    code = "import sys, napari_topoalign; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("name", sorted(ta._API))
def test_public_names_resolve(name):
    assert getattr(ta, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        ta.not_a_function


def test_errors_are_value_errors():
    assert issubclass(TopoAlignError, ValueError)
    assert ta.TopoAlignError is TopoAlignError


def test_as_matrix_accepts_and_converts():
    out = as_matrix([[1, 2], [3, 4]])
    assert out.dtype == np.float32 and out.shape == (2, 2) and out.flags.c_contiguous


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.zeros(5), InputShapeError, "1-D"),
        (np.zeros((2, 3, 4)), InputShapeError, "2-D"),
        (np.zeros((0, 3)), EmptyInputError, "empty"),
        (np.array([["a", "b"]]), InvalidValuesError, "non-numeric"),
        (np.array([[1.0, np.nan], [1.0, 2.0], [np.inf, 0.0]]), InvalidValuesError, "2 of 3 rows"),
    ],
)
def test_as_matrix_rejects_with_a_clear_message(bad, error, words):
    with pytest.raises(error, match=words):
        as_matrix(bad)


def test_check_same_inputs():
    with pytest.raises(InputShapeError, match="5 inputs but .* 4"):
        check_same_inputs(np.zeros((5, 2)), np.zeros((4, 2)))
    check_same_inputs(np.zeros((5, 2)), np.zeros((5, 7)))
