"""Pipeline jobs, events and errors as arrays plus JSON: what goes in comes out, nothing is unpickled."""

import io
import pickle

import numpy as np
import pytest

from napari_topoalign import pipeline as P
from napari_topoalign import pipeline_messages as M
from napari_topoalign.errors import FileFormatError, InputShapeError, MissingFileError, TopoAlignError
from napari_topoalign.mapper import MapperParams, build_mapper

from test_pipeline import circles

PARAMS = MapperParams(lens="pca", n_intervals=8, overlap=0.4)


def _round_trip(events):
    out, alignment = [], None
    for event in events:
        header, arrays = M.decode(M.event_message(1, event, alignment_sent=alignment is not None))
        event = M.read_event(header, arrays, alignment)
        alignment = getattr(event, "alignment", alignment)
        out.append(event)
    return out


def test_events_come_back_equal_with_one_alignment_filled_in_place():
    events = list(P.steps(*circles(), PARAMS, bubbles=True, device="cpu", iterations=40))
    back = _round_trip(events)
    assert [type(e) for e in back] == [type(e) for e in events]
    assert [(e.stage, e.fraction, e.message) for e in back] == [(e.stage, e.fraction, e.message) for e in events]
    for e, b in zip(events, back):
        if isinstance(e, P.GraphBuilt):
            assert b.side == e.side and [m.tolist() for m in b.graph.members] == [m.tolist() for m in e.graph.members]
            np.testing.assert_array_equal(b.graph.edges, e.graph.edges)
        if isinstance(e, P.LayoutStep):
            np.testing.assert_array_equal(b.pos_a, e.pos_a)
            assert (b.iteration, b.iterations) == (e.iteration, e.iterations)
        if isinstance(e, P.RegionsFound):
            assert [r.nodes_a.tolist() for r in b.regions] == [r.nodes_a.tolist() for r in e.regions]
        if isinstance(e, P.BubblesDrawn):
            assert all(x.equals(y) for bx, by in zip(b.bubbles, e.bubbles) for x, y in zip(bx, by))
    drawn = next(b for b in back if isinstance(b, P.BubblesDrawn)).alignment
    assert back[-1].alignment is drawn and drawn.scores == pytest.approx(events[-1].alignment.scores)
    assert drawn.bubbles() is drawn._bubbles  # not computed again


def test_a_job_carries_the_parameters_and_graphs():
    X_a, X_b = circles()
    graphs = (build_mapper(X_a, PARAMS), build_mapper(X_b, PARAMS))
    lens = MapperParams(lens=np.linspace(0, 1, len(X_a)), n_intervals=5)
    header, arrays = M.decode(M.job_message(3, [], PARAMS, lens, graphs, iterations=40, names=["a", "b"]))
    kwargs = M.read_job(header, arrays)
    assert header["job"] == 3 and kwargs["params"] == PARAMS and kwargs["iterations"] == 40
    np.testing.assert_array_equal(kwargs["params_b"].lens, lens.lens)
    assert [g.n_nodes for g in kwargs["graphs"]] == [g.n_nodes for g in graphs]


def test_errors_come_back_as_their_type_with_their_notes():
    for exc in (InputShapeError("rows differ"), MissingFileError("no such file"), TypeError("bad option")):
        back = M.read_error(M.decode(M.error_message(1, exc, ["where"]))[0])
        assert type(back) is type(exc) and str(back) == str(exc) and back.__notes__ == ["where"]

    class Odd(Exception):
        pass

    back = M.read_error(M.decode(M.error_message(1, Odd("x"), []))[0])
    assert type(back) is RuntimeError and "Odd: x" in str(back)
    assert isinstance(M.read_error(M.decode(M.error_message(1, UnicodeDecodeError("utf-8", b"", 0, 1, "no"), []))[0]),
                      RuntimeError)
    assert issubclass(InputShapeError, TopoAlignError)


def test_what_is_not_a_message_is_refused_and_never_unpickled():
    buffer = io.BytesIO()
    np.savez(buffer, message=np.array('{"kind": "event"}'), payload=np.array([object()], dtype=object))
    with pytest.raises(FileFormatError):
        M.decode(buffer.getvalue())
    with pytest.raises(FileFormatError):
        M.decode(pickle.dumps({"kind": "event"}))
    with pytest.raises(FileFormatError):
        M.decode(M.encode({"no": "kind"}))
