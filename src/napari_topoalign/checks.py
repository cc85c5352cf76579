"""Validation of user arrays, shared by every stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import EmptyInputError, InputShapeError, InvalidValuesError, MissingFileError, ParameterError

# float32 squared distances of rows with entries beyond 2**60 can overflow, and those of rows
# below 2**-40 lose precision or underflow: such data is rescaled by a power of two (exact).
_SAFE_LARGEST = 2.0**60
_SAFE_SMALLEST = 2.0**-40
MAX_SEED = 2**32 - 1


def as_matrix(X, name: str = "X", dtype=np.float32) -> np.ndarray:
    """Return ``X`` as a finite 2-D float array, or raise a TopoAlignError saying what is wrong.

    A torch tensor is accepted and moved to the CPU.
    """
    arr = _as_array(X, name)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InvalidValuesError(
            f"{name} has non-numeric values (dtype {arr.dtype}); pass a numeric N×D array."
        )
    if np.iscomplexobj(arr):
        raise InvalidValuesError(f"{name} is complex; pass a real-valued N×D array.")
    if arr.ndim == 1:
        raise InputShapeError(
            f"{name} is 1-D with shape {arr.shape}; pass an N×D array "
            "(use X.reshape(-1, 1) for a single feature)."
        )
    if arr.ndim != 2:
        raise InputShapeError(
            f"{name} has shape {arr.shape}; a representation must be 2-D (N inputs × D features). "
            "Flatten the trailing dimensions first, e.g. X.reshape(len(X), -1)."
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise EmptyInputError(f"{name} is empty (shape {arr.shape}); it needs at least one input and one feature.")
    if arr.dtype.kind == "f" and arr.dtype.itemsize > np.dtype(dtype).itemsize and np.isfinite(arr).all():
        largest = float(np.max(np.abs(arr)))
        if largest > float(np.finfo(dtype).max):
            raise InvalidValuesError(
                f"{name} has values up to {largest:.3g}, beyond the range of {np.dtype(dtype).name} "
                f"({np.finfo(dtype).max:.3g}); rescale it, e.g. X / np.abs(X).max()."
            )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    finite = np.isfinite(arr)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        shown = ", ".join(str(i) for i in bad_rows[:5]) + (", ..." if len(bad_rows) > 5 else "")
        raise InvalidValuesError(
            f"{name} has NaN or infinite values in {len(bad_rows)} of {arr.shape[0]} rows "
            f"(rows {shown}); drop or impute those inputs in every representation."
        )
    return arr


def check_same_inputs(X_a: np.ndarray, X_b: np.ndarray, names=("A", "B")) -> None:
    """Raise if two representations do not describe the same number of inputs."""
    if X_a.shape[0] != X_b.shape[0]:
        raise InputShapeError(
            f"representation {names[0]} has {X_a.shape[0]} inputs but {names[1]} has {X_b.shape[0]}; "
            "both must hold the same inputs in the same row order."
        )


def existing_file(path, what: str = "file") -> Path:
    """``path`` as a Path to an existing file, or a ``MissingFileError`` naming ``what``."""
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise ParameterError(f"{what} must be a file path, got {type(path).__name__}.")
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{what} {path}: no such file.")
    if not path.is_file():
        raise MissingFileError(f"{what} {path} is a folder, not a file.")
    return path


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` as an int in [0, 2**32 - 1], or a ``ParameterError``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise ParameterError(f"{name} must be a whole number from 0 to {MAX_SEED}, got {seed!r}.")
    return int(seed)


def check_graph(G, name: str = "graph") -> None:
    """Raise a ``ParameterError`` unless ``G`` is a ``MapperGraph``."""
    from .mapper import MapperGraph

    if not isinstance(G, MapperGraph):
        raise ParameterError(
            f"{name} must be a MapperGraph (from build_mapper), got {type(G).__name__}."
        )


def check_positions(positions, name: str = "positions") -> np.ndarray:
    """``positions`` as a finite (K, 2) float64 array, or a TopoAlignError."""
    pos = as_numeric(positions, name, np.float64)
    if pos.ndim != 2 or pos.shape[1] != 2:
        raise InputShapeError(f"{name} must have shape (K, 2); got {pos.shape}.")
    if not np.isfinite(pos).all():
        raise InvalidValuesError(f"{name} has {int((~np.isfinite(pos)).any(axis=1).sum())} rows with NaN or infinite values.")
    return pos


def _as_array(values, name: str) -> np.ndarray:
    """``values`` as a numpy array (a torch tensor moved to the CPU first), or an InvalidValuesError."""
    if hasattr(values, "detach") and hasattr(values, "cpu"):
        values = values.detach().cpu().numpy()
    try:
        return np.asarray(values)
    except Exception as exc:  # ragged lists and the like
        raise InvalidValuesError(f"{name} could not be read as a numeric array: {exc}") from exc


def as_numeric(values, name: str, dtype=np.float64) -> np.ndarray:
    """``values`` (numpy, torch tensor, pandas, list) as a real numeric numpy array of ``dtype``."""
    arr = _as_array(values, name)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise InvalidValuesError(f"{name} must be real numbers, got dtype {arr.dtype}.")
    return arr.astype(dtype)


def as_lens_values(values, n: int | None = None, name: str = "lens") -> np.ndarray:
    """A lens given as values (array, tensor, Series, list): finite float64 of shape (N,), or (N, 2)
    for a 2-D lens."""
    lens = as_numeric(values, name)
    if lens.ndim == 2 and lens.shape[1] == 1:
        lens = lens[:, 0]
    if not (lens.ndim == 1 or (lens.ndim == 2 and lens.shape[1] == 2)) or (n is not None and len(lens) != n):
        rows = n if n is not None else "N"
        raise InputShapeError(
            f"{name} must hold one value per input, shape ({rows},), or two, shape ({rows}, 2); got shape {lens.shape}."
        )
    if not np.isfinite(lens).all():
        raise InvalidValuesError(f"{name} has {int((~np.isfinite(lens)).sum())} NaN or infinite values.")
    return lens


def check_mapper_params(params, name: str = "params"):
    """``params`` as ``MapperParams`` with a lens array (tensor, Series, list) made a float64 numpy array,
    every value checked (``mapper.check_params``)."""
    from dataclasses import replace

    from .mapper import MapperParams, check_params

    if not isinstance(params, MapperParams):
        raise ParameterError(f"{name} must be a MapperParams, got {type(params).__name__}.")
    if not isinstance(params.lens, (str, np.ndarray)):
        params = replace(params, lens=as_lens_values(params.lens, name=f"{name}.lens"))
    check_params(params)
    return params


def overflow_safe_scale(X: np.ndarray) -> float:
    """A power of two bringing the largest |entry| of ``X`` near 1 when float32 distances of ``X``
    could overflow or underflow; 1.0 otherwise. Scaling by it is exact."""
    largest = float(np.max(np.abs(X))) if X.size else 0.0
    if largest == 0.0:
        return 1.0
    if largest * np.sqrt(X.shape[1]) <= _SAFE_LARGEST and largest >= _SAFE_SMALLEST:
        return 1.0
    return float(2.0 ** -np.frexp(largest)[1])


def _lens_scales(params) -> bool:
    """Whether the lens values scale with X (named lenses, except density under the cosine metric)."""
    return isinstance(params.lens, str) and not (params.lens == "density" and params.metric == "cosine")


def rescaled_params(params, scale: float):
    """``params`` for ``X * scale``: an explicit euclidean eps scales with X."""
    from dataclasses import replace

    if params.eps is None or params.metric != "euclidean":
        return params
    return replace(params, eps=float(params.eps) * scale)


def unscaled_graph(G, params, scale: float):
    """The mapper graph of X from ``G``, that of ``X * scale``: lens, cover and eps back in X's units."""
    from dataclasses import replace

    if _lens_scales(params):
        G.lens = G.lens / scale
        G.intervals = G.intervals / scale
    eps = G.params.eps / scale if params.metric == "euclidean" else G.params.eps
    G.params = replace(G.params, lens=params.lens, eps=eps)
    return G
