"""More than two representations of the same inputs: a chain (the layers of a model, the towers of a
multimodal model), aligned in one go and laid out in one frame.

``align_chain`` builds every mapper graph once, aligns the requested pairs with those graphs, and
lays all graphs out together (``layout.chain_layout``: consecutive graphs coupled through their
correspondence) so that node positions change smoothly along the chain. ``Chain.tracks`` follows
matching regions and motif instances (loops, branches, ...) from representation to representation.
``Chain.save`` writes one ``.npz`` of arrays plus a JSON header (never a pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.sparse as sp

from .alignment import (
    Alignment,
    check_pair,
    get_graph,
    get_regions,
    get_sparse,
    put_graph,
    put_regions,
    put_sparse,
    read_header,
    read_npz,
    write_npz,
)
from .errors import FileFormatError, InputShapeError, ParameterError
from .mapper import MapperGraph, MapperParams

FORMAT_NAME = "napari-topoalign.chain"
FORMAT_VERSION = 1
PAIRS = ("consecutive", "to_last", "all")
TRACK_KINDS = ("region", "loop", "branch", "flare", "path")
#: Two structures of consecutive steps are linked when the Jaccard overlap of their inputs is at least this.
MIN_TRACK_OVERLAP = 0.3


@dataclass(eq=False)
class Track:
    """One structure followed along the chain: a matching region or a motif instance.

    ``nodes[r]`` are its nodes in graph ``start + r`` (it spans representations ``start`` to
    ``stop``); ``inputs`` the inputs it holds over its whole span. ``split_from``: the index of
    the track it split off (None if it appeared on its own); ``merges_into``: the track it ends in
    by merging (None if it ends on its own or at the end of the chain). ``items``: the structures
    it links, as (step, index): (t, k) is region k of representations (t, t + 1), or motif
    instance k of graph t.
    """

    kind: str
    start: int
    nodes: list
    inputs: np.ndarray
    split_from: int | None = None
    merges_into: int | None = None
    items: list = field(default_factory=list)

    @property
    def stop(self) -> int:
        return self.start + len(self.nodes) - 1


@dataclass(eq=False)
class Chain:
    """A sequence of representations of the same inputs, their mapper graphs and pairwise alignments.

    ``graphs[i]`` is the graph of representation ``names[i]``; ``alignments[k]`` the ``Alignment``
    of ``pairs[k] = (i, j)`` (graph i as A, graph j as B); ``positions[i]`` the (K_i, 2) node
    positions of graph i, all in one frame; ``energy`` and ``device`` those of the chain layout.
    """

    names: tuple
    graphs: list
    pairs: list
    alignments: list
    positions: list
    energy: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    device: str = "cpu"
    _tracks: dict = field(default_factory=dict, init=False, repr=False)
    _regions: dict = field(default_factory=dict, init=False, repr=False)

    @property
    def n_inputs(self) -> int:
        return self.graphs[0].n_inputs

    def __len__(self) -> int:
        return len(self.graphs)

    @property
    def scores(self):
        """A ``pandas.DataFrame``: one row per aligned pair (index ``"A → B"``), one column per score."""
        import pandas as pd

        index = pd.Index([self.pair_label(k) for k in range(len(self.pairs))], name="pair")
        return pd.DataFrame([dict(al.scores) for al in self.alignments], index=index)

    def pair_label(self, k: int) -> str:
        i, j = self.pairs[k]
        return f"{self.names[i]} → {self.names[j]}"

    def alignment(self, i: int, j: int) -> Alignment:
        """The alignment of representations ``i`` and ``j`` (a ``KeyError`` if that pair was not aligned)."""
        try:
            return self.alignments[self.pairs.index((i, j))]
        except ValueError:
            raise KeyError(f"the pair ({i}, {j}) was not aligned; aligned pairs: {self.pairs}") from None

    def consecutive_regions(self, t: int) -> list:
        """The matching regions of representations ``t`` and ``t + 1`` (computed once if that pair was not aligned)."""
        if (t, t + 1) in self.pairs:
            return self.alignment(t, t + 1).regions
        if t not in self._regions:
            from .correspond import correspondence
            from .regions import find_matching_regions

            A, B = self.graphs[t], self.graphs[t + 1]
            self._regions[t] = find_matching_regions(A, B, correspondence(A, B))
        return self._regions[t]

    def tracks(self, kind: str = "region", min_overlap: float = MIN_TRACK_OVERLAP) -> list[Track]:
        """Structures of ``kind`` followed along the chain, ordered by first appearance then size.

        ``kind="region"``: the matching regions of consecutive representations; a region of
        (t, t + 1) continues in one of (t + 1, t + 2) holding largely the same inputs. A motif
        kind ("loop", "branch", "flare", "path"): each motif instance of each graph; an
        instance continues in one of the next graph holding largely the same inputs. Two
        structures of consecutive steps are linked when the Jaccard overlap of their inputs is at
        least ``min_overlap``; a track continues where the link is the best of both structures,
        otherwise the new structure starts a track that *split from* the old one, and an old one
        that continues in no track *merges into* the track of its best link.
        """
        if kind not in TRACK_KINDS:
            raise ParameterError(f"unknown track kind {kind!r}; use one of {', '.join(TRACK_KINDS)}.")
        if not 0.0 < float(min_overlap) <= 1.0:
            raise ParameterError(f"min_overlap must be in (0, 1], got {min_overlap!r}.")
        key = (kind, float(min_overlap))
        if key not in self._tracks:
            self._tracks[key] = _follow(self._track_items(kind), kind, self.n_inputs, float(min_overlap))
        return self._tracks[key]

    def _track_items(self, kind: str) -> list[list[tuple[dict, np.ndarray]]]:
        """Per step: the structures as ({representation: nodes}, inputs)."""
        if kind == "region":
            return [
                [({t: np.asarray(r.nodes_a), t + 1: np.asarray(r.nodes_b)}, np.asarray(r.inputs, np.int64))
                 for r in self.consecutive_regions(t)]
                for t in range(len(self.graphs) - 1)
            ]
        from .motifs import find_motifs

        steps = []
        for i, G in enumerate(self.graphs):
            items = []
            for motif in find_motifs(G, kind):
                nodes = np.asarray(motif.nodes, dtype=np.int64)
                items.append(({i: nodes}, np.unique(np.concatenate([G.members[k] for k in nodes]))))
            steps.append(items)
        return steps

    def track_table(self, kind: str = "region", min_overlap: float = MIN_TRACK_OVERLAP):
        """The tracks of ``kind`` as a ``pandas.DataFrame``: where each appears and ends, how long it
        lives, its inputs, and which track it split from or merges into (numbered from 1)."""
        import pandas as pd

        rows = []
        for k, tr in enumerate(self.tracks(kind, min_overlap)):
            rows.append({
                "track": k + 1,
                "kind": tr.kind,
                "appears in": self.names[tr.start],
                "last in": self.names[tr.stop],
                "representations": len(tr.nodes),
                "nodes": " / ".join(str(len(n)) for n in tr.nodes),
                "inputs": len(tr.inputs),
                "split from": "" if tr.split_from is None else tr.split_from + 1,
                "merges into": "" if tr.merges_into is None else tr.merges_into + 1,
            })
        return pd.DataFrame(rows, columns=["track", "kind", "appears in", "last in", "representations", "nodes",
                                           "inputs", "split from", "merges into"])

    def item_tracks(self, step: int, kind: str = "region", min_overlap: float = MIN_TRACK_OVERLAP) -> np.ndarray:
        """The track of each structure of one step: of each region of representations (``step``,
        ``step + 1``) for ``kind="region"``, else of each motif instance of graph ``step``."""
        tracks = self.tracks(kind, min_overlap)
        n_items = max([k + 1 for tr in tracks for t, k in tr.items if t == step], default=0)
        out = np.full(n_items, -1, dtype=np.int64)
        for index, tr in enumerate(tracks):
            for t, k in tr.items:
                if t == step:
                    out[k] = index
        return out

    def node_tracks(self, kind: str = "region", min_overlap: float = MIN_TRACK_OVERLAP) -> list[np.ndarray]:
        """Per graph: the index of the track holding each node (-1 for none; the earlier track wins)."""
        out = [np.full(G.n_nodes, -1, dtype=np.int64) for G in self.graphs]
        tracks = self.tracks(kind, min_overlap)
        for k in range(len(tracks) - 1, -1, -1):
            for r, nodes in enumerate(tracks[k].nodes):
                out[tracks[k].start + r][np.asarray(nodes, dtype=np.int64)] = k
        return out

    def summary(self) -> str:
        """A few lines: the graphs and the scores of each aligned pair."""
        lines = [f"{len(self.graphs)} representations of {self.n_inputs} inputs"]
        for name, g in zip(self.names, self.graphs):
            eps = "n/a" if g.params.eps is None else f"{g.params.eps:.4g}"
            lines.append(f"  {name}: {g.n_nodes} nodes, {len(g.edges)} edges, eps={eps}")
        for k, al in enumerate(self.alignments):
            scores = ", ".join(f"{key}={v:.3f}" for key, v in al.scores.items())
            lines.append(f"  {self.pair_label(k)}: {len(al.regions)} regions; {scores}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ file format
    def save(self, path) -> Path:
        """Write the chain to one ``.npz`` file (arrays + a JSON header, no pickle)."""
        arrays: dict[str, np.ndarray] = {"energy": np.asarray(self.energy)}
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "names": [str(n) for n in self.names],
            "device": str(self.device),
            "graphs": [put_graph(arrays, f"g{i}", g) for i, g in enumerate(self.graphs)],
            "pairs": [[int(i), int(j)] for i, j in self.pairs],
            "scores": [{str(k): float(v) for k, v in al.scores.items()} for al in self.alignments],
            "region_scores": [[float(r.score) for r in al.regions] for al in self.alignments],
        }
        for i, pos in enumerate(self.positions):
            arrays[f"pos{i}"] = np.asarray(pos, dtype=np.float32)
        for k, al in enumerate(self.alignments):
            put_sparse(arrays, f"p{k}_corr", al.correspondence)
            put_regions(arrays, f"p{k}_region", al.regions)
        return write_npz(path, arrays, header)

    @classmethod
    def load(cls, path) -> "Chain":
        """Read a file written by ``save``; a damaged or too-new file raises ``FileFormatError``."""
        path = Path(path)
        arrays = read_npz(path, "chain", "Chain.save")
        header = read_header(arrays, path, FORMAT_NAME, FORMAT_VERSION, "chain")
        try:
            names = tuple(str(n) for n in header["names"])
            graphs = [get_graph(arrays, f"g{i}", meta) for i, meta in enumerate(header["graphs"])]
            positions = [arrays[f"pos{i}"] for i in range(len(graphs))]
            if len(names) != len(graphs) or len(graphs) < 2:
                raise ValueError(f"{len(names)} names for {len(graphs)} graphs")
            pairs = [tuple(int(x) for x in p) for p in header["pairs"]]
            if len(header["scores"]) != len(pairs) or len(header["region_scores"]) != len(pairs):
                raise ValueError("the pairs, their scores and their regions disagree in number")
            energy, device = arrays["energy"], str(header["device"])
            alignments = []
            for k, (i, j) in enumerate(pairs):
                if not (0 <= i < len(graphs) and 0 <= j < len(graphs)):
                    raise ValueError(f"pair {(i, j)} refers to a graph that is not there")
                C = get_sparse(arrays, f"p{k}_corr")
                layout = _pair_layout(positions[i], positions[j], energy, device)
                check_pair(graphs[i], graphs[j], C, layout.pos_a, layout.pos_b)
                regions = get_regions(arrays, f"p{k}_region", header["region_scores"][k], graphs[i], graphs[j])
                scores = {str(key): float(v) for key, v in header["scores"][k].items()}
                alignments.append(Alignment(graphs[i], graphs[j], C, layout, regions, scores, (names[i], names[j])))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise FileFormatError(f"{path} is damaged or incomplete: {exc}") from exc
        return cls(names, graphs, pairs, alignments, positions, energy, device)


# ---------------------------------------------------------------------- the pipeline
def align_chain(
    representations,
    params=None,
    *,
    pairs="consecutive",
    names=None,
    shared_lens: bool = False,
    seed: int = 0,
    device: str = "auto",
    iterations: int | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Chain:
    """Align a chain of representations of the same N inputs (e.g. the layers of a model, in order).

    ``representations``: a sequence of (N, D_i) arrays or ``Representation`` objects, or a dict
    ``{name: array}``. ``params``: one ``MapperParams`` for every graph, a sequence of one per
    representation, or None (the defaults). ``shared_lens=True`` slices every representation by
    the first one's lens values, so all graphs share their cover elements. ``pairs``:
    ``"consecutive"`` (i, i + 1), ``"to_last"`` (i, last) or ``"all"`` (every i < j), or a list
    of (i, j). ``names`` default to the representations' own names, else "R0", "R1", ...

    Each mapper graph is built once and reused by every pair, as are each representation's nearest
    neighbours (mutual kNN); the graphs are laid out together
    in one frame, consecutive graphs coupled through their correspondence (``chain_layout``), and
    each pair's ``Alignment`` uses those positions (j beside i). ``iterations``, ``device`` and
    ``seed`` go to the layout; ``progress(stage, fraction)`` is called as each stage starts and
    with ("done", 1.0) at the end.
    """
    from .checks import as_matrix, check_same_inputs
    from .correspond import correspondence
    from .layout import chain_layout
    from .mapper import build_mapper
    from .metrics import alignment_scores
    from .neighbours import reuse_neighbours
    from .regions import find_matching_regions

    arrays, given_names = _unpack(representations)
    n = len(arrays)
    if n < 2:
        raise InputShapeError(f"a chain needs at least two representations, got {n}.")
    names = _names(names, given_names, n)
    Xs = [as_matrix(X, name=f"representation {name!r}") for X, name in zip(arrays, names)]
    for X, name in zip(Xs[1:], names[1:]):
        check_same_inputs(Xs[0], X, names=(names[0], name))
    plist = _params_list(params, n)
    pair_list = _pairs(pairs, n)

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    graphs: list[MapperGraph] = []
    for i, (X, p) in enumerate(zip(Xs, plist)):
        report(f"mapper graph of {names[i]}", 0.3 * i / n)
        if shared_lens and i > 0:
            p = replace(p, lens=graphs[0].lens)
        graphs.append(build_mapper(X, p))
    report("correspondences", 0.3)
    corr = {(i, i + 1): correspondence(graphs[i], graphs[i + 1]) for i in range(n - 1)}
    for i, j in pair_list:
        if (i, j) not in corr:
            corr[(i, j)] = correspondence(graphs[i], graphs[j])
    report("layout", 0.35)
    lay = chain_layout(graphs, [corr[(i, i + 1)] for i in range(n - 1)], iterations=iterations, device=device,
                       seed=seed)
    alignments = []
    with reuse_neighbours():  # each representation's neighbours serve every pair it is in
        for k, (i, j) in enumerate(pair_list):
            report(f"regions and scores of {names[i]} → {names[j]}", 0.8 + 0.2 * k / len(pair_list))
            A, B, C = graphs[i], graphs[j], corr[(i, j)]
            layout = _pair_layout(lay.positions[i], lay.positions[j], lay.energy, lay.device)
            regions = find_matching_regions(A, B, C)
            scores = alignment_scores(Xs[i], Xs[j], A, B, C)
            alignments.append(Alignment(A, B, C, layout, list(regions), dict(scores), (names[i], names[j])))
    report("done", 1.0)
    return Chain(names, graphs, pair_list, alignments, lay.positions, lay.energy, lay.device)


def _pair_layout(pos_a, pos_b, energy, device: str):
    """A side-by-side ``JointLayout`` of two graphs of the chain: B shifted right of A by ``MARGIN``."""
    from .layout import JointLayout, panel_offset

    pos_a, pos_b = np.asarray(pos_a, np.float32), np.asarray(pos_b, np.float32)
    offset = panel_offset(pos_a, pos_b)
    return JointLayout(pos_a, pos_b + offset, offset, np.asarray(energy), device, "side_by_side")


def _unpack(representations) -> tuple[list, list]:
    """The arrays of ``representations`` and their own names (None where they have none)."""
    if isinstance(representations, dict):
        return list(representations.values()), [str(k) for k in representations]
    if isinstance(representations, np.ndarray) and representations.ndim == 3:
        return list(representations), [None] * len(representations)
    try:
        items = list(representations)
    except TypeError:
        raise InputShapeError(
            "representations must be a sequence of (N, D) arrays, Representation objects or a dict of them."
        ) from None
    arrays = [getattr(r, "X", r) for r in items]
    return arrays, [getattr(r, "name", None) for r in items]


def _names(names, given, n: int) -> tuple:
    if names is None:
        names = [g if g is not None else f"R{i}" for i, g in enumerate(given)]
    names = tuple(str(s) for s in names)
    if len(names) != n:
        raise InputShapeError(f"{len(names)} names for {n} representations; give one name each.")
    if len(set(names)) != n:
        raise InputShapeError(f"the names of the representations must differ, got {names!r}.")
    return names


def _params_list(params, n: int) -> list[MapperParams]:
    if params is None:
        return [MapperParams()] * n
    if isinstance(params, MapperParams):
        return [params] * n
    plist = list(params)
    if len(plist) != n or not all(isinstance(p, MapperParams) for p in plist):
        raise ParameterError(
            f"params must be one MapperParams or a sequence of {n} (one per representation), "
            f"got {len(plist)} item(s) of types {sorted({type(p).__name__ for p in plist})}."
        )
    return plist


def _pairs(pairs, n: int) -> list[tuple[int, int]]:
    if isinstance(pairs, str):
        if pairs == "consecutive":
            return [(i, i + 1) for i in range(n - 1)]
        if pairs == "to_last":
            return [(i, n - 1) for i in range(n - 1)]
        if pairs == "all":
            return [(i, j) for i in range(n) for j in range(i + 1, n)]
        raise ParameterError(f"pairs={pairs!r} is not known; use one of {', '.join(PAIRS)} or a list of (i, j).")
    out = []
    for p in pairs:
        i, j = (int(x) for x in p)
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise ParameterError(f"pair {tuple(p)!r} must join two different representations among 0..{n - 1}.")
        out.append((i, j))
    if not out or len(set(out)) != len(out):
        raise ParameterError("pairs must list at least one pair, each once.")
    return out


# ---------------------------------------------------------------------- tracks
def _follow(steps, kind: str, n_inputs: int, min_overlap: float) -> list[Track]:
    """Link the structures of consecutive steps into tracks (see ``Chain.tracks``)."""
    from .correspond import set_overlap

    tracks: list[dict] = []
    previous: list[int] = []  # the track of each structure of the previous step
    prev_inputs = None
    for step, items in enumerate(steps):
        inputs = _indicator([inp for _, inp in items], n_inputs)
        best_prev = np.full(len(items), -1)
        best_next = np.full(len(previous), -1)
        if len(items) and len(previous):
            S = set_overlap(prev_inputs, inputs).toarray()
            S[S < min_overlap] = 0.0
            best_next = np.where(S.max(axis=1) > 0, S.argmax(axis=1), -1)
            best_prev = np.where(S.max(axis=0) > 0, S.argmax(axis=0), -1)
        current = []
        for v, (nodes, inp) in enumerate(items):
            u = best_prev[v]
            if u >= 0 and best_next[u] == v:  # the best link of both: the track continues
                tid = previous[u]
            else:
                tracks.append({"nodes": {}, "inputs": [], "items": [], "split_from": previous[u] if u >= 0 else None,
                               "merges_into": None})
                tid = len(tracks) - 1
            current.append(tid)
            for rep, nn in nodes.items():
                tracks[tid]["nodes"][rep] = np.union1d(tracks[tid]["nodes"].get(rep, np.zeros(0, np.int64)), nn)
            tracks[tid]["inputs"].append(inp)
            tracks[tid]["items"].append((step, v))
        for u, tid in enumerate(previous):
            if best_next[u] >= 0 and tid not in current:
                tracks[tid]["merges_into"] = current[best_next[u]]
        previous, prev_inputs = current, inputs
    out = []
    for tr in tracks:
        reps = sorted(tr["nodes"])
        out.append(Track(
            kind=kind, start=reps[0], nodes=[tr["nodes"].get(r, np.zeros(0, np.int64))
                                                   for r in range(reps[0], reps[-1] + 1)],
            inputs=np.unique(np.concatenate(tr["inputs"])).astype(np.int64),
            split_from=tr["split_from"], merges_into=tr["merges_into"], items=tr["items"],
        ))
    # order by first appearance, then size; renumber the split/merge references
    order = sorted(range(len(out)), key=lambda k: (out[k].start, -len(out[k].inputs), k))
    new = {old: i for i, old in enumerate(order)}
    result = [out[k] for k in order]
    for tr in result:
        tr.split_from = None if tr.split_from is None else new[tr.split_from]
        tr.merges_into = None if tr.merges_into is None else new[tr.merges_into]
    return result


def _indicator(sets, n_inputs: int) -> sp.csr_matrix:
    """Sparse (len(sets), N) 0/1 matrix of the input sets."""
    from .mapper import membership_matrix

    return membership_matrix([np.asarray(s, np.int64) for s in sets], n_inputs)


__all__ = ["Chain", "Track", "align_chain", "FORMAT_VERSION"]
