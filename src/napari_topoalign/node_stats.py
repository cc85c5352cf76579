"""Per-node statistics of a mapper graph, for colouring and describing its nodes, and the
motif browser's query.

- ``colour_columns(inputs)``: which input-table columns can colour nodes, each "categorical"
  (labels, text-like or few-valued columns) or "numeric".
- ``input_column(inputs, name)``: that column's N values.
- ``dominant(graph, values)``: per node, the most frequent value among its members and its
  fraction (the node's purity); ``composition(graph, node, values)`` the top values of one node.
- ``node_mean(graph, values)``: per node, the mean of a numeric column over its members
  (NaN-aware; NaN where no member has a value).
- ``lens_range(graph)``: per node, the lowest and highest lens value of its members.
- ``counterparts(C, side)``: per node, its best-matching node in the other graph and their
  correspondence (-1 and 0 where it has none).
- ``node_table(graph, inputs, side=..., correspondence=..., regions=...)``: all of the above
  as one DataFrame, one row per node (the napari layers' ``features``).
- ``describe_node(graph, node, table, inputs)``: a short text for a hover tooltip.
- ``motif_instances(A, B, C, motif, status=None)``: every instance of ``motif`` in A with its
  status and its counterpart in B (``motif_alignment``), optionally only some statuses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import InputShapeError, ParameterError
from .regions import region_of

CATEGORICAL = "categorical"
NUMERIC = "numeric"
#: A numeric column with at most this many distinct values is treated as categories (e.g. class ids).
MAX_NUMERIC_CATEGORIES = 12
#: How many values ``describe_node`` lists for a categorical column.
TOP_VALUES = 3
STATUSES = ("preserved", "broken", "absent")


def _metadata(inputs):
    meta = getattr(inputs, "metadata", None)
    return meta if isinstance(meta, pd.DataFrame) else None


def _kind(values: np.ndarray) -> str | None:
    """"categorical", "numeric", or None for a column that cannot colour nodes (all values
    distinct text, e.g. captions or ids, or nothing but missing values)."""
    series = pd.Series(values)
    distinct = series.nunique(dropna=True)
    if distinct == 0:
        return None
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return CATEGORICAL if distinct <= max(len(series) // 2, 2) else None
    return CATEGORICAL if distinct <= MAX_NUMERIC_CATEGORIES else NUMERIC


#: The node statistics of ``node_table``; an input column of one of these names is stored as ``input_<name>``.
NODE_STATISTICS = ("node", "size", "lens", "lens_min", "lens_max", "region", "score", "counterpart", "strength")


def feature_key(name: str) -> str:
    """The ``node_table`` column holding input column ``name`` (renamed when a node statistic has its name)."""
    return f"input_{name}" if name in NODE_STATISTICS else name


def colour_columns(inputs) -> dict[str, str]:
    """Columns of ``inputs`` (an ``InputTable``) that can colour nodes: name -> "categorical" or
    "numeric". ``labels`` is the column "label"; metadata columns follow in their order (a
    metadata column "label"/"labels" duplicating ``labels`` is not listed twice)."""
    out = {}
    if inputs is None:
        return out
    if getattr(inputs, "labels", None) is not None:
        out["label"] = CATEGORICAL
    meta = _metadata(inputs)
    if meta is not None:
        for name in meta.columns:
            name = str(name)
            if name in out or (name.lower() in ("label", "labels") and "label" in out):
                continue
            kind = _kind(meta[name].to_numpy())
            if kind is not None:
                out[name] = kind
    return out


def input_column(inputs, name: str) -> np.ndarray:
    """The N values of column ``name`` of ``inputs`` ("label" is ``inputs.labels``)."""
    if name == "label" and getattr(inputs, "labels", None) is not None:
        return np.asarray(inputs.labels)
    meta = _metadata(inputs)
    if meta is None or name not in [str(c) for c in meta.columns]:
        raise ParameterError(
            f"the inputs have no column {name!r}; columns that can colour nodes: {list(colour_columns(inputs))}."
        )
    return meta[[c for c in meta.columns if str(c) == name][0]].to_numpy()


def _check_values(graph, values) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1 or len(values) != graph.n_inputs:
        raise InputShapeError(
            f"the graph was built on {graph.n_inputs} inputs but the column has shape {values.shape}; "
            "give one value per input, in the same order as the representations."
        )
    return values


def dominant(graph, values) -> tuple[np.ndarray, np.ndarray]:
    """Per node: the most frequent value among its members (ties: the first in sorted order)
    and its fraction of the node's members with a value (purity in (0, 1]; missing values are
    not counted). A node without any value gets None and NaN."""
    values = _check_values(graph, values)
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    K = graph.n_nodes
    labels = np.empty(K, dtype=object)
    purity = np.full(K, np.nan)
    if K == 0 or len(uniques) == 0:
        return labels, purity
    known = codes >= 0
    onehot = sp.csr_matrix(
        (np.ones(known.sum()), (np.flatnonzero(known), codes[known])), shape=(len(values), len(uniques))
    )
    counts = (graph.membership().tocsr() @ onehot).toarray()
    total = counts.sum(axis=1)
    best = counts.argmax(axis=1)
    has = total > 0
    labels[has] = np.asarray(uniques, dtype=object)[best[has]]
    purity[has] = counts[has, best[has]] / total[has]
    return labels, purity


def composition(graph, node: int, values, top: int = TOP_VALUES) -> list[tuple[object, float]]:
    """The ``top`` most frequent values among the members of ``node``, with their fractions."""
    values = _check_values(graph, values)
    counts = pd.Series(values[graph.members[node]]).value_counts(normalize=True, dropna=True, sort=False)
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    return [(v, float(f)) for v, f in counts.iloc[:top].items()]


def node_mean(graph, values) -> np.ndarray:
    """Per node, the mean of a numeric column over its members with a finite value (NaN if none)."""
    values = _check_values(graph, values)
    try:
        v = values.astype(float)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"a node mean needs a numeric column; got values of type {values.dtype}.") from exc
    finite = np.isfinite(v)
    M = graph.membership().tocsr()
    sums = M @ np.where(finite, v, 0.0)
    counts = M @ finite.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def lens_range(graph) -> np.ndarray:
    """(K, 2): the lowest and highest lens value (first coordinate) among each node's members."""
    lens = graph.first_lens()
    if graph.n_nodes == 0:
        return np.zeros((0, 2))
    return np.array([[lens[m].min(), lens[m].max()] if len(m) else [np.nan, np.nan] for m in graph.members])


def counterparts(C, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Per node of graph ``side`` ("a": rows of the K_A×K_B correspondence ``C``, "b": columns),
    the other graph's node it overlaps most and that correspondence; -1 and 0 where none."""
    if side not in ("a", "b"):
        raise ParameterError(f"side must be 'a' or 'b'; got {side!r}.")
    M = sp.csr_matrix(C) if side == "a" else sp.csr_matrix(C).T.tocsr()
    best = np.full(M.shape[0], -1, dtype=np.int64)
    strength = np.zeros(M.shape[0])
    rows = np.flatnonzero(np.diff(M.indptr))
    if len(rows):
        best[rows] = np.asarray(M[rows].argmax(axis=1)).ravel()
        strength[rows] = np.asarray(M[rows].max(axis=1).todense()).ravel()
    return best, strength


def node_table(graph, inputs=None, *, side: str = "a", correspondence=None, regions=()) -> pd.DataFrame:
    """One row per node: node, size, lens (mean; the first coordinate of a 2-D or 3-D lens), lens_min, lens_max, region (best region holding
    it, -1 for none), score (that region's score), counterpart and strength (``counterparts``;
    without a correspondence -1 and NaN), then per colourable input column (``colour_columns``)
    the dominant value and ``<name>_purity`` (categorical) or the mean (numeric)."""
    K = graph.n_nodes
    sizes = np.fromiter((len(m) for m in graph.members), np.int64, K)
    lens = graph.first_lens()
    M = graph.membership().tocsr()
    region = region_of(regions, K, f"nodes_{side}")
    scores = np.array([float(r.score) for r in regions] + [np.nan])
    lo_hi = lens_range(graph)
    table = {
        "node": np.arange(K),
        "size": sizes,
        "lens": (M @ lens) / np.maximum(sizes, 1),
        "lens_min": lo_hi[:, 0],
        "lens_max": lo_hi[:, 1],
        "region": region,
        "score": scores[region],
    }
    if correspondence is not None:
        table["counterpart"], table["strength"] = counterparts(correspondence, side)
    else:
        table["counterpart"], table["strength"] = np.full(K, -1, np.int64), np.full(K, np.nan)
    for name, kind in colour_columns(inputs).items():
        key = feature_key(name)
        values = input_column(inputs, name)
        if kind == CATEGORICAL:
            labels, purity = dominant(graph, values)
            table[key] = pd.Series(labels, dtype=object).map(lambda v: "" if v is None else str(v))
            table[f"{key}_purity"] = purity
        else:
            table[key] = node_mean(graph, values)
    return pd.DataFrame(table)


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)


def describe_node(graph, node: int, table: pd.DataFrame, inputs=None, *, side_name: str = "",
                  other_name: str = "the other graph") -> str:
    """A few lines about one node: size, the top values of each categorical column with their
    fractions, the mean of each numeric column, lens range, region and best counterpart."""
    row = table.iloc[int(node)]
    head = f"{side_name} node {int(node)}" if side_name else f"node {int(node)}"
    lines = [f"{head}: {int(row['size'])} inputs"]
    for name, kind in colour_columns(inputs).items():
        values = input_column(inputs, name)
        if kind == CATEGORICAL:
            parts = [f"{v} {100 * f:.0f}%" for v, f in composition(graph, node, values)]
            lines.append(f"{name}: " + (", ".join(parts) if parts else "n/a"))
        else:
            lines.append(f"{name}: mean {_fmt(float(table[feature_key(name)].iloc[int(node)]))}")
    lines.append(f"lens {_fmt(float(row['lens_min']))} – {_fmt(float(row['lens_max']))}")
    region = int(row["region"])
    lines.append(f"region {region + 1} (score {float(row['score']):.2f})" if region >= 0 else "in no matching region")
    if int(row["counterpart"]) >= 0:
        lines.append(f"best counterpart: {other_name} node {int(row['counterpart'])} (Jaccard {float(row['strength']):.2f})")
    elif not np.isnan(float(row["strength"])):
        lines.append(f"no counterpart in {other_name}")
    return "\n".join(lines)


@dataclass(frozen=True)
class MotifInstance:
    """One motif instance of A: its position ``index`` in A's full list, kind, status in B, its
    nodes in A, its counterpart nodes in B and how many inputs its A nodes hold."""

    index: int
    kind: str
    status: str
    nodes_a: tuple
    nodes_b: tuple
    n_inputs: int


def motif_instances(A, B, C, motif, *, status=None) -> list[MotifInstance]:
    """Every instance of ``motif`` in the MapperGraph A (``motif_alignment``), with its counterpart in B; only
    those whose status is ``status`` (one of "preserved", "broken", "absent", or several)."""
    from .motifs import motif_alignment

    wanted = STATUSES if status is None else ((status,) if isinstance(status, str) else tuple(status))
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise ParameterError(f"status must be among {STATUSES}; got {unknown}.")
    M = A.membership().tocsr()
    out = []
    for i, m in enumerate(motif_alignment(A, B, C, motif)):
        if m.status in wanted:
            nodes = np.asarray(m.motif.nodes, dtype=np.int64)
            n_inputs = len(np.unique(M[nodes].indices))
            out.append(MotifInstance(i, m.motif.kind, m.status, tuple(map(int, nodes)), tuple(map(int, m.counterpart)), n_inputs))
    return out
