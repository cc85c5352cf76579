"""The alignment pipeline one step at a time: a generator of typed progress events.

``steps(X_a, X_b, ...)`` runs what ``align`` runs (both mapper graphs, the correspondence,
the joint layout, the matching regions, the scores; optionally the Bubble Sets) and yields an
event after each piece of work, ending with ``Done(alignment)``. ``align``, the CLI's progress
bar and the napari worker all consume it, so the stage fractions live here (``STAGES``) and the
layout reports real progress. Closing the generator (``gen.close()``) stops the work at the
next event: the layout yields every ``layout.CALLBACK_EVERY`` iterations.

Every event has ``stage`` (the stage running from this event on: a name from ``STAGES``, or
"done"), ``fraction`` (overall progress in [0, 1], non-decreasing) and ``message`` (one line for
a status bar). The kinds:

- ``StageStarted``: a stage begins;
- ``GraphBuilt(side, graph)``: graph "a" or "b" is built (B waits for A when the lens is shared);
- ``LayoutStep(iteration, iterations, pos_a, pos_b)``: a block of layout iterations is done,
  positions as ``JointLayout`` would hold them if it stopped here;
- ``RegionsFound(regions)``;
- ``BubblesDrawn(bubbles, alignment)`` (only with ``bubbles=True``): everything there is to draw,
  before the scores; ``alignment`` is the one ``Done`` holds, its ``scores`` still empty (a
  consumer may draw it while the scores are computed);
- ``ScoresComputed(scores)``;
- ``Done(alignment)``: the last event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np

from .checks import as_matrix, check_mapper_params, check_same_inputs, check_seed
from .errors import InputShapeError, ParameterError
from .mapper import MapperGraph, MapperParams

#: Stages in order with their share of the progress bar (measured shares of the run time on the
#: samples, rounded: the mapper graphs dominate on high-dimensional data, the layout on small).
STAGES = (
    ("mapper graphs", 0.45),
    ("correspondence", 0.02),
    ("layout", 0.36),
    ("regions", 0.07),
    ("bubbles", 0.04),
    ("scores", 0.06),
)
_START = {}
_total = 0.0
for _name, _share in STAGES:
    _START[_name] = _total
    _total += _share
_SHARE = dict(STAGES)


def fraction(stage: str, within: float = 0.0) -> float:
    """Overall progress at ``within`` (0..1) of ``stage`` (without the optional bubbles stage
    the bar still ends at 1: ``Done`` reports 1.0)."""
    return min(1.0, _START[stage] + _SHARE[stage] * float(min(max(within, 0.0), 1.0)))


@dataclass(frozen=True)
class Event:
    """One step of the pipeline: the stage it belongs to, overall progress and a status line."""

    stage: str
    fraction: float
    message: str


@dataclass(frozen=True)
class StageStarted(Event):
    pass


@dataclass(frozen=True)
class GraphBuilt(Event):
    side: str
    graph: MapperGraph


@dataclass(frozen=True)
class LayoutStep(Event):
    iteration: int
    iterations: int
    pos_a: np.ndarray
    pos_b: np.ndarray


@dataclass(frozen=True)
class RegionsFound(Event):
    regions: list


@dataclass(frozen=True)
class ScoresComputed(Event):
    scores: dict


@dataclass(frozen=True)
class BubblesDrawn(Event):
    bubbles: list
    alignment: object  # everything but the scores, which are filled in before ScoresComputed


@dataclass(frozen=True)
class Done(Event):
    alignment: object


def _started(stage: str, message: str | None = None) -> StageStarted:
    return StageStarted(stage, fraction(stage), message or f"{stage}…")


def graph_steps(X_a, X_b, params: MapperParams, params_b: MapperParams | None = None, *, shared_lens=False):
    """Build graph A, then graph B, yielding each (``params_b`` defaults to ``params``).

    With ``shared_lens`` B is sliced by A's lens values, so both graphs come from the
    same cover elements: where the two representations cluster alike, their nodes
    then correspond one to one, which makes regions and motifs directly comparable.
    """
    from .mapper import build_mapper

    params_b = params if params_b is None else params_b
    A = build_mapper(X_a, params)
    yield A
    if shared_lens:
        params_b = replace(params_b, lens=A.lens)
    yield build_mapper(X_b, params_b)


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


def steps(
    X_a,
    X_b,
    params: MapperParams = MapperParams(),
    *,
    params_b: MapperParams | None = None,
    shared_lens: bool = False,
    graphs: tuple[MapperGraph, MapperGraph] | None = None,
    mode: str = "side_by_side",
    device: str = "auto",
    seed: int = 0,
    iterations: int | None = None,
    names=("A", "B"),
    bubbles: bool = False,
    reserve_threads: int = 0,
) -> Iterator[Event]:
    """The pipeline of ``align`` (same arguments) as a generator of events (see the module doc).

    ``bubbles=True`` also computes the Bubble Sets (cached on the alignment). The work runs
    under the thread policy (``threads.thread_policy(reserve_threads)``), entered in the thread
    that iterates the generator.
    """
    from .alignment import Alignment
    from .correspond import correspondence
    from .layout import layout_steps
    from .metrics import alignment_scores
    from .regions import find_matching_regions
    from .threads import thread_policy

    if isinstance(names, str) or not hasattr(names, "__len__") or len(names) != 2:
        raise ParameterError(f"names must be two strings, got {names!r}")
    names = tuple(str(n) for n in names)
    params = check_mapper_params(params)
    params_b = None if params_b is None else check_mapper_params(params_b, "params_b")
    seed = check_seed(seed)
    X_a = as_matrix(X_a, name=f"representation {names[0]}")
    X_b = as_matrix(X_b, name=f"representation {names[1]}")
    check_same_inputs(X_a, X_b, names=names)
    if graphs is not None:
        graphs = _given_graphs(graphs, X_a.shape[0])

    with thread_policy(reserve_threads):
        if graphs is None:
            yield _started("mapper graphs", f"mapper graph of {names[0]}…")
            built = graph_steps(X_a, X_b, params, params_b, shared_lens=shared_lens)
            A = next(built)
            yield GraphBuilt("mapper graphs", fraction("mapper graphs", 0.5), f"mapper graph of {names[1]}…", "a", A)
            B = next(built)
        else:
            A, B = graphs
            yield GraphBuilt("mapper graphs", fraction("mapper graphs", 0.5), "graphs given", "a", A)
        yield GraphBuilt("correspondence", fraction("correspondence"), "correspondence…", "b", B)
        C = correspondence(A, B)
        yield _started("layout")
        layout = yield from _layout_events(
            layout_steps(A, B, C, mode=mode, iterations=iterations, device=device, seed=seed)
        )
        yield _started("regions", "matching regions…")
        regions = list(find_matching_regions(A, B, C))
        alignment = Alignment(A, B, C, layout, regions, {}, names)  # its scores come last
        if bubbles:
            yield RegionsFound("bubbles", fraction("bubbles"), "Bubble Sets…", regions)
            yield BubblesDrawn("scores", fraction("scores"), "alignment scores…", alignment.bubbles(), alignment)
        else:
            yield RegionsFound("scores", fraction("scores"), "alignment scores…", regions)
        alignment.scores.update(alignment_scores(X_a, X_b, A, B, C))
        yield ScoresComputed("done", 1.0, "done", alignment.scores)
    yield Done("done", 1.0, "done", alignment)


def warm_up():
    """Run the pipeline once, Bubble Sets included, on a small made-up pair (a noisy circle in 40
    features, and a stretched copy), and return its alignment (to warm a drawing with). A first
    run otherwise imports ~600 modules on its way (networkx, scipy.stats, shapely, ...) and
    initialises torch's kernels, holding the GIL and the import lock for seconds; an application
    calls this in a background thread (or ``PipelineProcess``) when it opens."""
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 240)
    circle = np.c_[np.cos(angle), np.sin(angle)] @ rng.normal(size=(2, 40)) + 0.05 * rng.normal(size=(240, 40))
    stretched = circle * np.linspace(1, 3, 40)
    for event in steps(circle, stretched, bubbles=True, device="cpu", iterations=20, reserve_threads=1):
        pass
    return event.alignment


def _layout_events(blocks):
    """Re-yield the layout's blocks as ``LayoutStep`` events; return its ``JointLayout``."""
    try:
        while True:
            try:
                iteration, total, pos_a, pos_b = next(blocks)
            except StopIteration as stop:
                return stop.value
            yield LayoutStep(
                "layout", fraction("layout", iteration / max(total, 1)),
                f"layout: iteration {iteration} of {total}", iteration, total, pos_a, pos_b,
            )
    finally:
        blocks.close()


__all__ = [
    "STAGES", "Event", "StageStarted", "GraphBuilt", "LayoutStep", "RegionsFound", "ScoresComputed",
    "BubblesDrawn", "Done", "steps", "graph_steps", "fraction", "warm_up",
]
