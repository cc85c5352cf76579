"""The state of one TopoAlign session, without Qt: what the napari tabs bind to and the layers follow.

``Session`` holds the representations in the order they arrived, the two chosen for A and B,
the input table, both sides' ``MapperParams`` (a sample's recommended ones when a sample is
opened), the layout options, the mapper graphs, the alignment and the current selection.
Every change goes through a method, which emits one of the ``Session.events`` (psygnal
signals, no Qt): views subscribe and render, they never hold state of their own. This follows
napari-animation's split of a pure ``Animation`` model and its ``_qt`` views.

Rules the methods keep:

- representations are assigned in the order they arrive: the first goes to A, the second to B,
  later ones alternate; an arrival never puts the same representation on both sides. Choosing
  it for both by hand (``set_representation``) is allowed, and ``note`` says so;
- changing A, B or the inputs drops the graphs; changing parameters drops the graphs
  (the alignment stays until a new one replaces it);
- the selection is a pure query on the alignment (``select_nodes``, ``select_inputs``):
  nodes → counterparts (correspondence > 0, strongest first) → member inputs, and inputs →
  the nodes of both graphs holding them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from psygnal import Signal, SignalGroup

from .errors import ParameterError, TopoAlignError
from .mapper import MapperParams

SIDES = ("a", "b")
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class LayoutOptions:
    """Options of the joint layout (``joint_layout``'s mode, device, seed, iterations; None = by size)."""

    mode: str = "side_by_side"
    device: str = "auto"
    seed: int = 0
    iterations: int | None = None


@dataclass(frozen=True)
class Selection:
    """Selected nodes and inputs. ``side``: where the selection started ("a", "b", "inputs" or None).

    ``nodes_a``, ``nodes_b``: selected nodes of each graph (for a node selection, the other side's are
    its counterparts); ``counterparts``: the other side's nodes, strongest first, with ``strength``
    (their largest correspondence to a selected node); ``inputs``: selected input indices (sorted).
    """

    side: str | None = None
    nodes_a: np.ndarray = field(default_factory=lambda: _EMPTY)
    nodes_b: np.ndarray = field(default_factory=lambda: _EMPTY)
    counterparts: np.ndarray = field(default_factory=lambda: _EMPTY)
    strength: np.ndarray = field(default_factory=lambda: np.zeros(0))
    inputs: np.ndarray = field(default_factory=lambda: _EMPTY)

    @property
    def empty(self) -> bool:
        return self.side is None


def select_nodes(alignment, side: str, nodes) -> Selection:
    """Nodes of graph ``side`` of ``alignment``, their counterparts in the other graph and their inputs."""
    if side not in SIDES:
        raise ParameterError(f"side must be 'a' or 'b', got {side!r}")
    graph = alignment.graph_a if side == "a" else alignment.graph_b
    nodes = np.unique(np.asarray(list(nodes), dtype=np.int64))
    if len(nodes) and (nodes.min() < 0 or nodes.max() >= graph.n_nodes):
        raise IndexError(f"graph {side.upper()} has {graph.n_nodes} nodes; got node ids {nodes.tolist()}")
    if not len(nodes):
        return Selection()
    C = sp.csr_matrix(alignment.correspondence)
    rows = C[nodes] if side == "a" else C.T.tocsr()[nodes]
    strength = np.asarray(rows.max(axis=0).todense()).ravel()
    other = np.flatnonzero(strength > 0)
    order = np.argsort(-strength[other], kind="stable")
    counterparts = other[order].astype(np.int64)
    inputs = np.unique(graph.membership()[nodes].indices).astype(np.int64)
    chosen = {side: nodes, "b" if side == "a" else "a": np.sort(counterparts)}
    return Selection(side, chosen["a"], chosen["b"], counterparts, strength[counterparts], inputs)


def select_inputs(alignment, indices) -> Selection:
    """Inputs ``indices`` and every node of both graphs of ``alignment`` that holds one of them."""
    idx = np.unique(np.asarray(list(indices), dtype=np.int64))
    n = alignment.graph_a.n_inputs
    if len(idx) and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"there are {n} inputs; got input ids outside 0..{n - 1}")
    if not len(idx):
        return Selection()
    hits = [np.asarray(g.membership()[:, idx].sum(axis=1)).ravel() for g in (alignment.graph_a, alignment.graph_b)]
    return Selection("inputs", np.flatnonzero(hits[0] > 0), np.flatnonzero(hits[1] > 0), inputs=idx)


class SessionEvents(SignalGroup):
    """What changed. Each signal is emitted after the session's state changed; no arguments
    except ``selection`` (the new ``Selection``)."""

    representations = Signal()  # the list of known representations
    data = Signal()  # A, B or the inputs
    params = Signal()  # params_a, params_b or shared_lens
    layout = Signal()  # the layout options
    graphs = Signal()
    alignment = Signal()
    selection = Signal(object)


class Session:
    """One TopoAlign session (see the module doc). All attributes are read-only outside the methods."""

    def __init__(self):
        self.events = SessionEvents()
        self.representations: list = []
        self.rep_a = self.rep_b = None
        self.inputs = None
        self.params_a = self.params_b = MapperParams()
        self.shared_lens = False
        self.layout = LayoutOptions()
        self.graph_a = self.graph_b = None
        self.alignment = None
        self.selection = Selection()
        self._next_side = "a"

    # ------------------------------------------------------------------ data
    def add_representation(self, rep, side: str | None = None) -> str:
        """A representation arrived: it goes to ``side`` when given (e.g. opened for B), else to A if
        empty, else to B if empty, else to the side not filled last. Returns that side ("" for one
        already known, which changes nothing)."""
        if any(r is rep for r in self.representations):
            return ""
        self.representations.append(rep)
        self.events.representations.emit()
        if side is None:
            side = "a" if self.rep_a is None else "b" if self.rep_b is None else self._next_side
        self.set_representation(side, rep)
        return side

    def remove_representation(self, rep) -> None:
        """Forget a representation (its layer was deleted); a side holding it becomes empty."""
        if not any(r is rep for r in self.representations):
            return
        self.representations = [r for r in self.representations if r is not rep]
        self.events.representations.emit()
        a = None if self.rep_a is rep else self.rep_a
        b = None if self.rep_b is rep else self.rep_b
        self.set_data(a, b, self.inputs)

    def set_representation(self, side: str, rep) -> None:
        """Put ``rep`` (or None) on ``side``; the same representation on both sides only this way."""
        if side not in SIDES:
            raise ParameterError(f"side must be 'a' or 'b', got {side!r}")
        self._next_side = "b" if side == "a" else "a"
        a, b = (rep, self.rep_b) if side == "a" else (self.rep_a, rep)
        self.set_data(a, b, self.inputs)

    def set_inputs(self, inputs) -> None:
        """The input table (labels, texts, images, positions) or None."""
        self.set_data(self.rep_a, self.rep_b, inputs)

    def set_data(self, rep_a, rep_b, inputs) -> None:
        """A, B and the inputs at once; the graphs are dropped when any changes."""
        if rep_a is self.rep_a and rep_b is self.rep_b and inputs is self.inputs:
            return
        self.rep_a, self.rep_b, self.inputs = rep_a, rep_b, inputs
        self.set_graphs(None, None)
        self.events.data.emit()

    @property
    def same_representation(self) -> bool:
        """A and B are one representation (only ever chosen by hand)."""
        return self.rep_a is not None and self.rep_a is self.rep_b

    @property
    def note(self) -> str:
        """A remark to show beside the choice of A and B ("" when there is none)."""
        if self.same_representation:
            return (f"A and B are both {self.rep_a.name}: the alignment compares it with itself "
                    "(identical graphs, every score 1).")
        return ""

    def problems(self) -> list[str]:
        """What stops an alignment now, each as a sentence saying what to do (empty: ready)."""
        from .checks import check_same_inputs

        if self.rep_a is None or self.rep_b is None:
            missing = " and ".join(s.upper() for s, r in zip(SIDES, (self.rep_a, self.rep_b)) if r is None)
            return [f"choose representation {missing}: open files or a sample (File ▸ Open Sample ▸ TopoAlign)."]
        out = []
        try:
            check_same_inputs(self.rep_a.X, self.rep_b.X, names=(self.rep_a.name, self.rep_b.name))
        except TopoAlignError as exc:
            out.append(str(exc))
        n = self.rep_a.n_inputs
        if self.inputs is not None and self.inputs.n_inputs != n:
            out.append(f"the input metadata describes {self.inputs.n_inputs} inputs but the representations have "
                       f"{n}; choose metadata for the same inputs or none.")
        return out

    @property
    def ready(self) -> bool:
        return not self.problems()

    # ------------------------------------------------------------------ settings
    def set_params(self, params_a: MapperParams | None = None, params_b: MapperParams | None = None,
                   shared_lens: bool | None = None) -> None:
        """Mapper parameters of A and/or B and whether B is sliced by A's lens; drops the graphs on change."""
        new = (params_a or self.params_a, params_b or self.params_b,
               self.shared_lens if shared_lens is None else bool(shared_lens))
        old = (self.params_a, self.params_b, self.shared_lens)
        if all(same_params(x, y) for x, y in zip(new, old)):
            return
        self.params_a, self.params_b, self.shared_lens = new
        self.set_graphs(None, None)
        self.events.params.emit()

    def set_layout(self, **options) -> None:
        """Layout options by name (``mode``, ``device``, ``seed``, ``iterations``)."""
        layout = replace(self.layout, **options)
        if layout != self.layout:
            self.layout = layout
            self.events.layout.emit()

    def apply_sample(self, sample) -> None:
        """A bundled sample (``load_sample``): its two representations on A and B, its inputs,
        its recommended mapper settings."""
        for rep in sample.representations:
            if not any(r is rep for r in self.representations):
                self.representations.append(rep)
        self.events.representations.emit()
        self._next_side = "a"
        self.set_data(sample.representations[0], sample.representations[1], sample.inputs)
        self.set_params(sample.params, sample.params_b, sample.shared_lens)

    @property
    def names(self) -> tuple[str, str]:
        """The display names of A and B: the representations' ("A", "B" until both are set), a name
        used twice getting " (A)" / " (B)" as in the CLI."""
        if self.rep_a is None or self.rep_b is None:
            return ("A", "B")
        from .cli import _distinct_names

        return _distinct_names(self.rep_a.name, self.rep_b.name)

    def align_kwargs(self) -> dict:
        """``align`` / ``pipeline.steps`` keyword arguments for the current settings (the built graphs
        are reused when there are any)."""
        kwargs = dict(params=self.params_a, params_b=self.params_b, shared_lens=self.shared_lens,
                      mode=self.layout.mode, device=self.layout.device, seed=self.layout.seed,
                      iterations=self.layout.iterations, names=self.names)
        if self.graph_a is not None:
            kwargs["graphs"] = (self.graph_a, self.graph_b)
        return kwargs

    def steps(self, process=None, **options):
        """The pipeline (``pipeline.steps``) for A and B with the current settings, run in
        ``process`` (a ``PipelineProcess``) when given; ``options`` (e.g. ``bubbles=True``,
        ``reserve_threads=1``) are passed on. Raises what stops it."""
        from .errors import InputShapeError
        from .pipeline import steps

        problems = self.problems()
        if problems:
            raise InputShapeError(" ".join(problems))
        run = steps if process is None else process.steps
        return run(self.rep_a.X, self.rep_b.X, **self.align_kwargs(), **options)

    # ------------------------------------------------------------------ results
    def set_graphs(self, graph_a, graph_b) -> None:
        if graph_a is self.graph_a and graph_b is self.graph_b:
            return
        self.graph_a, self.graph_b = graph_a, graph_b
        self.events.graphs.emit()

    def set_alignment(self, alignment) -> None:
        """The new alignment (its graphs become the session's); the selection is cleared."""
        self.graph_a, self.graph_b = alignment.graph_a, alignment.graph_b
        self.alignment = alignment
        self.selection = Selection()
        self.events.graphs.emit()
        self.events.alignment.emit()
        self.events.selection.emit(self.selection)

    # ------------------------------------------------------------------ selection
    def select_nodes(self, side: str, nodes) -> Selection:
        """Select nodes of graph ``side`` (with their counterparts and inputs; see ``select_nodes``)."""
        return self._select(select_nodes(self._aligned(), side, nodes))

    def select_inputs(self, indices) -> Selection:
        """Select inputs and the nodes of both graphs holding them."""
        return self._select(select_inputs(self._aligned(), indices))

    def clear_selection(self) -> Selection:
        return self._select(Selection())

    @property
    def selected_texts(self) -> list[str]:
        """Texts of the selected inputs (empty when the inputs have no texts)."""
        texts = getattr(self.inputs, "texts", None)
        return [] if texts is None else [texts[i] for i in self.selection.inputs]

    def _aligned(self):
        if self.alignment is None:
            raise ParameterError("nothing is aligned yet: align A and B before selecting.")
        return self.alignment

    def _select(self, selection: Selection) -> Selection:
        self.selection = selection
        self.events.selection.emit(selection)
        return selection


def same_params(x, y) -> bool:
    """Equal settings (MapperParams may hold a lens array, which ``==`` cannot compare)."""
    if x is y:
        return True
    try:
        return bool(x == y)
    except ValueError:
        return False


__all__ = ["Session", "SessionEvents", "Selection", "LayoutOptions", "select_nodes", "select_inputs"]
