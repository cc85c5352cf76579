"""Errors a user can cause, each saying what was wrong and what to do."""


class TopoAlignError(ValueError):
    """Base class of every error caused by the user's input or settings."""


class InputShapeError(TopoAlignError):
    """An array has the wrong number of dimensions or rows."""


class InvalidValuesError(TopoAlignError):
    """An array holds NaN, infinite or non-numeric values."""


class EmptyInputError(TopoAlignError):
    """There is nothing to work on: no rows, no columns, or no nodes."""


class FileFormatError(TopoAlignError):
    """A file is not what its name says, is damaged, or would need unpickling."""


class MissingDependencyError(TopoAlignError):
    """An optional package is needed for this file format or feature."""


class ParameterError(TopoAlignError):
    """A parameter has a value outside what it accepts."""


class MissingFileError(TopoAlignError, FileNotFoundError):
    """A file or folder the user named does not exist (also a ``FileNotFoundError``)."""


class TopoAlignWarning(UserWarning):
    """Something was read or chosen in a way the user may not expect (e.g. table columns kept as metadata)."""
