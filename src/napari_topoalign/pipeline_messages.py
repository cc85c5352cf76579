"""What ``PipelineProcess`` and its helper send each other, as named arrays plus a JSON header
in one uncompressed ``.npz`` (the alignment file's own helpers; nothing is ever unpickled).

A message's header has ``kind`` ("job", "cancel", "ready", "event", "cancelled", "error") and,
but for "ready", the ``job`` number. Jobs carry ``pipeline.steps``' parameters and graphs (the
representations follow as raw frames); events carry their fields, graphs, regions, Bubble Sets
(as WKB) and alignment; errors their type, message and notes.
"""

from __future__ import annotations

import builtins
import io
import json
from pathlib import Path

import numpy as np

from . import errors
from .alignment import (
    Alignment, _json_scalar, _put_ragged, get_graph, get_params, get_regions, put_graph, put_params, put_regions,
)
from .errors import FileFormatError, TopoAlignError
from .pipeline import BubblesDrawn, Done, GraphBuilt, LayoutStep, RegionsFound, ScoresComputed, StageStarted

#: Where the checks of a message's arrays say they came from.
SOURCE = Path("<the pipeline's process>")
_EVENTS = {cls.__name__: cls for cls in (StageStarted, GraphBuilt, LayoutStep, RegionsFound, BubblesDrawn,
                                         ScoresComputed, Done)}


def encode(header: dict, arrays: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, message=np.array(json.dumps(header, default=_json_scalar)), **(arrays or {}))
    return buffer.getvalue()


def decode(frame) -> tuple[dict, dict]:
    """The header and arrays of a message (``FileFormatError`` when it is not one)."""
    try:
        with np.load(io.BytesIO(frame), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        header = json.loads(str(arrays.pop("message")[()]))
    except (OSError, ValueError, KeyError) as exc:
        raise FileFormatError(f"a damaged message from the pipeline's process: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
        raise FileFormatError("a message from the pipeline's process without its kind")
    return header, arrays


# ---------------------------------------------------------------------- jobs
def job_message(job: int, layout, params, params_b=None, graphs=None, **options) -> bytes:
    """A job of ``pipeline.steps`` (``options``: its other arguments, plain JSON values); the
    representations of ``layout`` ([(dtype, shape)] × 2) follow in frames of their own."""
    arrays = {}
    header = {"kind": "job", "job": job, "layout": [[str(d), list(s)] for d, s in layout], "options": options,
              "params": put_params(arrays, "params", params),
              "params_b": None if params_b is None else put_params(arrays, "params_b", params_b),
              "graphs": None if graphs is None else [put_graph(arrays, f"graph_{s}", g) for s, g in zip("ab", graphs)]}
    return encode(header, arrays)


def read_job(header: dict, arrays: dict) -> dict:
    """``pipeline.steps``' keyword arguments of a job message (but the representations)."""
    kwargs = dict(header["options"], params=get_params(arrays, "params", header["params"], SOURCE))
    if header["params_b"] is not None:
        kwargs["params_b"] = get_params(arrays, "params_b", header["params_b"], SOURCE)
    if header["graphs"] is not None:
        kwargs["graphs"] = tuple(get_graph(arrays, f"graph_{s}", meta, SOURCE) for s, meta in zip("ab", header["graphs"]))
    return kwargs


# ---------------------------------------------------------------------- events
def _put_alignment(header: dict, arrays: dict, alignment: Alignment) -> None:
    parts, meta = alignment.to_arrays()
    arrays.update({f"alignment_{key}": value for key, value in parts.items()})
    arrays["alignment_header"] = np.array(json.dumps(meta, default=_json_scalar))
    header["alignment"] = True


def _get_alignment(arrays: dict) -> Alignment:
    prefix = "alignment_"
    return Alignment.from_arrays({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}, SOURCE)


def ready_message(alignment: Alignment | None) -> bytes:
    """The warm-up's end, with its alignment (None when the warm-up failed)."""
    header, arrays = {"kind": "ready"}, {}
    if alignment is not None:
        _put_alignment(header, arrays, alignment)
    return encode(header, arrays)


def read_ready(arrays: dict) -> Alignment | None:
    return _get_alignment(arrays) if arrays else None


def event_message(job: int, event, alignment_sent: bool) -> bytes:
    """``event`` of ``job``; its alignment only when one has not been sent in this job already
    (the receiver keeps the first, as ``pipeline.steps`` yields one alignment, filled in place)."""
    import shapely

    header = {"kind": "event", "job": job, "type": type(event).__name__, "stage": event.stage,
              "fraction": float(event.fraction), "message": event.message}
    arrays = {}
    if isinstance(event, GraphBuilt):
        header.update(side=event.side, graph=put_graph(arrays, "graph", event.graph))
    elif isinstance(event, LayoutStep):
        header.update(iteration=int(event.iteration), iterations=int(event.iterations))
        arrays.update(pos_a=np.asarray(event.pos_a), pos_b=np.asarray(event.pos_b))
    elif isinstance(event, RegionsFound):
        put_regions(arrays, "region", event.regions)
        header["region_scores"] = [float(r.score) for r in event.regions]
    elif isinstance(event, ScoresComputed):
        header["scores"] = {str(k): float(v) for k, v in event.scores.items()}
    elif isinstance(event, BubblesDrawn):
        wkb = [np.frombuffer(g, np.uint8) for g in shapely.to_wkb([g for parts in event.bubbles for g in parts])]
        _put_ragged(arrays, "bubbles", wkb)
    if hasattr(event, "alignment") and not alignment_sent:
        _put_alignment(header, arrays, event.alignment)
    return encode(header, arrays)


def read_event(header: dict, arrays: dict, alignment: Alignment | None):
    """The event of an event message; ``alignment``: the one this job sent before, if any (the
    event's own otherwise). ``ScoresComputed`` fills it in, as ``pipeline.steps`` does."""
    import shapely

    kind = _EVENTS.get(header.get("type"))
    if kind is None:
        raise FileFormatError(f"an unknown event {header.get('type')!r} from the pipeline's process")
    base = (header["stage"], header["fraction"], header["message"])
    if header.get("alignment"):
        alignment = _get_alignment(arrays)
    if kind is GraphBuilt:
        return GraphBuilt(*base, header["side"], get_graph(arrays, "graph", header["graph"], SOURCE))
    if kind is LayoutStep:
        return LayoutStep(*base, header["iteration"], header["iterations"], arrays["pos_a"], arrays["pos_b"])
    if kind is RegionsFound:
        return RegionsFound(*base, get_regions(arrays, "region", header["region_scores"], path=SOURCE))
    if kind is ScoresComputed:
        if alignment is not None:
            alignment.scores.update(header["scores"])
        return ScoresComputed(*base, header["scores"])
    if kind is BubblesDrawn:
        offsets, data = arrays["bubbles_offsets"], arrays["bubbles_indices"].astype(np.uint8)
        geometries = shapely.from_wkb([data[a:b].tobytes() for a, b in zip(offsets[:-1], offsets[1:])])
        alignment._bubbles = [tuple(geometries[i:i + 3]) for i in range(0, len(geometries), 3)]
        return BubblesDrawn(*base, alignment._bubbles, alignment)
    if kind is Done:
        return Done(*base, alignment)
    return StageStarted(*base)


# ---------------------------------------------------------------------- errors
def error_message(job: int, exc: Exception, notes: list[str]) -> bytes:
    """``exc`` of ``job`` (its type, message, notes and the extra ``notes``)."""
    return encode({"kind": "error", "job": job, "type": type(exc).__name__, "module": type(exc).__module__,
                   "message": str(exc), "notes": [*getattr(exc, "__notes__", []), *notes]})


def read_error(header: dict) -> Exception:
    """The exception of an error message: a TopoAlignError or built-in exception of its type, else a
    RuntimeError naming it."""
    name, message = header["type"], header["message"]
    module = errors if header["module"] == errors.__name__ else builtins if header["module"] == "builtins" else None
    kind = getattr(module, name, None)
    try:
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            raise TypeError(name)
        exc = kind(message)
    except TypeError:  # not ours, or its constructor takes other arguments
        exc = TopoAlignError(message) if module is errors else RuntimeError(f"{name}: {message}")
    for note in header["notes"]:
        exc.add_note(note)
    return exc
