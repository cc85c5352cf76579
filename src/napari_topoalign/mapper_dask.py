"""build_mapper on a dask array: the cover elements run as tasks, each holding only its element's rows.

The lens is one pass over the chunks (row-wise, so l2norm is bit-identical to the in-memory
lens); the cover, the ordering and the nerve run on the client on (N,)-sized arrays. Cover
elements are clustered in waves: for each wave, every chunk is read once and split into the
rows each of the wave's elements needs, and one task per element gathers its pieces and
calls ``mapper.element_clusters``, the code the in-memory build uses, returning member lists.
The wave is as large as a quarter of the workers' memory allows (at least one element per
worker thread), so peak memory per worker is a chunk plus a few elements' rows, whatever N.
It runs on dask's default scheduler, or on a ``dask.distributed`` client when one is active.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from .mapper import (
    MapperParams,
    MapperGraph,
    _auto_eps,
    _cover,
    _element_ranges,
    _l2norm,
    _lens,
    _working_space,
    assemble_graph,
    check_off_mean,
    element_clusters,
    resolve_auto,
)

EPS_SAMPLE = 20_000  # rows the automatic eps (and PCA above 2048 dimensions) is estimated from


def build_mapper_dask(X, params: MapperParams = MapperParams(), wave: int | None = None) -> MapperGraph:
    """``build_mapper`` for a 2-D ``dask.array`` (see the module docstring).

    Equals the in-memory build on the same data for an explicit ``eps`` (and for automatic
    eps while N <= ``EPS_SAMPLE``; above, eps comes from a fixed-seed sample of that many
    rows). ``wave``: cover elements clustered per pass over the chunks (None: from memory).
    """
    import dask

    from .checks import check_mapper_params

    params = check_mapper_params(params)
    X = _check_dask_matrix(X)
    named = isinstance(params.lens, str)
    auto_lens = named and params.lens == "auto"
    params = resolve_auto(X, params)  # reads a sample of the rows only when something is "auto"
    if auto_lens:  # the dask build covers 1-D lenses only
        params = replace(params, lens="pca")
    if params.metric == "centred-cosine":  # as in memory: build on the centred unit rows, record what was asked
        graph = build_mapper_dask(_centred_unit_rows(X), replace(params, metric="cosine"), wave)
        graph.params = replace(graph.params, metric="centred-cosine")
        return graph
    if (named and params.lens in ("pca2", "pca3")) or (not named and np.ndim(params.lens) == 2 and np.shape(params.lens)[1] > 1):
        from .errors import ParameterError

        raise ParameterError("a 2-D or 3-D lens is not offered for dask arrays; use a 1-D lens (e.g. lens='pca').")
    lens, params = _dask_lens(X, params)
    cover = _cover(lens[:, None], params)
    lo, hi = cover[0]
    if params.clusterer == "hdbscan":
        params = replace(params, eps=None)
    elif params.eps is None and params.clusterer == "dbscan":
        params = params.with_eps(_auto_eps(_working_space(_sample_rows(X, EPS_SAMPLE), params.metric), params.metric))
    order, sorted_lens, starts, ends = _element_ranges(lens, lo, hi)
    elements = [k for k in range(len(lo)) if ends[k] > starts[k]]
    bounds = np.concatenate([[0], np.cumsum(X.chunks[0])])
    blocks = X.to_delayed().ravel()
    if wave is None:
        element_bytes = 4 * X.shape[1] * max((int(ends[k] - starts[k]) for k in elements), default=1)
        wave = _wave_size(element_bytes)
    wave = max(int(wave), 1)

    # a given lens array stays on the client (clustering needs only to know it is not a named lens)
    task_params = params if isinstance(params.lens, str) else replace(params, lens=None)
    members: list[np.ndarray] = []
    node_interval: list[int] = []
    for w in range(0, len(elements), wave):
        batch = elements[w : w + wave]
        rows = [np.sort(order[starts[k] : ends[k]]) for k in batch]  # each element's rows in storage order
        cuts = [np.searchsorted(r, bounds) for r in rows]
        pieces = {}
        for i in range(len(blocks)):
            local = [r[c[i] : c[i + 1]] - bounds[i] for r, c in zip(rows, cuts)]
            if any(len(x) for x in local):
                pieces[i] = dask.delayed(_take_rows, nout=len(batch))(blocks[i], local)
        tasks = [
            dask.delayed(_cluster_element_task)(
                [pieces[i][j] for i in pieces if cuts[j][i + 1] > cuts[j][i]],
                order[starts[k] : ends[k]],
                sorted_lens[starts[k] : ends[k]],
                task_params,
            )
            for j, k in enumerate(batch)
        ]
        for k, clusters in zip(batch, dask.compute(*tasks)):
            members.extend(clusters)
            node_interval.extend([k] * len(clusters))
    return assemble_graph(members, node_interval, cover, lens, params)


def _centred_unit_rows(X):
    """The dask array's rows minus their mean, scaled to unit length (as ``mapper.centred_rows``)."""
    import dask.array as da

    Xc = X - X.astype(np.float64).mean(axis=0).compute().astype(np.float32)
    norms = da.linalg.norm(Xc.astype(np.float64), axis=1)
    check_off_mean(int((norms == 0).sum().compute()))
    return (Xc / norms[:, None]).astype(np.float32)


def _check_dask_matrix(X):
    """The dask array as float32 with whole rows per chunk, or a TopoAlignError saying what is wrong."""
    import dask.array as da

    from .errors import EmptyInputError, InputShapeError, InvalidValuesError

    if X.ndim != 2:
        raise InputShapeError(f"X has shape {X.shape}; a representation must be 2-D (N inputs × D features).")
    if any(np.isnan(s) for s in X.shape):
        raise InputShapeError("X has unknown chunk sizes; call X.compute_chunk_sizes() first.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise EmptyInputError(f"X is empty (shape {X.shape}); it needs at least one input and one feature.")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.issubdtype(X.dtype, np.complexfloating):
        raise InvalidValuesError(f"X has dtype {X.dtype}; pass a real-valued numeric N×D array.")
    X = X.astype(np.float32).rechunk({1: -1})
    bad = int((~da.isfinite(X).all(axis=1)).sum().compute())
    if bad:
        raise InvalidValuesError(
            f"X has NaN or infinite values in {bad} of {X.shape[0]} rows; drop or impute those inputs in every representation."
        )
    return X


def _dask_lens(X, p: MapperParams) -> tuple[np.ndarray, MapperParams]:
    """The lens of every input, computed chunk by chunk, and ``params`` with ``n_intervals`` resolved;
    the same checks as the in-memory lens."""
    import dask.array as da

    from .errors import ParameterError

    if not isinstance(p.lens, str):
        return _lens(X, p, None)  # a given array: only validated
    if p.lens == "density":
        raise ParameterError(
            "lens='density' needs every input's nearest neighbours (O(N²)) and is not offered for dask arrays; "
            "use 'l2norm', 'pca', 'eccentricity' or pass an (N,) array."
        )
    if p.lens == "l2norm":
        values = da.map_blocks(_l2norm, X, drop_axis=1, dtype=np.float64)
    else:
        X64 = X.astype(np.float64)
        mean = X64.mean(axis=0).compute()
        Xc = X64 - mean
        if p.lens == "eccentricity":
            sq = da.einsum("ij,ij->i", Xc, Xc)
            values = da.sqrt(sq + sq.mean())
        else:
            values = Xc @ _leading_direction(Xc, X.shape[1])
    lens, resolved = _lens(X, replace(p, lens=values.compute()), None)  # constant-lens check
    return lens, replace(resolved, lens=p.lens)


def _leading_direction(Xc, d: int) -> np.ndarray:
    """First principal axis of the centred dask array ``Xc`` (unit, sign fixed so its largest entry is positive):
    from the exact scatter matrix up to 2048 dimensions, else a randomised SVD of a row sample."""
    if d <= 2048:
        _, vecs = np.linalg.eigh((Xc.T @ Xc).compute())
        v = vecs[:, -1]
    else:
        from sklearn.utils.extmath import randomized_svd

        _, _, vt = randomized_svd(_sample_rows(Xc, EPS_SAMPLE), 1, random_state=0)
        v = vt[0]
    return v * np.sign(v[np.argmax(np.abs(v))])


def _sample_rows(X, size: int) -> np.ndarray:
    """All rows of the dask array when it has at most ``size``, else ``size`` rows drawn with a fixed seed."""
    if X.shape[0] <= size:
        return np.asarray(X.compute())
    rows = np.sort(np.random.default_rng(0).choice(X.shape[0], size, replace=False))
    return np.asarray(X[rows].compute())


def _wave_size(element_bytes: int) -> int:
    """Cover elements per pass: a quarter of the workers' memory over ~3 copies of an element, at least
    one per worker thread (dask.distributed client when active, else the local machine)."""
    threads, memory = os.cpu_count() or 1, 0
    try:
        from distributed import default_client

        info = default_client().scheduler_info()["workers"].values()
        threads = sum(w["nthreads"] for w in info)
        memory = sum(w["memory_limit"] or 0 for w in info)
    except (ImportError, ValueError):  # no distributed, or no active client
        pass
    if not memory:
        from .io import available_memory

        memory = available_memory()
    return max(threads, int(memory / 4 // max(3 * element_bytes, 1)))


def _take_rows(block: np.ndarray, local: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """The rows ``local[j]`` of one chunk for each element j of the wave."""
    block = np.asarray(block, dtype=np.float32)
    return tuple(block[rows] for rows in local)


def _cluster_element_task(pieces: list[np.ndarray], rows: np.ndarray, lens: np.ndarray, p: MapperParams):
    """Gather one element's rows (pieces in storage order; ``rows`` its inputs in lens order) and cluster them."""
    Xk = np.empty((len(rows), pieces[0].shape[1]), dtype=np.float32)
    lens_position = np.argsort(rows, kind="stable")  # the lens position of each row in storage order
    start = 0
    for piece in pieces:
        Xk[lens_position[start : start + len(piece)]] = piece
        start += len(piece)
    return element_clusters(Xk, np.arange(len(rows)), lens, p, inputs=rows)
