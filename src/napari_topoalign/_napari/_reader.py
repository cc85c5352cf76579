"""npe2 reader: representation files become layers that the Load widget lists.

A representation (N inputs × D features) is added as a hidden ``Image`` layer
of the matrix itself, with the :class:`~napari_topoalign.io.Representation`
in ``metadata["topoalign_representation"]``. Nothing is ever unpickled.
"""

from __future__ import annotations

from pathlib import Path

REPRESENTATION_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".parquet", ".h5ad", ".pt")
REPRESENTATION_KEY = "topoalign_representation"
INPUTS_KEY = "topoalign_inputs"


def representation_layer_data(rep) -> tuple:
    """LayerData tuple for one representation: the N×D matrix, hidden, carrying ``rep``."""
    n, d = rep.X.shape
    return (
        rep.X,
        {
            "name": f"{rep.name} ({n}×{d})",
            "visible": False,
            "colormap": "viridis",
            "metadata": {REPRESENTATION_KEY: rep},
        },
        "image",
    )


def _suffix(path: str) -> str:
    return Path(path).suffix.lower()


def get_reader(path):
    """Return :func:`read_representations` when every path has a supported suffix."""
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if not paths or any(_suffix(str(p)) not in REPRESENTATION_SUFFIXES for p in paths):
        return None
    return read_representations


def read_representations(path) -> list[tuple]:
    """Load every representation stored in ``path`` (one path or a list) as layer data."""
    from .. import load_representations

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    return [representation_layer_data(rep) for p in paths for rep in load_representations(str(p))]
