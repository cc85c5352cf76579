"""The whole pipeline in one call, and its result as one object saved to one file.

``align(X_a, X_b)`` builds both mapper graphs, their correspondence, the joint
layout, the matching regions and the alignment scores. ``Alignment.save`` writes
a single ``.npz`` of plain arrays plus a JSON header (never a pickle) and
``Alignment.load`` reads it back exactly.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.sparse as sp

from .errors import FileFormatError
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
        """Write the alignment to one ``.npz`` file (arrays + a JSON header, no pickle)."""
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
        return write_npz(path, arrays, header)

    @classmethod
    def load(cls, path) -> "Alignment":
        """Read a file written by ``save``; a damaged or too-new file raises ``FileFormatError``."""
        path = Path(path)
        return cls._from_arrays(read_npz(path, "alignment", "Alignment.save"), path)

    @classmethod
    def _from_arrays(cls, arrays: dict, path: Path) -> "Alignment":
        from .layout import JointLayout

        header = read_header(arrays, path, FORMAT_NAME, FORMAT_VERSION, "alignment")
        required = ["corr_data", "corr_indices", "corr_indptr", "corr_shape", "layout_pos_a", "layout_pos_b",
                    "layout_offset", "layout_energy"]
        for side in "ab":
            required += [f"{side}_members_indices", f"{side}_members_offsets"]
            required += [f"{side}_{name}" for name in _GRAPH_ARRAYS]
        for part in ("nodes_a", "nodes_b", "inputs"):
            required += [f"region_{part}_indices", f"region_{part}_offsets"]
        missing = [k for k in required if k not in arrays]
        if missing:
            raise FileFormatError(f"{path} is incomplete: missing arrays {', '.join(missing)}")
        try:
            A, B = (get_graph(arrays, side, header[f"graph_{side}"]) for side in "ab")
            C = get_sparse(arrays, "corr")
            layout = JointLayout(
                pos_a=arrays["layout_pos_a"],
                pos_b=arrays["layout_pos_b"],
                offset=arrays["layout_offset"],
                energy=arrays["layout_energy"],
                device=str(header["layout"]["device"]),
                mode=str(header["layout"]["mode"]),
            )
            regions = get_regions(arrays, "region", header["region_scores"])
            check_pair(A, B, C, layout.pos_a, layout.pos_b)
            names = tuple(str(n) for n in header["names"])
            if len(names) != 2:
                raise ValueError("names must be two strings")
            return cls(A, B, C, layout, regions, {str(k): float(v) for k, v in header["scores"].items()}, names)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise FileFormatError(f"{path} is damaged: {exc}") from exc


# ---------------------------------------------------------------------- file format helpers
# (shared with chain.Chain: one .npz of named arrays plus a JSON header, never a pickle)
def write_npz(path, arrays: dict, header: dict) -> Path:
    """Write ``arrays`` and the JSON ``header`` to one compressed ``.npz`` at ``path``, atomically."""
    path = Path(path)
    arrays = dict(arrays, header=np.array(json.dumps(header, default=_json_scalar)))
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    os.replace(tmp, path)
    return path


def read_npz(path: Path, what: str, writer: str) -> dict:
    """Every array of the ``.npz`` at ``path`` (never unpickled); ``FileFormatError`` when unreadable."""
    if not path.is_file():
        raise FileNotFoundError(f"no {what} file at {path}")
    try:
        with open(path, "rb") as fh:  # closed even when np.load fails half-way
            loaded = np.load(fh, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise FileFormatError(f"{path} is a single .npy array, not an {what} file (.npz)")
            with loaded as z:
                return {k: z[k] for k in z.files}
    except FileFormatError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as exc:
        raise FileFormatError(
            f"{path} is not a readable {what} file (damaged or not an .npz written by {writer}): {exc}"
        ) from exc


def read_header(arrays: dict, path: Path, format_name: str, max_version: int, what: str) -> dict:
    """The JSON header of a file read by ``read_npz``, checked to be of ``format_name`` and not too new."""
    if "header" not in arrays:
        raise FileFormatError(f"{path} has no {what} header; it was not written by napari-topoalign")
    try:
        header = json.loads(str(arrays["header"][()]))
    except (ValueError, TypeError) as exc:
        raise FileFormatError(f"{path} has a damaged header (bad JSON: {exc})") from exc
    if not isinstance(header, dict) or header.get("format") != format_name:
        raise FileFormatError(f"{path} is an .npz file but not a napari-topoalign {what}")
    version = header.get("version")
    if not isinstance(version, int):
        raise FileFormatError(f"{path} has no valid format version in its header")
    if version > max_version:
        raise FileFormatError(
            f"{path} was written in {what} format version {version}, newer than this "
            f"napari-topoalign reads (up to {max_version}); upgrade napari-topoalign to open it"
        )
    return header


def put_graph(arrays: dict, prefix: str, g: MapperGraph) -> dict:
    """Store graph ``g``'s arrays under ``prefix``; returns its JSON part (inputs, parameters)."""
    if isinstance(g.params.lens, np.ndarray):
        arrays[f"{prefix}_params_lens"] = g.params.lens
    _put_ragged(arrays, f"{prefix}_members", g.members)
    for name in _GRAPH_ARRAYS:
        arrays[f"{prefix}_{name}"] = np.asarray(getattr(g, name))
    return {"n_inputs": int(g.n_inputs), "params": _params_to_json(g.params)}


def get_graph(arrays: dict, prefix: str, meta: dict) -> MapperGraph:
    """The graph stored by ``put_graph`` under ``prefix`` with JSON part ``meta``."""
    return MapperGraph(
        members=_get_ragged(arrays, f"{prefix}_members"),
        **{name: arrays[f"{prefix}_{name}"] for name in _GRAPH_ARRAYS},
        n_inputs=int(meta["n_inputs"]),
        params=_params_from_json(meta["params"], arrays.get(f"{prefix}_params_lens")),
    )


def put_sparse(arrays: dict, prefix: str, C) -> None:
    C = sp.csr_matrix(C)
    arrays.update({f"{prefix}_data": C.data, f"{prefix}_indices": C.indices, f"{prefix}_indptr": C.indptr,
                   f"{prefix}_shape": np.asarray(C.shape, np.int64)})


def get_sparse(arrays: dict, prefix: str) -> sp.csr_matrix:
    shape = tuple(int(s) for s in arrays[f"{prefix}_shape"])
    return sp.csr_matrix(
        (arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]), shape=shape
    )


def put_regions(arrays: dict, prefix: str, regions) -> None:
    """Store the regions' node and input arrays (their scores go into the JSON header)."""
    for part in ("nodes_a", "nodes_b", "inputs"):
        _put_ragged(arrays, f"{prefix}_{part}", [np.asarray(getattr(r, part)) for r in regions])


def get_regions(arrays: dict, prefix: str, scores) -> list:
    from .regions import Region

    parts = {p: _get_ragged(arrays, f"{prefix}_{p}") for p in ("nodes_a", "nodes_b", "inputs")}
    scores = [float(s) for s in scores]
    if not len(scores) == len(parts["nodes_a"]) == len(parts["nodes_b"]) == len(parts["inputs"]):
        raise ValueError("the region arrays and region scores disagree in length")
    return [
        Region(nodes_a=na, nodes_b=nb, inputs=inp, score=s)
        for na, nb, inp, s in zip(parts["nodes_a"], parts["nodes_b"], parts["inputs"], scores)
    ]


def check_pair(A: MapperGraph, B: MapperGraph, C, pos_a, pos_b) -> None:
    """``ValueError`` unless the correspondence and the positions fit the two graphs' node counts."""
    if C.shape != (A.n_nodes, B.n_nodes):
        raise ValueError(f"correspondence is {C.shape} but the graphs have {A.n_nodes} and {B.n_nodes} nodes")
    if len(pos_a) != A.n_nodes or len(pos_b) != B.n_nodes:
        raise ValueError("layout positions do not match the graphs' node counts")


def _put_ragged(arrays: dict, key: str, parts: list) -> None:
    """Store a list of 1-D int arrays as concatenated indices + offsets."""
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    arrays[f"{key}_offsets"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    arrays[f"{key}_indices"] = (
        np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]) if parts else np.zeros(0, np.int64)
    )


def _get_ragged(arrays: dict, key: str) -> list[np.ndarray]:
    indices, offsets = arrays[f"{key}_indices"], arrays[f"{key}_offsets"]
    if (
        offsets.ndim != 1
        or len(offsets) == 0
        or offsets[0] != 0
        or offsets[-1] != len(indices)
        or np.any(np.diff(offsets) < 0)
    ):
        raise ValueError(f"offsets of {key} are inconsistent with its {len(indices)} indices")
    return np.split(indices, offsets[1:-1])


def _json_scalar(value):
    """Numpy scalars in parameters become plain JSON numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in the alignment header")


def _params_to_json(params: MapperParams) -> dict:
    out = {f.name: getattr(params, f.name) for f in fields(params)}
    if isinstance(out["lens"], np.ndarray):
        out["lens"] = {"array": True}
    return out


def _params_from_json(data: dict, lens_array) -> MapperParams:
    data = dict(data)
    if isinstance(data.get("lens"), dict):
        if lens_array is None:
            raise ValueError("the lens array of the parameters is missing")
        data["lens"] = lens_array
    return MapperParams(**data)


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
