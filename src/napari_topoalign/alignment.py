"""The whole pipeline in one call, and its result as one object saved to one file.

``align(X_a, X_b)`` builds both mapper graphs, their correspondence, the joint
layout, the matching regions and the alignment scores. ``Alignment.save`` writes
a single ``.npz`` of plain arrays plus a JSON header (never a pickle) and
``Alignment.load`` reads it back exactly.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.sparse as sp

from .checks import existing_file
from .errors import (
    EmptyInputError,
    FileFormatError,
    MissingFileError,
    ParameterError,
    TopoAlignError,
)
from .mapper import MapperGraph, MapperParams

FORMAT_NAME = "napari-topoalign.alignment"
FORMAT_VERSION = 1

_GRAPH_ARRAYS = ("edges", "edge_weight", "intervals", "node_interval", "lens", "uncovered")


@dataclass(eq=False)
class Alignment:
    """Two mapper graphs of the same inputs, laid out jointly, with their matching regions.

    ``correspondence`` is the sparse K_A×K_B overlap of member sets, ``layout`` the
    ``JointLayout`` (B already shifted into the shared frame), ``regions`` the matching
    regions best first and ``scores`` the named alignment scores.
    """

    graph_a: MapperGraph
    graph_b: MapperGraph
    correspondence: sp.csr_matrix
    layout: object
    regions: list
    scores: dict
    names: tuple = ("A", "B")
    _bubbles: list | None = field(default=None, init=False, repr=False)

    @property
    def n_inputs(self) -> int:
        return self.graph_a.n_inputs

    def matched_inputs(self) -> np.ndarray:
        """Sorted indices of the inputs that lie in at least one matching region."""
        if not self.regions:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate([np.asarray(r.inputs, dtype=np.int64) for r in self.regions]))

    def bubbles(self) -> list:
        """Per region: (Bubble Set in A, Bubble Set in B in the shared frame, membrane). Cached."""
        if self._bubbles is None:
            from .bubbles import bubble_set, membrane

            out = []
            for region in self.regions:
                poly_a = bubble_set(self.layout.pos_a, region.nodes_a)
                poly_b = bubble_set(self.layout.pos_b, region.nodes_b)
                out.append((poly_a, poly_b, membrane(poly_a, poly_b)))
            self._bubbles = out
        return self._bubbles

    def summary(self) -> str:
        """A few lines: graph sizes, chosen DBSCAN radius, regions and scores."""
        lines = []
        for name, g in zip(self.names, (self.graph_a, self.graph_b)):
            eps = g.params.eps
            eps_text = "n/a" if eps is None else f"{eps:.4g}"
            lines.append(
                f"{name}: {g.n_nodes} nodes, {len(g.edges)} edges, eps={eps_text}, "
                f"{len(g.uncovered)} of {g.n_inputs} inputs uncovered"
            )
        matched = len(self.matched_inputs())
        lines.append(
            f"{len(self.regions)} matching regions covering {matched} of {self.n_inputs} inputs "
            f"({100.0 * matched / max(self.n_inputs, 1):.1f}%)"
        )
        lines.append("scores: " + ", ".join(f"{k}={v:.3f}" for k, v in self.scores.items()))
        return "\n".join(lines)

    # ------------------------------------------------------------------ file format
    def save(self, path) -> Path:
        """Write the alignment to one ``.npz`` file (arrays + a JSON header, no pickle).

        The file is written under a temporary name in the same folder and renamed when complete,
        so a failed save leaves neither a partial file nor the temporary one.
        """
        return write_npz(path, *self.to_arrays())

    def to_arrays(self) -> tuple[dict, dict]:
        """The named arrays and the JSON header ``save`` writes (``from_arrays`` reads them back)."""
        arrays: dict[str, np.ndarray] = {}
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "names": [str(n) for n in self.names],
            "scores": {str(k): float(v) for k, v in self.scores.items()},
            "region_scores": [float(r.score) for r in self.regions],
            "layout": {"device": str(self.layout.device), "mode": str(self.layout.mode)},
        }
        for side, g in (("a", self.graph_a), ("b", self.graph_b)):
            header[f"graph_{side}"] = put_graph(arrays, side, g)
        put_sparse(arrays, "corr", self.correspondence)
        lay = self.layout
        arrays.update(
            layout_pos_a=np.asarray(lay.pos_a),
            layout_pos_b=np.asarray(lay.pos_b),
            layout_offset=np.asarray(lay.offset),
            layout_energy=np.asarray(lay.energy),
        )
        put_regions(arrays, "region", self.regions)
        return arrays, header

    @classmethod
    def load(cls, path) -> "Alignment":
        """Read a file written by ``save``.

        Every array and header field is checked (types, shapes, index ranges, finite values,
        parameter values) before anything is built from it: a damaged, crafted or too-new file
        raises ``FileFormatError`` naming what is wrong; a missing one ``MissingFileError``.
        """
        path = existing_file(path, "alignment file")
        return cls.from_arrays(read_npz(path, "alignment", "Alignment.save"), path)

    @classmethod
    def from_arrays(cls, arrays: dict, path: Path) -> "Alignment":
        """The alignment of ``to_arrays``' arrays, its header among them as the JSON string
        ``arrays["header"]``; every array and field checked (``path`` names their source)."""
        from .layout import JointLayout

        header = read_header(arrays, path, FORMAT_NAME, FORMAT_VERSION, "alignment")
        check = _FileCheck(arrays, path)
        names = header.get("names")
        if not isinstance(names, list) or len(names) != 2 or not all(isinstance(n, str) for n in names):
            check.fail("header field names", "must be two strings")
        scores = check.score_dict("scores", header.get("scores"))
        layout_meta = header.get("layout")
        if (
            not isinstance(layout_meta, dict)
            or not isinstance(layout_meta.get("device"), str)
            or layout_meta.get("mode") not in ("side_by_side", "overlay")
        ):
            check.fail("header field layout", "must give the device and a mode side_by_side or overlay")
        A, B = (get_graph(arrays, side, header.get(f"graph_{side}"), path) for side in "ab")
        if A.n_inputs != B.n_inputs:
            check.fail("header", f"gives graph A {A.n_inputs} inputs but graph B {B.n_inputs}")
        C = get_sparse(arrays, "corr", path, shape=(A.n_nodes, B.n_nodes))
        layout = JointLayout(
            pos_a=check.floats("layout_pos_a", (A.n_nodes, 2)),
            pos_b=check.floats("layout_pos_b", (B.n_nodes, 2)),
            offset=check.floats("layout_offset", (2,)),
            energy=check.floats("layout_energy", (None,), finite=False),
            device=layout_meta["device"],
            mode=layout_meta["mode"],
        )
        regions = get_regions(arrays, "region", header.get("region_scores"), A, B, path)
        return cls(A, B, C, layout, regions, scores, tuple(names))


# ---------------------------------------------------------------------- file format helpers
# (shared with chain.Chain: one .npz of named arrays plus a JSON header, never a pickle). The
# readers check every array and header field before anything is built: FileFormatError naming it.
def write_npz(path, arrays: dict, header: dict) -> Path:
    """Write ``arrays`` and the JSON ``header`` to one compressed ``.npz`` at ``path``, atomically:
    under a temporary name in the same folder, renamed when complete, removed on any failure."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{path} is a folder; give the file's name, e.g. {path / 'alignment.npz'}")
    if not path.parent.is_dir():
        raise MissingFileError(f"cannot save to {path}: the folder {path.parent} does not exist; create it first")
    try:
        arrays = dict(arrays, header=np.array(json.dumps(header, default=_json_scalar)))
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{path.name} cannot be saved: {exc}") from exc
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_npz(path, what: str, writer: str) -> dict:
    """Every array of the ``.npz`` at ``path`` through ``io.read_npz`` (never unpickled, sizes checked
    before decompressing); ``MissingFileError`` when absent, ``FileFormatError`` when unreadable."""
    from .io import read_npz as read_arrays

    path = existing_file(path, f"{what} file")
    with open(path, "rb") as fh:
        if fh.read(6) == b"\x93NUMPY":
            raise FileFormatError(f"{path} is a single .npy array, not an {what} file (.npz)")
    try:
        return read_arrays(path)
    except (FileFormatError, EmptyInputError) as exc:
        raise FileFormatError(
            f"{path} is not a readable {what} file (damaged or not an .npz written by {writer}): {exc}"
        ) from exc


def read_header(arrays: dict, path: Path, format_name: str, max_version: int, what: str) -> dict:
    """The JSON header of a file read by ``read_npz``, checked to be of ``format_name`` and not too new."""
    if "header" not in arrays:
        raise FileFormatError(f"{path} has no {what} header; it was not written by napari-topoalign")
    raw = arrays["header"]
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise FileFormatError(f"{path} is damaged: its header must be one string, not a {raw.dtype} array "
                              f"of shape {raw.shape}")
    try:
        header = json.loads(str(raw[()]))
    except ValueError as exc:
        raise FileFormatError(f"{path} has a damaged header (bad JSON: {exc})") from exc
    if not isinstance(header, dict) or header.get("format") != format_name:
        raise FileFormatError(f"{path} is an .npz file but not a napari-topoalign {what}")
    version = header.get("version")
    if not _is_int(version) or version < 1:
        raise FileFormatError(f"{path} has no valid format version in its header")
    if version > max_version:
        raise FileFormatError(
            f"{path} was written in {what} format version {version}, newer than this "
            f"napari-topoalign reads (up to {max_version}); upgrade napari-topoalign to open it"
        )
    return header


def put_graph(arrays: dict, prefix: str, g: MapperGraph) -> dict:
    """Store graph ``g``'s arrays under ``prefix``; returns its JSON part (inputs, parameters).
    A lens given as values (array, tensor, Series, list) is stored as a float64 array."""
    params = put_params(arrays, prefix, g.params, f"the lens of graph {prefix}")
    _put_ragged(arrays, f"{prefix}_members", g.members)
    for name in _GRAPH_ARRAYS:
        arrays[f"{prefix}_{name}"] = np.asarray(getattr(g, name))
    arrays[f"{prefix}_edges"] = arrays[f"{prefix}_edges"].reshape(-1, 2)
    return {"n_inputs": int(g.n_inputs), "params": params}


def put_params(arrays: dict, prefix: str, params: MapperParams, what: str = "the lens") -> dict:
    """Store ``params``' lens under ``prefix`` when it is given as values (as a float64 array);
    returns the parameters' JSON part."""
    from .checks import as_lens_values

    if not isinstance(params.lens, str):
        arrays[f"{prefix}_params_lens"] = as_lens_values(params.lens, name=what)
    return _params_to_json(params)


def get_params(arrays: dict, prefix: str, meta, path: Path | None = None) -> MapperParams:
    """The parameters stored by ``put_params`` under ``prefix`` with JSON part ``meta``, checked."""
    check = _FileCheck(arrays, path)
    if not isinstance(meta, dict):
        check.fail(f"header field of {prefix}", "must hold parameters")
    lens = check.floats(f"{prefix}_params_lens", (None,) * check.get(f"{prefix}_params_lens").ndim) \
        if isinstance(meta.get("lens"), dict) else None
    return check.params(prefix, meta, lens)


def get_graph(arrays: dict, prefix: str, meta, path: Path | None = None) -> MapperGraph:
    """The graph stored by ``put_graph`` under ``prefix`` with JSON part ``meta``, every array checked."""
    check = _FileCheck(arrays, path)
    if not isinstance(meta, dict) or not isinstance(meta.get("params"), dict):
        check.fail(f"header field of graph {prefix}", "must hold n_inputs and params")
    n = meta.get("n_inputs")
    if not _is_int(n) or n < 1:
        check.fail(f"header field of graph {prefix}: n_inputs", "must be a whole number >= 1")
    members = check.ragged(f"{prefix}_members", n)
    k = len(members)
    stored_lens = check.get(f"{prefix}_lens")
    d = stored_lens.shape[1] if stored_lens.ndim == 2 and stored_lens.shape[1] in (2, 3) else 1
    lens_shape = (n, d) if d > 1 else (n,)  # a 2-D or 3-D lens: a grid of cells
    intervals = check.floats(f"{prefix}_intervals", (None, 2) if d == 1 else (None, d, 2))
    if (intervals[..., 0] > intervals[..., 1]).any():
        check.fail(f"{prefix}_intervals", "has intervals whose start is after their end")
    edges = check.ints(f"{prefix}_edges", (None, 2), k)
    if (edges[:, 0] >= edges[:, 1]).any():
        check.fail(f"{prefix}_edges", "must list each edge as (i, j) with i < j")
    lens_array = check.floats(f"{prefix}_params_lens", lens_shape) if isinstance(meta["params"].get("lens"), dict) else None
    return MapperGraph(
        members=members,
        edges=edges,
        edge_weight=check.floats(f"{prefix}_edge_weight", (len(edges),)),
        intervals=intervals,
        node_interval=check.ints(f"{prefix}_node_interval", (k,), len(intervals)),
        lens=check.floats(f"{prefix}_lens", lens_shape),
        n_inputs=n,
        uncovered=check.ints(f"{prefix}_uncovered", (None,), n),
        params=check.params(prefix, meta["params"], lens_array),
    )


def put_sparse(arrays: dict, prefix: str, C) -> None:
    C = sp.csr_matrix(C)
    arrays.update({f"{prefix}_data": C.data, f"{prefix}_indices": C.indices, f"{prefix}_indptr": C.indptr,
                   f"{prefix}_shape": np.asarray(C.shape, np.int64)})


def get_sparse(arrays: dict, prefix: str, path: Path | None = None, shape: tuple | None = None) -> sp.csr_matrix:
    """The csr matrix stored by ``put_sparse``, checked (and of ``shape`` when given) before scipy sees it."""
    check = _FileCheck(arrays, path)
    stored = tuple(int(s) for s in check.ints(f"{prefix}_shape", (2,)))
    if shape is not None and stored != tuple(shape):
        check.fail(f"{prefix}_shape", f"is {stored} but the graphs have {shape[0]} and {shape[1]} nodes")
    n_rows, n_cols = stored
    indptr = check.ints(f"{prefix}_indptr", (n_rows + 1,))
    data = check.floats(f"{prefix}_data", (None,))
    indices = check.ints(f"{prefix}_indices", (len(data),), n_cols)
    if indptr[0] != 0 or indptr[-1] != len(data) or (np.diff(indptr) < 0).any():
        check.fail(f"{prefix}_indptr", f"is inconsistent with the {len(data)} stored values")
    if (data < 0).any():
        check.fail(f"{prefix}_data", "has negative values")
    return sp.csr_matrix((data, indices, indptr), shape=stored)


def put_regions(arrays: dict, prefix: str, regions) -> None:
    """Store the regions' node and input arrays (their scores go into the JSON header)."""
    for part in ("nodes_a", "nodes_b", "inputs"):
        _put_ragged(arrays, f"{prefix}_{part}", [np.asarray(getattr(r, part)) for r in regions])


def get_regions(arrays: dict, prefix: str, scores, A=None, B=None, path: Path | None = None) -> list:
    """The regions stored by ``put_regions`` with their ``scores``; node and input indices are checked
    against the graphs ``A`` and ``B`` when given."""
    from .regions import Region

    check = _FileCheck(arrays, path)
    if not isinstance(scores, list) or not all(_is_number(s) for s in scores):
        check.fail("header field region_scores", "must be a list of numbers")
    parts = [
        check.ragged(f"{prefix}_nodes_a", None if A is None else A.n_nodes, strict=False),
        check.ragged(f"{prefix}_nodes_b", None if B is None else B.n_nodes, strict=False),
        check.ragged(f"{prefix}_inputs", None if A is None else A.n_inputs, strict=False),
    ]
    if not len(scores) == len(parts[0]) == len(parts[1]) == len(parts[2]):
        check.fail(
            f"{prefix}_*", f"region arrays ({', '.join(str(len(p)) for p in parts)} regions) and "
            f"region scores ({len(scores)}) disagree in length",
        )
    return [Region(nodes_a=na, nodes_b=nb, inputs=inp, score=s) for na, nb, inp, s in zip(*parts, scores)]


def check_pair(A: MapperGraph, B: MapperGraph, C, pos_a, pos_b) -> None:
    """``FileFormatError`` unless the correspondence and the (finite, (K, 2)) positions fit the two graphs."""
    if C.shape != (A.n_nodes, B.n_nodes):
        raise FileFormatError(f"correspondence is {C.shape} but the graphs have {A.n_nodes} and {B.n_nodes} nodes")
    for pos, k in ((pos_a, A.n_nodes), (pos_b, B.n_nodes)):
        pos = np.asarray(pos)
        if pos.dtype.kind not in "fiu" or pos.shape != (k, 2) or not np.isfinite(pos).all():
            raise FileFormatError(f"layout positions must be finite numbers of shape ({k}, 2), got {pos.dtype} {pos.shape}")


class _FileCheck:
    """Checks of the arrays of a file read by ``read_npz``; each failure a ``FileFormatError`` naming the array."""

    def __init__(self, arrays: dict, path: Path | None):
        self.arrays, self.path = arrays, path

    def fail(self, key: str, problem: str):
        where = f"{self.path} is damaged: " if self.path is not None else ""
        raise FileFormatError(f"{where}{key} {problem}")

    def get(self, key: str) -> np.ndarray:
        if key not in self.arrays:
            where = f"{self.path} is incomplete: " if self.path is not None else ""
            raise FileFormatError(f"{where}missing array {key}")
        return self.arrays[key]

    def _shaped(self, key: str, shape: tuple, kinds: str, what: str) -> np.ndarray:
        a = self.get(key)
        if a.dtype.kind not in kinds:
            self.fail(key, f"must hold {what}, not {a.dtype}")
        if a.ndim != len(shape) or any(want is not None and have != want for have, want in zip(a.shape, shape)):
            want = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ")"
            self.fail(key, f"has shape {a.shape}, expected {want}")
        return a

    def ints(self, key: str, shape: tuple, bound: int | None = None) -> np.ndarray:
        """An integer array of ``shape`` (None: any length) with values in [0, bound)."""
        a = self._shaped(key, shape, "iu", "integers")
        if a.size and (a.min() < 0 or (bound is not None and a.max() >= bound)):
            self.fail(key, f"has values {a.min()}..{a.max()} outside [0, {bound if bound is not None else 'inf'})")
        return a

    def floats(self, key: str, shape: tuple, finite: bool = True) -> np.ndarray:
        """A real array of ``shape`` (None: any length), finite unless ``finite=False``."""
        a = self._shaped(key, shape, "fiu", "real numbers")
        if finite and not np.isfinite(a).all():
            self.fail(key, f"has {int((~np.isfinite(a)).sum())} NaN or infinite values")
        return a

    def ragged(self, key: str, bound: int | None, strict: bool = True) -> list[np.ndarray]:
        """The groups stored by ``_put_ragged`` under ``key``, values in [0, bound); ``strict``:
        each group strictly increasing (sorted member indices)."""
        offsets = self.ints(f"{key}_offsets", (None,))
        indices = self.ints(f"{key}_indices", (None,), bound)
        if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(indices) or (np.diff(offsets) < 0).any():
            self.fail(f"{key}_offsets", f"are inconsistent with the {len(indices)} values of {key}_indices")
        if strict and len(indices) > 1:
            rises = np.diff(indices.astype(np.int64)) > 0
            rises[offsets[1:-1] - 1] = True  # a new group may start lower
            if not rises.all():
                self.fail(f"{key}_indices", "must be sorted and without repeats within each group")
        return [indices[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]

    def score_dict(self, key: str, scores) -> dict:
        if not isinstance(scores, dict) or not all(_is_number(v) for v in scores.values()):
            self.fail(f"header field {key}", "must map score names to numbers")
        return {str(k): float(v) for k, v in scores.items()}

    def params(self, prefix: str, data: dict, lens_array) -> MapperParams:
        """The MapperParams of graph ``prefix``, every value checked by ``check_params``."""
        from .mapper import check_params

        key = f"header field of graph {prefix}: params"
        unknown = set(data) - {f.name for f in fields(MapperParams)}
        if unknown:
            self.fail(key, f"has unknown fields {', '.join(sorted(map(str, unknown)))}")
        data = dict(data)
        lens = data.get("lens", MapperParams.lens)
        if isinstance(lens, dict):
            data["lens"] = lens_array
        elif not isinstance(lens, str):
            self.fail(key, "has a lens that is neither a name nor a stored array")
        if isinstance(data.get("n_intervals"), list):  # one count per lens dimension comes back from JSON as a list
            data["n_intervals"] = tuple(data["n_intervals"])
        try:
            params = MapperParams(**data)
            check_params(params)
        except (TopoAlignError, TypeError) as exc:
            self.fail(key, f"are invalid: {exc}")
        return params


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _put_ragged(arrays: dict, key: str, parts: list) -> None:
    """Store a list of 1-D int arrays as concatenated indices + offsets (``len(parts) + 1`` of them)."""
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    arrays[f"{key}_offsets"] = np.concatenate([np.zeros(1, np.int64), np.cumsum(sizes)])
    arrays[f"{key}_indices"] = (
        np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]) if parts else np.zeros(0, np.int64)
    )


def _json_scalar(value):
    """Numpy scalars in parameters become plain JSON numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in the alignment header")


def _params_to_json(params: MapperParams) -> dict:
    out = {f.name: getattr(params, f.name) for f in fields(params)}
    if not isinstance(out["lens"], str):
        out["lens"] = {"array": True}
    return out


# ---------------------------------------------------------------------- pipeline
def build_graphs(X_a, X_b, params: MapperParams, params_b: MapperParams | None = None, *, shared_lens=False):
    """The mapper graphs of both representations (``params_b`` defaults to ``params``).

    With ``shared_lens`` B is sliced by A's lens values (see ``pipeline.graph_steps``).
    """
    from .pipeline import graph_steps

    return tuple(graph_steps(X_a, X_b, params, params_b, shared_lens=shared_lens))


def align(
    X_a,
    X_b,
    params: MapperParams = MapperParams(),
    *,
    params_b: MapperParams | None = None,
    mode: str = "side_by_side",
    device: str = "auto",
    seed: int = 0,
    iterations: int | None = None,
    names=("A", "B"),
    callback: Callable | None = None,
    progress: Callable[[str, float], None] | None = None,
    shared_lens: bool = False,
    graphs: tuple[MapperGraph, MapperGraph] | None = None,
) -> Alignment:
    """Run the whole pipeline on two representations of the same N inputs.

    ``params`` builds graph A, and graph B too unless ``params_b`` is given (a lens
    given as an (N,) array is then used for both). ``shared_lens=True`` slices B by
    A's lens values (see :func:`build_graphs`). ``graphs=(A, B)`` reuses mapper graphs
    already built from ``X_a`` and ``X_b`` instead (``params``, ``params_b`` and
    ``shared_lens`` are then unused). ``callback(iteration, pos_a, pos_b)``
    is forwarded to the joint layout; ``progress(stage, fraction)`` is called as each
    stage starts and with ("done", 1.0) at the end. The steps are ``pipeline.steps``.
    """
    from .pipeline import Done, LayoutStep, steps

    for name, fn in (("callback", callback), ("progress", progress)):
        if fn is not None and not callable(fn):
            raise ParameterError(f"{name} must be callable or None, got {type(fn).__name__}")
    run = steps(
        X_a, X_b, params, params_b=params_b, shared_lens=shared_lens, graphs=graphs, mode=mode, device=device,
        seed=seed, iterations=iterations, names=names,
    )
    stage = None
    for event in run:
        if progress is not None and event.stage != stage:
            progress(event.stage, event.fraction)
        stage = event.stage
        if isinstance(event, LayoutStep) and callback is not None:
            callback(event.iteration, event.pos_a, event.pos_b)
        elif isinstance(event, Done):
            return event.alignment


__all__ = ["Alignment", "align", "FORMAT_VERSION"]
