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

from .checks import as_matrix, check_mapper_params, check_same_inputs, check_seed, existing_file
from .errors import (
    EmptyInputError,
    FileFormatError,
    InputShapeError,
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
        path = Path(path)
        if path.is_dir():
            raise ParameterError(f"{path} is a folder; give the alignment file's name, e.g. {path / 'alignment.npz'}")
        if not path.parent.is_dir():
            raise MissingFileError(f"cannot save to {path}: the folder {path.parent} does not exist; create it first")
        arrays = self._to_arrays()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the file format, the JSON header included as the 0-D string array ``header``."""
        from .checks import as_lens_values

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
            header[f"graph_{side}"] = {"n_inputs": int(g.n_inputs), "params": _params_to_json(g.params)}
            if not isinstance(g.params.lens, str):
                arrays[f"{side}_params_lens"] = as_lens_values(g.params.lens, name=f"graph {side.upper()}'s lens")
            _put_ragged(arrays, f"{side}_members", g.members)
            for name in _GRAPH_ARRAYS:
                arrays[f"{side}_{name}"] = np.asarray(getattr(g, name))
            arrays[f"{side}_edges"] = arrays[f"{side}_edges"].reshape(-1, 2)
        C = sp.csr_matrix(self.correspondence)
        arrays.update(
            corr_data=C.data, corr_indices=C.indices, corr_indptr=C.indptr, corr_shape=np.asarray(C.shape, np.int64)
        )
        lay = self.layout
        arrays.update(
            layout_pos_a=np.asarray(lay.pos_a),
            layout_pos_b=np.asarray(lay.pos_b),
            layout_offset=np.asarray(lay.offset),
            layout_energy=np.asarray(lay.energy),
        )
        for part in ("nodes_a", "nodes_b", "inputs"):
            _put_ragged(arrays, f"region_{part}", [np.asarray(getattr(r, part)) for r in self.regions])
        try:
            arrays["header"] = np.array(json.dumps(header, default=_json_scalar, allow_nan=True))
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"the alignment cannot be saved: {exc}") from exc
        return arrays

    @classmethod
    def load(cls, path) -> "Alignment":
        """Read a file written by ``save``.

        Every array and header field is checked (types, shapes, index ranges, finite values,
        parameter values) before anything is built from it: a damaged, crafted or too-new file
        raises ``FileFormatError`` naming what is wrong; a missing one ``MissingFileError``.
        """
        from .io import read_npz

        path = existing_file(path, "alignment file")
        try:
            with open(path, "rb") as fh:
                if fh.read(6) == b"\x93NUMPY":
                    raise FileFormatError(f"{path} is a single .npy array, not an alignment file (.npz)")
            arrays = read_npz(path)
        except (FileFormatError, EmptyInputError) as exc:
            raise FileFormatError(
                f"{path} is not a readable alignment file (damaged or not an .npz written by Alignment.save): {exc}"
            ) from exc
        return cls._from_arrays(arrays, path)

    @classmethod
    def _from_arrays(cls, arrays: dict, path: Path) -> "Alignment":
        from .layout import JointLayout
        from .regions import Region

        check = _FileCheck(arrays, path)
        header = check.header()
        graphs = []
        for side in "ab":
            meta = header[f"graph_{side}"]
            n = meta["n_inputs"]
            members = check.ragged(f"{side}_members", n)
            k = len(members)
            intervals = check.floats(f"{side}_intervals", (None, 2))
            if (intervals[:, 0] > intervals[:, 1]).any():
                check.fail(f"{side}_intervals", "has intervals whose start is after their end")
            edges = check.ints(f"{side}_edges", (None, 2), k)
            if (edges[:, 0] >= edges[:, 1]).any():
                check.fail(f"{side}_edges", "must list each edge as (i, j) with i < j")
            lens_array = check.floats(f"{side}_params_lens", (n,)) if isinstance(meta["params"]["lens"], dict) else None
            graphs.append(
                MapperGraph(
                    members=members,
                    edges=edges,
                    edge_weight=check.floats(f"{side}_edge_weight", (len(edges),)),
                    intervals=intervals,
                    node_interval=check.ints(f"{side}_node_interval", (k,), len(intervals)),
                    lens=check.floats(f"{side}_lens", (n,)),
                    n_inputs=n,
                    uncovered=check.ints(f"{side}_uncovered", (None,), n),
                    params=check.params(side, meta["params"], lens_array),
                )
            )
        A, B = graphs
        if A.n_inputs != B.n_inputs:
            check.fail("header", f"graph A has {A.n_inputs} inputs but graph B has {B.n_inputs}")
        C = check.csr(A.n_nodes, B.n_nodes)
        layout = JointLayout(
            pos_a=check.floats("layout_pos_a", (A.n_nodes, 2)),
            pos_b=check.floats("layout_pos_b", (B.n_nodes, 2)),
            offset=check.floats("layout_offset", (2,)),
            energy=check.floats("layout_energy", (None,), finite=False),
            device=header["layout"]["device"],
            mode=header["layout"]["mode"],
        )
        parts = [
            check.ragged("region_nodes_a", A.n_nodes, strict=False),
            check.ragged("region_nodes_b", B.n_nodes, strict=False),
            check.ragged("region_inputs", A.n_inputs, strict=False),
        ]
        scores = header["region_scores"]
        if not len(scores) == len(parts[0]) == len(parts[1]) == len(parts[2]):
            check.fail(
                "region_*", f"region arrays ({', '.join(str(len(p)) for p in parts)} regions) and "
                f"region scores ({len(scores)}) disagree in length",
            )
        regions = [Region(nodes_a=na, nodes_b=nb, inputs=inp, score=s) for na, nb, inp, s in zip(*parts, scores)]
        return cls(A, B, C, layout, regions, dict(header["scores"]), tuple(header["names"]))


class _FileCheck:
    """Checks of the arrays and the header of an alignment file; each failure a ``FileFormatError``."""

    def __init__(self, arrays: dict, path: Path):
        self.arrays, self.path = arrays, path

    def fail(self, key: str, problem: str):
        raise FileFormatError(f"{self.path} is damaged: {key} {problem}")

    def get(self, key: str) -> np.ndarray:
        if key not in self.arrays:
            raise FileFormatError(f"{self.path} is incomplete: missing array {key}")
        return self.arrays[key]

    def _shaped(self, key: str, shape: tuple, kinds: str, what: str) -> np.ndarray:
        a = self.get(key)
        if a.dtype.kind not in kinds:
            self.fail(key, f"must hold {what}, not {a.dtype}")
        if a.ndim != len(shape) or any(want is not None and have != want for have, want in zip(a.shape, shape)):
            want = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ")"
            self.fail(key, f"has shape {a.shape}, expected {want}")
        return a

    def ints(self, key: str, shape: tuple, bound: int | None = None, low: int = 0) -> np.ndarray:
        """An integer array of ``shape`` (None: any length) with values in [low, bound)."""
        a = self._shaped(key, shape, "iu", "integers")
        if a.size and (a.min() < low or (bound is not None and a.max() >= bound)):
            self.fail(key, f"has values {a.min()}..{a.max()} outside [{low}, {bound})")
        return a

    def floats(self, key: str, shape: tuple, finite: bool = True) -> np.ndarray:
        """A real array of ``shape`` (None: any length), finite unless ``finite=False``."""
        a = self._shaped(key, shape, "fiu", "real numbers")
        if finite and not np.isfinite(a).all():
            self.fail(key, f"has {int((~np.isfinite(a)).sum())} NaN or infinite values")
        return a

    def ragged(self, key: str, bound: int, strict: bool = True) -> list[np.ndarray]:
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

    def csr(self, n_rows: int, n_cols: int) -> sp.csr_matrix:
        shape = self.ints("corr_shape", (2,))
        if tuple(int(s) for s in shape) != (n_rows, n_cols):
            self.fail("corr_shape", f"is {tuple(shape)} but the graphs have {n_rows} and {n_cols} nodes")
        indptr = self.ints("corr_indptr", (n_rows + 1,))
        data = self.floats("corr_data", (None,))
        indices = self.ints("corr_indices", (len(data),), n_cols)
        if indptr[0] != 0 or indptr[-1] != len(data) or (np.diff(indptr) < 0).any():
            self.fail("corr_indptr", f"is inconsistent with the {len(data)} stored values")
        if (data < 0).any():
            self.fail("corr_data", "has negative values")
        return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))

    def header(self) -> dict:
        """The JSON header, with the type of every field checked."""
        raw = self.get("header")
        if raw.dtype.kind != "U" or raw.ndim != 0:
            self.fail("header", f"must be one string, not a {raw.dtype} array of shape {raw.shape}")
        try:
            header = json.loads(str(raw[()]))
        except ValueError as exc:
            raise FileFormatError(f"{self.path} has a damaged header (bad JSON: {exc})") from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise FileFormatError(f"{self.path} is an .npz file but not a napari-topoalign alignment")
        version = header.get("version")
        if not _is_int(version) or version < 1:
            raise FileFormatError(f"{self.path} has no valid format version in its header")
        if version > FORMAT_VERSION:
            raise FileFormatError(
                f"{self.path} was written in alignment format version {version}, newer than this "
                f"napari-topoalign reads (up to {FORMAT_VERSION}); upgrade napari-topoalign to open it"
            )
        names = header.get("names")
        if not isinstance(names, list) or len(names) != 2 or not all(isinstance(n, str) for n in names):
            self.fail("header field names", "must be two strings")
        scores = header.get("scores")
        if not isinstance(scores, dict) or not all(_is_number(v) for v in scores.values()):
            self.fail("header field scores", "must map score names to numbers")
        region_scores = header.get("region_scores")
        if not isinstance(region_scores, list) or not all(_is_number(v) for v in region_scores):
            self.fail("header field region_scores", "must be a list of numbers")
        layout = header.get("layout")
        if (
            not isinstance(layout, dict)
            or not isinstance(layout.get("device"), str)
            or layout.get("mode") not in ("side_by_side", "overlay")
        ):
            self.fail("header field layout", "must give the device and a mode side_by_side or overlay")
        for side in "ab":
            meta = header.get(f"graph_{side}")
            if not isinstance(meta, dict) or not isinstance(meta.get("params"), dict):
                self.fail(f"header field graph_{side}", "must hold n_inputs and params")
            if not _is_int(meta.get("n_inputs")) or meta["n_inputs"] < 1:
                self.fail(f"header field graph_{side}.n_inputs", "must be a whole number >= 1")
        return header

    def params(self, side: str, data: dict, lens_array) -> MapperParams:
        """The MapperParams of graph ``side``, every value checked by ``check_params``."""
        from .mapper import check_params

        key = f"header field graph_{side}.params"
        unknown = set(data) - {f.name for f in fields(MapperParams)}
        if unknown:
            self.fail(key, f"has unknown fields {', '.join(sorted(map(str, unknown)))}")
        data = dict(data)
        lens = data.get("lens", MapperParams.lens)
        if isinstance(lens, dict):
            data["lens"] = lens_array
        elif not isinstance(lens, str):
            self.fail(key, "has a lens that is neither a name nor a stored array")
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

    With ``shared_lens`` B is sliced by A's lens values, so both graphs come from the
    same cover elements: where the two representations cluster alike, their nodes
    then correspond one to one, which makes regions and motifs directly comparable.
    """
    from dataclasses import replace

    from .mapper import build_mapper

    params_b = params if params_b is None else params_b
    A = build_mapper(X_a, params)
    if shared_lens:
        params_b = replace(params_b, lens=A.lens)
    return A, build_mapper(X_b, params_b)


def _given_graphs(graphs, n_inputs: int) -> tuple[MapperGraph, MapperGraph]:
    """``graphs`` as a pair of MapperGraphs of ``n_inputs`` inputs, or an ``InputShapeError`` saying why not."""
    graphs = tuple(graphs)
    if len(graphs) != 2 or not all(isinstance(g, MapperGraph) for g in graphs):
        raise InputShapeError("graphs must be a pair (A, B) of MapperGraphs built by build_mapper / build_graphs")
    for side, g in zip("AB", graphs):
        if g.n_inputs != n_inputs:
            raise InputShapeError(
                f"graph {side} was built from {g.n_inputs} inputs but the representations have {n_inputs}; "
                "pass the graphs of these representations, or graphs=None to build them"
            )
    return graphs


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
    stage starts and with fraction 1.0 at the end.
    """
    from .correspond import correspondence
    from .layout import joint_layout
    from .metrics import alignment_scores
    from .regions import find_matching_regions

    if isinstance(names, str) or not hasattr(names, "__len__") or len(names) != 2:
        raise ParameterError(f"names must be two strings, got {names!r}")
    names = tuple(str(n) for n in names)
    params = check_mapper_params(params)
    params_b = None if params_b is None else check_mapper_params(params_b, "params_b")
    seed = check_seed(seed)
    for name, fn in (("callback", callback), ("progress", progress)):
        if fn is not None and not callable(fn):
            raise ParameterError(f"{name} must be callable or None, got {type(fn).__name__}")
    X_a = as_matrix(X_a, name=f"representation {names[0]}")
    X_b = as_matrix(X_b, name=f"representation {names[1]}")
    check_same_inputs(X_a, X_b, names=names)

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("mapper graphs", 0.0)
    if graphs is None:
        A, B = build_graphs(X_a, X_b, params, params_b, shared_lens=shared_lens)
    else:
        A, B = _given_graphs(graphs, X_a.shape[0])
    report("correspondence", 0.3)
    C = correspondence(A, B)
    report("layout", 0.35)
    layout = joint_layout(A, B, C, mode=mode, iterations=iterations, device=device, seed=seed, callback=callback)
    report("regions", 0.8)
    regions = find_matching_regions(A, B, C)
    report("scores", 0.9)
    scores = alignment_scores(X_a, X_b, A, B, C)
    report("done", 1.0)
    return Alignment(A, B, C, layout, list(regions), dict(scores), names)


__all__ = ["Alignment", "align", "FORMAT_VERSION"]
