"""npe2 reader: representation files become layers that the Load widget lists.

A representation (N inputs × D features) is added as a hidden ``Image`` layer
of the matrix itself (scaled into a unit square), with the :class:`~napari_topoalign.io.Representation`
in ``metadata["topoalign_representation"]``. A file describing the inputs rather than
representing them (a table with fewer than two numeric feature columns, e.g. ``labels.csv``;
the labels/texts/images of an ``.npz``) becomes an inputs layer (``inputs_layer_data``) with the
``InputTable`` in ``metadata["topoalign_inputs"]``. An alignment file (``.npz`` written by
``Alignment.save``) opens as the same layers the TopoAlign widget draws. Nothing is ever unpickled.
"""

from __future__ import annotations

from pathlib import Path

REPRESENTATION_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".parquet", ".h5ad", ".pt")
REPRESENTATION_KEY = "topoalign_representation"
INPUTS_KEY = "topoalign_inputs"
SAMPLE_KEY = "topoalign_sample"
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")


def representation_layer_data(rep) -> tuple:
    """LayerData tuple for one representation: the N×D matrix, hidden, carrying ``rep``.

    The matrix is scaled into a unit square at the origin, so that (hidden or shown) it does
    not set the scene's extent: napari's home view then frames the graphs and the inputs.
    """
    n, d = rep.X.shape
    return (
        rep.X,
        {
            "name": f"{rep.name} ({n}×{d})",
            "visible": False,
            "scale": (1.0 / max(n, d),) * 2,
            "colormap": "viridis",
            "metadata": {REPRESENTATION_KEY: rep},
        },
        "image",
    )


def _suffix(path: str) -> str:
    return Path(path).suffix.lower()


def get_reader(path):
    """Return :func:`read_files` when every path has a supported suffix."""
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if not paths or any(_suffix(str(p)) not in REPRESENTATION_SUFFIXES for p in paths):
        return None
    return read_files


def saved_format(path) -> str | None:
    """The ``format`` of the JSON header of an ``.npz`` written by napari-topoalign (an alignment or
    a chain), or None for any other file. Only the header is read, its size checked first."""
    import json

    from ..errors import TopoAlignError
    from ..io import read_npz

    if _suffix(str(path)) != ".npz":
        return None
    try:
        header = read_npz(path, keys=("header",)).get("header")
    except TopoAlignError:
        return None
    if header is None or header.dtype.kind != "U" or header.ndim != 0:
        return None
    try:
        header = json.loads(str(header[()]))
    except ValueError:
        return None
    return header.get("format") if isinstance(header, dict) else None


def is_alignment_file(path) -> bool:
    """True when ``path`` is an ``.npz`` written by ``Alignment.save``."""
    from ..alignment import FORMAT_NAME

    return saved_format(path) == FORMAT_NAME


def alignment_layer_data(path) -> list[tuple]:
    """The layers of a saved alignment (nodes, edges, links, Bubble Sets), as the widget draws them."""
    from napari.components import ViewerModel

    from ..alignment import Alignment
    from .layers import show_alignment

    model = ViewerModel()
    show_alignment(model, Alignment.load(path))
    return [layer.as_layer_data_tuple() for layer in model.layers]


def read_representations(path) -> list[tuple]:
    """Load every representation stored in ``path`` (one path or a list) as layer data."""
    from .. import load_representations

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    return [representation_layer_data(rep) for p in paths for rep in load_representations(str(p))]


def _npz_has_inputs(path) -> bool:
    """An ``.npz`` holding any of the input arrays (labels, texts, images, coords, source_image)."""
    import zipfile

    from ..io import INPUT_KEYS

    try:
        with zipfile.ZipFile(path) as z:
            return any(name[:-4] in INPUT_KEYS for name in z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def read_data(path) -> list[tuple]:
    """Layer data of one representation or metadata file (see the module doc): representations
    first, then an inputs layer when the file describes the inputs."""
    from ..errors import TopoAlignError
    from ..io import load_inputs, load_representations
    from ._sample_data import inputs_layer_data

    path = str(path)
    name = Path(path).stem
    if _suffix(path) in TABLE_SUFFIXES:
        try:
            reps = load_representations(path)
        except TopoAlignError:  # no numeric feature column: a metadata table, or a damaged file
            reps = []
        if not reps or reps[0].X.shape[1] < 2:
            return [inputs_layer_data(load_inputs(path), name)]
        return [representation_layer_data(rep) for rep in reps]
    out = [representation_layer_data(rep) for rep in load_representations(path)]
    if _suffix(path) == ".npz" and _npz_has_inputs(path):
        out.append(inputs_layer_data(load_inputs(path), name))
    return out


def read_files(path) -> list[tuple]:
    """Layer data of every file in ``path``: alignments and chains as their layers, the rest by ``read_data``.

    With a napari viewer open, an alignment is drawn straight into it (``show_alignment``), so
    opening one again replaces the plugin's layers instead of adding a second set named "[1]";
    when nothing else was read, the result is napari's "handled" sentinel ``[(None,)]``."""
    from ..chain import FORMAT_NAME as CHAIN_FORMAT, Chain
    from .chain_layers import chain_layer_data

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    viewer = _current_viewer()
    out, drawn = [], False
    for p in paths:
        if saved_format(p) == CHAIN_FORMAT:
            out += chain_layer_data(Chain.load(p))
        elif is_alignment_file(p) and viewer is not None:
            from ..alignment import Alignment
            from .layers import show_alignment

            show_alignment(viewer, Alignment.load(p))
            drawn = True
        else:
            out += alignment_layer_data(p) if is_alignment_file(p) else read_data(p)
    return out if out or not drawn else [(None,)]


def _current_viewer():
    """The napari viewer in front, or None (headless, or napari not running)."""
    try:
        import napari
    except ImportError:
        return None
    return napari.current_viewer()
