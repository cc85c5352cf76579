"""Validation of user arrays, shared by every stage."""

from __future__ import annotations

import numpy as np

from .errors import EmptyInputError, InputShapeError, InvalidValuesError


def as_matrix(X, name: str = "X", dtype=np.float32) -> np.ndarray:
    """Return ``X`` as a finite 2-D float array, or raise a TopoAlignError saying what is wrong.

    A torch tensor is accepted and moved to the CPU.
    """
    if hasattr(X, "detach") and hasattr(X, "cpu"):
        X = X.detach().cpu().numpy()
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise InvalidValuesError(f"{name} could not be read as a numeric array: {exc}") from exc
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
