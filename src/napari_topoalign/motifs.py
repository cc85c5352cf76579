"""Motif queries on mapper graphs and whether each motif survives in the other graph.

Built-in kinds (linear time):

- ``"branch"``: a node of degree >= 3; ``nodes = (node,)``.
- ``"loop"``: one per independent cycle of ``networkx.cycle_basis``; ``nodes``
  in cycle order, starting at the smallest node.
- ``"flare"``: a leaf and the chain of degree-2 nodes leading to the nearest
  node of degree >= 3; ``nodes = (branch node, chain..., leaf)`` (the chain may
  be empty).
- ``"path"``: a maximal chain of at least one degree-2 node between two nodes
  of degree != 2; ``nodes = (end, chain..., end)``, the smaller end first.

A ``networkx.Graph`` pattern finds its occurrences as subgraph monomorphisms,
each occurrence (node set + edge set) once whatever the pattern's symmetries;
``nodes`` are ordered as the pattern's nodes. When the search runs past
``time_limit`` seconds it raises :class:`MotifSearchTimeout`, whose
``partial`` holds the occurrences found so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from networkx.algorithms.isomorphism import GraphMatcher

from .errors import ParameterError, TopoAlignError
from .mapper import MapperGraph

BUILTIN = ("branch", "loop", "flare", "path")
_CLOSURE_HOPS = 3


@dataclass(frozen=True)
class Motif:
    kind: str
    nodes: tuple


@dataclass(frozen=True)
class MotifMatch:
    motif: Motif
    counterpart: tuple
    status: str


class MotifSearchTimeout(TopoAlignError):
    """A pattern search ran past its time limit; ``partial`` holds what was found."""

    def __init__(self, message: str, partial: list[Motif]):
        super().__init__(message)
        self.partial = partial


class _DeadlineReached(Exception):
    pass


class _TimedMatcher(GraphMatcher):
    """GraphMatcher that checks a deadline at every candidate pair it tries."""

    def __init__(self, G1, G2, deadline: float):
        super().__init__(G1, G2)
        self.deadline = deadline

    def semantic_feasibility(self, G1_node, G2_node):
        if time.perf_counter() > self.deadline:
            raise _DeadlineReached
        return True


def _as_graph(G) -> nx.Graph:
    if isinstance(G, MapperGraph):
        return G.to_networkx()
    if isinstance(G, nx.Graph) and not G.is_directed() and not G.is_multigraph():
        if nx.number_of_selfloops(G):
            G = G.copy()
            G.remove_edges_from(list(nx.selfloop_edges(G)))
        return G
    raise ParameterError(
        f"find_motifs needs a MapperGraph or an undirected networkx.Graph; got {type(G).__name__}."
    )


def _chains(G: nx.Graph, deg: dict, starts):
    """Yield (start, chain, end) for every walk from a start node (degree != 2) through
    degree-2 nodes to the next node of degree != 2."""
    for u in starts:
        for v in G[u]:
            prev, cur, chain = u, v, []
            while deg[cur] == 2:
                chain.append(cur)
                a, b = G[cur]
                prev, cur = cur, (b if a == prev else a)
            yield u, chain, cur


def _loops(G: nx.Graph) -> list[tuple]:
    out = []
    for cyc in nx.cycle_basis(G):
        i = cyc.index(min(cyc))
        c = cyc[i:] + cyc[:i]
        if len(c) > 2 and c[-1] < c[1]:
            c = [c[0]] + c[1:][::-1]
        out.append(tuple(c))
    return out


def _pattern(G: nx.Graph, pattern: nx.Graph, time_limit: float) -> list[Motif]:
    if pattern.number_of_nodes() == 0:
        raise ParameterError("a motif pattern needs at least one node.")
    order = list(pattern.nodes)
    pedges = list(pattern.edges)
    found: dict = {}
    matcher = _TimedMatcher(G, pattern, time.perf_counter() + time_limit)
    try:
        for mapping in matcher.subgraph_monomorphisms_iter():
            inv = {p: g for g, p in mapping.items()}
            nodes = tuple(inv[p] for p in order)
            key = (frozenset(nodes), frozenset(frozenset((inv[a], inv[b])) for a, b in pedges))
            if key not in found or nodes < found[key]:
                found[key] = nodes
    except _DeadlineReached:
        partial = [Motif("pattern", n) for n in sorted(found.values())]
        raise MotifSearchTimeout(
            f"motif search stopped after {time_limit:g} s with {len(partial)} occurrences found; "
            "use a smaller pattern or a larger time_limit.",
            partial,
        ) from None
    return [Motif("pattern", n) for n in sorted(found.values())]


def find_motifs(G, motif, *, time_limit: float = 5.0) -> list[Motif]:
    """All instances of ``motif`` in ``G`` (a MapperGraph or networkx.Graph), in a fixed order.

    ``motif``: "branch", "loop", "flare", "path" or a small ``networkx.Graph``
    pattern (see the module docstring for what ``nodes`` holds).
    """
    H = _as_graph(G)
    if isinstance(motif, nx.Graph):
        return _pattern(H, motif, float(time_limit))
    if motif not in BUILTIN:
        raise ParameterError(f"motif must be one of {BUILTIN} or a networkx.Graph; got {motif!r}.")
    deg = dict(H.degree)
    if motif == "branch":
        found = [(u,) for u in H if deg[u] >= 3]
    elif motif == "loop":
        found = _loops(H)
    elif motif == "flare":
        found = [
            (w, *chain[::-1], u)
            for u, chain, w in _chains(H, deg, [u for u in H if deg[u] == 1])
            if deg[w] >= 3
        ]
    else:
        ends = [u for u in H if deg[u] != 2]
        found = list(
            {min(t, t[::-1]) for u, chain, w in _chains(H, deg, ends) if chain for t in [(u, *chain, w)]}
        )
    return [Motif(motif, tuple(n)) for n in sorted(found)]


def _closure(A: nx.Graph, B: nx.Graph, nodes: tuple, image: dict) -> set:
    """Images of ``nodes`` plus the nodes of B shortest paths (at most a few hops) between
    the images of nodes adjacent in A."""
    out = {image[n] for n in nodes if n in image}
    for a, b in A.subgraph(nodes).edges:
        if a in image and b in image and image[a] != image[b]:
            paths = nx.single_source_shortest_path(B, image[a], cutoff=_CLOSURE_HOPS)
            out.update(paths.get(image[b], ()))
    return out


def _preserved(kind, motif, B: nx.Graph, H: nx.Graph, image: dict) -> bool:
    if kind == "branch":
        return B.degree[image[motif.nodes[0]]] >= 3 if motif.nodes[0] in image else False
    if kind == "loop":
        return len(nx.cycle_basis(H)) > 0
    if kind == "flare":
        leaf = motif.nodes[-1]
        return (
            leaf in image
            and B.degree[image[leaf]] == 1
            and nx.is_connected(H)
            and any(B.degree[n] >= 3 for n in H)
        )
    if kind == "path":
        n = H.number_of_nodes()
        return n >= 2 and nx.is_tree(H) and max(d for _, d in H.degree) <= 2
    return GraphMatcher(H, kind).subgraph_is_monomorphic()


def motif_alignment(A, B, C, motif) -> list[MotifMatch]:
    """For each instance of ``motif`` in A: its counterpart in B and whether it survives.

    ``A``, ``B``: MapperGraphs (or networkx graphs with nodes 0..K-1); ``C``: their
    (K_A, K_B) correspondence.
    A node's image is its best-matching B node (argmax of its row of C, when
    that row has an entry > 0); ``counterpart`` lists the distinct images in
    motif order. The motif is ``"absent"`` when fewer than half of its nodes
    have an image. Otherwise it is checked on H, the subgraph of B induced by
    the images plus B's shortest paths (at most 3 edges) between the images of
    nodes adjacent in A: ``"preserved"`` when H shows the same kind of motif
    (branch: the image has degree >= 3; loop: H has a cycle; flare: H is
    connected, has a node of degree >= 3 in B and the leaf's image is a leaf of
    B; path: H is a simple path of >= 2 nodes; pattern: H contains it),
    ``"broken"`` otherwise.
    """
    GA, GB = _as_graph(A), _as_graph(B)
    C = sp.csr_matrix(C)
    if C.shape != (GA.number_of_nodes(), GB.number_of_nodes()):
        raise ParameterError(
            f"C must have shape (nodes of A, nodes of B) = {(GA.number_of_nodes(), GB.number_of_nodes())}; "
            f"got {C.shape}."
        )
    best = np.asarray(C.argmax(axis=1)).ravel()
    has = np.asarray(C.max(axis=1).todense()).ravel() > 0
    image = {int(i): int(best[i]) for i in np.flatnonzero(has)}
    out = []
    for m in find_motifs(GA, motif):
        counterpart = tuple(dict.fromkeys(image[n] for n in m.nodes if n in image))
        if 2 * sum(n in image for n in m.nodes) < len(m.nodes):
            status = "absent"
        else:
            H = GB.subgraph(_closure(GA, GB, m.nodes, image))
            status = "preserved" if _preserved(motif, m, GB, H, image) else "broken"
        out.append(MotifMatch(m, counterpart, status))
    return out
