"""Reading representations (N×D arrays) and per-input data (labels, texts, images) from files.

Formats: ``.npy``, ``.npz``, ``.csv``/``.tsv``, ``.parquet`` (pyarrow), AnnData ``.h5ad``
(anndata) and torch ``.pt`` (tensors only). Nothing is ever unpickled.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import as_matrix, check_same_inputs, existing_file
from .errors import (
    EmptyInputError,
    FileFormatError,
    InputShapeError,
    InvalidValuesError,
    MissingDependencyError,
    TopoAlignError,
)

REPRESENTATION_FORMATS = (".npy", ".npz", ".csv", ".tsv", ".parquet", ".h5ad", ".pt")
INPUT_FORMATS = (".npy", ".npz", ".csv", ".tsv", ".parquet", ".h5ad")

# Arrays of an .npz that describe the inputs rather than represent them.
INPUT_KEYS = ("labels", "texts", "images", "coords", "source_image")
# Table columns that are per-input metadata even when they hold numbers.
METADATA_COLUMNS = frozenset({"label", "labels", "text", "texts", "caption", "id", "name", "index"})

_MAGIC = {
    ".npy": (b"\x93NUMPY", "a NumPy .npy file (np.save)"),
    ".npz": (b"PK", "a NumPy .npz archive (np.savez)"),
    ".pt": (b"PK", "a torch file (torch.save)"),
    ".parquet": (b"PAR1", "a Parquet file"),
    ".h5ad": (b"\x89HDF\r\n\x1a\n", "an HDF5/AnnData file (adata.write_h5ad)"),
}


@dataclass(eq=False)
class Representation:
    """One representation: ``X`` (N inputs × D features, float32), a name, optional per-input metadata."""

    X: np.ndarray
    name: str
    metadata: "object | None" = None  # pandas.DataFrame with N rows

    def __post_init__(self):
        self.X = as_matrix(self.X, name=f"representation {self.name!r}")
        if self.metadata is not None and len(self.metadata) != len(self.X):
            raise InputShapeError(
                f"representation {self.name!r} has {len(self.X)} inputs but its metadata has "
                f"{len(self.metadata)} rows; they must describe the same inputs."
            )

    @property
    def n_inputs(self) -> int:
        return int(self.X.shape[0])


@dataclass(eq=False)
class InputTable:
    """What is known about the N inputs: labels, texts, images, coordinates on a source image, metadata."""

    n_inputs: int
    labels: np.ndarray | None = None
    texts: list[str] | None = None
    images: np.ndarray | None = None  # (N, H, W) or (N, H, W, C)
    coords: np.ndarray | None = None  # (N, 2) (row, col) on source_image
    source_image: np.ndarray | None = None  # (H, W) or (H, W, C)
    metadata: "object | None" = None  # pandas.DataFrame with N rows

    def __post_init__(self):
        n = self.n_inputs = int(self.n_inputs)
        if n <= 0:
            raise EmptyInputError("the input table describes no inputs; it needs at least one row.")
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
            if self.labels.ndim != 1:
                raise InputShapeError(f"labels must be 1-D (one per input), got shape {self.labels.shape}.")
        if self.texts is not None:
            self.texts = [str(t) for t in self.texts]
        if self.images is not None:
            self.images = np.asarray(self.images)
            if self.images.ndim not in (3, 4) or not np.issubdtype(self.images.dtype, np.number):
                raise InputShapeError(
                    f"images must be a numeric (N, H, W) or (N, H, W, C) stack, got shape "
                    f"{self.images.shape} and dtype {self.images.dtype}."
                )
        if self.coords is not None:
            self.coords = as_matrix(self.coords, name="coords")
            if self.coords.shape[1] != 2:
                raise InputShapeError(f"coords must be (N, 2) (row, col) per input, got shape {self.coords.shape}.")
        if self.source_image is not None:
            self.source_image = np.asarray(self.source_image)
            if self.source_image.ndim not in (2, 3):
                raise InputShapeError(
                    f"source_image must be (H, W) or (H, W, C), got shape {self.source_image.shape}."
                )
        for field_name in ("labels", "texts", "images", "coords", "metadata"):
            value = getattr(self, field_name)
            if value is not None and len(value) != n:
                raise InputShapeError(
                    f"the input table has {n} inputs but {field_name} has {len(value)} rows; "
                    "every field must have one row per input, in the same order as the representations."
                )


# ----------------------------------------------------------------------------- file checks


def _check_file(path, formats) -> tuple[Path, str]:
    """Return (path, lower-case suffix) of an existing file of a known format, checking its content."""
    if isinstance(path, (str, os.PathLike)):  # anything else: existing_file says what a path must be
        suffix = Path(path).suffix.lower()
        if suffix not in formats:
            raise FileFormatError(
                f"{Path(path).name}: unknown file type {suffix or '(no extension)'!r}; supported: {', '.join(formats)}."
            )
    path = existing_file(path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise EmptyInputError(f"{path.name} is an empty file (0 bytes); write the data again.")
    if suffix in _MAGIC:
        magic, what = _MAGIC[suffix]
        if not head.startswith(magic) and not (suffix == ".pt" and head[:1] == b"\x80"):
            raise FileFormatError(
                f"{path.name} is not {what}: its content does not match its extension "
                f"({_guess_kind(head)}). Rename it to what it is, or save it again in this format."
            )
    elif b"\x00" in head or any(head.startswith(m) for m, _ in _MAGIC.values()):
        raise FileFormatError(
            f"{path.name} is not a text table ({_guess_kind(head)}); "
            f"a {suffix} file must be plain text with one row per input."
        )
    return path, suffix


def _guess_kind(head: bytes) -> str:
    for suffix, (magic, what) in _MAGIC.items():
        if head.startswith(magic) and suffix not in (".pt",):
            return f"it looks like {what}" if suffix != ".npz" else "it looks like a zip archive"
    if head[:1] == b"\x80":
        return "it looks like a Python pickle"
    if b"\x00" not in head:
        return "it looks like text"
    return "binary content of an unknown kind"


def _pickle_error(where: str) -> FileFormatError:
    return FileFormatError(
        f"{where} holds Python objects (an object array) that would need unpickling, which we never do "
        "for safety. Save plain numeric arrays instead, e.g. np.save(path, np.asarray(X, dtype=np.float32)); "
        "store texts as a unicode array (np.asarray(texts, dtype=str))."
    )


def _require(module: str, fmt: str, pip_name: str):
    try:
        return __import__(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading {fmt} files needs the optional package {pip_name!r}: pip install {pip_name}"
        ) from exc


# ----------------------------------------------------------------------------- per-format readers


# zlib cannot expand data more than about 1032-fold: a member claiming more is lying
_MAX_DEFLATE_RATIO = 1100
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError)


def available_memory() -> int:
    """Bytes of memory this process can still get: MemAvailable on Linux, else the physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**62


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def _read_npy_stream(fh, size: int, where: str) -> np.ndarray:
    """The array of an open .npy stream of ``size`` bytes, after checking what its header claims."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = read_header(fh)
    except Exception as exc:  # numpy's header parser raises many kinds (even tokenize errors) on a crafted header
        raise FileFormatError(f"{where} has a damaged .npy header ({exc}); save it again with np.save.") from exc
    if dtype.hasobject:
        raise _pickle_error(where)
    if any(d < 0 for d in shape):
        raise FileFormatError(f"{where} has a damaged .npy header (negative shape {shape}).")
    claimed = math.prod(shape) * dtype.itemsize
    left = size - fh.tell()
    if claimed > left:
        raise FileFormatError(
            f"{where} claims an array of shape {shape} ({_gib(claimed)}) in its header, but only "
            f"{_gib(left)} of data follow: the file is truncated or damaged."
        )
    if claimed > available_memory():
        raise FileFormatError(
            f"{where} holds an array of {_gib(claimed)}, more than the {_gib(available_memory())} of memory "
            "available; use a smaller file or a machine with more memory."
        )
    arr = np.empty(math.prod(shape), dtype=dtype)
    buf, done = memoryview(arr).cast("B"), 0
    try:
        while done < claimed:
            got = fh.readinto(buf[done:])
            if not got:
                break
            done += got
    except _READ_ERRORS as exc:
        raise FileFormatError(f"{where} cannot be read ({type(exc).__name__}: {exc}); save it again.") from exc
    if done < claimed:
        raise FileFormatError(f"{where} ends after {done} of its {claimed} bytes of data: the file is truncated.")
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def read_npy(path) -> np.ndarray:
    """The array of an .npy file, never unpickled; a header claiming more data than the file holds or
    than memory allows raises ``FileFormatError``."""
    path = existing_file(path)
    with open(path, "rb") as fh:
        return _read_npy_stream(fh, path.stat().st_size, path.name)


def read_npz(path, keys=None) -> dict[str, np.ndarray]:
    """Arrays of an .npz archive (only ``keys`` when given), never unpickled.

    Each member's sizes are checked before it is decompressed: its declared size against the
    most deflate can expand its compressed size and the memory available, and its .npy header
    against its declared size. A damaged archive raises ``FileFormatError``.
    """
    path = existing_file(path)
    try:
        zf = zipfile.ZipFile(path)
    except _READ_ERRORS as exc:
        raise FileFormatError(f"{path.name} is a damaged zip archive ({exc}); save it again with np.savez.") from exc
    with zf:
        infos = zf.infolist()
        if not infos:
            raise EmptyInputError(f"{path.name} is an .npz archive with no arrays in it.")
        not_npy = [i.filename for i in infos if not i.filename.endswith(".npy")]
        if not_npy:
            raise FileFormatError(
                f"{path.name} is a zip archive but not an .npz: it holds {', '.join(not_npy[:5])}. "
                "Save the arrays with np.savez(path, name=array, ...)."
            )
        wanted = [i for i in infos if keys is None or i.filename[:-4] in keys]
        _check_member_sizes(path, wanted)
        out = {}
        for info in wanted:
            where = f"array {info.filename[:-4]!r} of {path.name}"
            try:
                with zf.open(info) as fh:
                    out[info.filename[:-4]] = _read_npy_stream(fh, info.file_size, where)
            except _READ_ERRORS as exc:
                raise FileFormatError(f"{where} is damaged ({type(exc).__name__}: {exc}); save it again.") from exc
    return out


def _check_member_sizes(path: Path, infos) -> None:
    total = 0
    for info in infos:
        where = f"array {info.filename[:-4]!r} of {path.name}"
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileFormatError(f"{where} is compressed in a way np.savez never writes; save it again with np.savez.")
        most = info.compress_size * (_MAX_DEFLATE_RATIO if info.compress_type == zipfile.ZIP_DEFLATED else 1)
        if info.file_size > most + 4096:
            raise FileFormatError(
                f"{where} claims {_gib(info.file_size)} uncompressed from {_gib(info.compress_size)} compressed, "
                "more than compression allows: the archive is damaged or crafted."
            )
        total += info.file_size
    if total > available_memory():
        raise FileFormatError(
            f"{path.name} holds {_gib(total)} of arrays, more than the {_gib(available_memory())} of memory "
            "available; use a smaller file or a machine with more memory."
        )


def _torch_tensors(path: Path) -> dict[str, np.ndarray] | np.ndarray:
    """A tensor, or a dict of name -> tensor, from a .pt file, as numpy arrays (weights_only=True)."""
    import pickle

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise FileFormatError(
            f"{path.name} holds Python objects besides tensors, which would need unpickling; we only "
            "load tensors (torch.load(weights_only=True)). Save a tensor, or a dict of name -> tensor, "
            "with torch.save."
        ) from exc
    except Exception as exc:  # a damaged or crafted file: torch raises many kinds
        raise FileFormatError(
            f"{path.name} is not a readable torch file ({type(exc).__name__}: "
            f"{str(exc).strip()[:120]}); save a tensor, or a dict of name -> tensor, with torch.save."
        ) from exc
    if isinstance(obj, torch.Tensor):
        return _tensor_array(obj, path.name)
    if isinstance(obj, dict):
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return {k: _tensor_array(v, f"tensor {k!r} of {path.name}") for k, v in tensors.items()}
    raise FileFormatError(
        f"{path.name} holds a {type(obj).__name__} without tensors; save a tensor, or a dict of "
        "name -> tensor, with torch.save."
    )


def _tensor_array(t, where: str) -> np.ndarray:
    """A loaded tensor (parameter, sparse, quantized, low precision) as a numpy array; floats as float32."""
    import torch

    if t.is_meta:
        raise FileFormatError(f"{where} is a meta tensor without values; save the tensor itself.")
    try:
        t = t.detach()
        if t.is_quantized:
            t = t.dequantize()
        if t.layout != torch.strided:
            t = t.to_dense()
        if t.is_floating_point():
            t = t.float()
        return t.cpu().numpy()
    except (RuntimeError, TypeError, ValueError) as exc:
        raise FileFormatError(
            f"{where} cannot be turned into a numeric array ({str(exc).strip()[:120]}); "
            "save a plain dense tensor with torch.save."
        ) from exc


def _read_table(path: Path, suffix: str):
    """A pandas DataFrame from a csv/tsv/parquet file; a csv/tsv header row is detected (see ``_has_header``)."""
    import pandas as pd

    if suffix == ".parquet":
        _require("pyarrow", ".parquet", "pyarrow")
        try:
            df = pd.read_parquet(path, engine="pyarrow")
        except Exception as exc:  # pyarrow raises its own ArrowInvalid etc.
            raise FileFormatError(f"{path.name} is not a readable Parquet file: {exc}") from exc
    else:
        sep = "\t" if suffix == ".tsv" else ","
        try:
            head = pd.read_csv(path, sep=sep, header=None, nrows=50, dtype=str, keep_default_na=False)
            header = _has_header(head.fillna("").to_numpy())
            df = pd.read_csv(path, sep=sep, header=0 if header else None)
            if not header:
                df.columns = [f"f{i}" for i in range(df.shape[1])]
        except pd.errors.EmptyDataError as exc:
            raise EmptyInputError(f"{path.name} has no rows or columns.") from exc
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise FileFormatError(
                f"{path.name} is not a well-formed {suffix} table ({' '.join(str(exc).split())}); every row "
                f"needs the same number of {'tab' if sep == chr(9) else 'comma'}-separated fields."
            ) from exc
    if df.shape[0] == 0:
        raise EmptyInputError(f"{path.name} has a header but no rows.")
    return df


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _has_header(cells: np.ndarray) -> bool:
    """Whether the first row of a table (``cells``: its first rows as strings) is a header.

    It is when none of its cells is a number, when its numbers are 0, 1, 2, ... in order (pandas
    writes integer column names so: ``to_csv(index=False)`` of an array's frame), or when a column
    holds a non-number in the first row and only numbers below it.
    """
    first, rest = cells[0], cells[1:]
    numeric = [_is_number(c) for c in first]
    if not any(numeric):
        return True
    tokens = [c.strip() for c, is_num in zip(first, numeric) if is_num]
    if tokens == [str(i) for i in range(len(tokens))]:
        return True
    for j, is_num in enumerate(numeric):
        below = [c for c in rest[:, j] if c.strip()]
        if not is_num and first[j].strip() and below and all(_is_number(c) for c in below):
            return True
    return False


def _metadata_reason(name: str, column) -> str | None:
    """Why a table column is per-input metadata rather than a feature (None: it is a feature).

    Raises ``InvalidValuesError`` for a column of numbers with a few cells that are not.
    """
    import pandas as pd

    if name.lower() in METADATA_COLUMNS:
        return "its name"
    if name.startswith("Unnamed:"):
        return "an unnamed index column"
    if pd.api.types.is_bool_dtype(column):
        return "true/false values"
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        return "dates"
    if pd.api.types.is_numeric_dtype(column):
        return None
    text = column.dropna().astype(str).str.strip()
    if text.str.lower().isin(["true", "false"]).all():
        return "true/false values"
    coerced = pd.to_numeric(text, errors="coerce")
    bad = coerced.isna().to_numpy() & ~text.str.lower().isin(["nan", ""]).to_numpy()
    if not bad.any():
        return None
    if bad.mean() < 0.5:
        rows = text.index[bad]
        raise InvalidValuesError(
            f"column {name!r} is numeric except in {len(rows)} rows "
            f"(rows {', '.join(map(str, rows[:5]))}{', ...' if len(rows) > 5 else ''}, e.g. "
            f"{column.loc[rows[0]]!r}); fix those values or make the column text."
        )
    if pd.to_datetime(text, errors="coerce", format="ISO8601").notna().all():
        return "dates"
    return "text"


def _split_table(df, path: Path):
    """(X, metadata) of a table: numeric columns are features, the others are metadata.

    A ``TopoAlignWarning`` names the metadata columns and why each is one.
    """
    import warnings

    import pandas as pd

    from .errors import TopoAlignWarning

    reasons, feat_cols = {}, []
    for col in df.columns:
        try:
            reason = _metadata_reason(str(col), df[col])
        except InvalidValuesError as exc:
            raise InvalidValuesError(f"{path.name}: {exc}") from exc
        if reason is None:
            feat_cols.append(col)
        else:
            reasons[col] = reason
    if not feat_cols:
        raise InvalidValuesError(
            f"{path.name} has no numeric feature columns (columns: {', '.join(map(str, df.columns[:10]))}); "
            "a representation needs one numeric column per feature."
        )
    if reasons:
        shown = ", ".join(f"{str(c)!r} ({why})" for c, why in list(reasons.items())[:10])
        more = f" and {len(reasons) - 10} more" if len(reasons) > 10 else ""
        warnings.warn(
            f"{path.name}: {len(feat_cols)} numeric columns are features; kept as per-input metadata: {shown}{more}.",
            TopoAlignWarning,
            stacklevel=3,
        )
    X = df[feat_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    metadata = df[list(reasons)].reset_index(drop=True) if reasons else None
    return X, metadata


def _read_anndata(path: Path):
    anndata = _require("anndata", ".h5ad", "anndata")
    try:
        return anndata.read_h5ad(path)
    except Exception as exc:  # h5py / anndata raise many kinds
        raise FileFormatError(f"{path.name} is not a readable AnnData file: {exc}") from exc


def _obs_metadata(adata):
    obs = adata.obs.copy()
    if "obs_name" not in obs.columns:
        obs.insert(0, "obs_name", obs.index.astype(str))
    return obs.reset_index(drop=True)


def _dense(a):
    if hasattr(a, "toarray"):
        a = a.toarray()
    elif hasattr(a, "to_numpy"):
        a = a.to_numpy()
    return np.asarray(a)


def _build(path: Path, cls, *args, **kwargs):
    """``cls(*args, **kwargs)``, with the file's name in front of any validation error."""
    try:
        return cls(*args, **kwargs)
    except TopoAlignError as exc:
        raise type(exc)(f"{path.name}: {exc}") from exc


def _pick(arrays: dict, key, path: Path, what: str):
    """The array named ``key``, or the only candidate when ``key`` is None."""
    if key is not None:
        if key not in arrays:
            raise FileFormatError(
                f"{path.name} has no {what} named {key!r}; it has: {', '.join(map(str, arrays)) or 'none'}."
            )
        return key, arrays[key]
    candidates = [k for k in arrays if k not in INPUT_KEYS] or list(arrays)
    if len(candidates) > 1:
        raise FileFormatError(
            f"{path.name} holds several {what}s ({', '.join(candidates)}); choose one with key=..."
            " (or read them all with load_representations)."
        )
    return candidates[0], arrays[candidates[0]]


# ----------------------------------------------------------------------------- public API


def load_representation(path, *, key: str | None = None, name: str | None = None) -> Representation:
    """Read one N×D representation from ``path``.

    ``key`` picks an array of an ``.npz``, a tensor of a ``.pt`` dict, or an ``obsm`` key (or
    layer) of an ``.h5ad`` (default ``X``). In csv/tsv/parquet tables numeric columns are features
    and the others (and columns named label, text, id, name, index) become ``metadata``.
    ``name`` defaults to the key or the file's stem.
    """
    path, suffix = _check_file(path, REPRESENTATION_FORMATS)
    metadata = None
    label = path.stem
    if suffix == ".npy":
        if key is not None:
            raise FileFormatError(f"{path.name} is a single .npy array; key={key!r} applies only to .npz/.pt/.h5ad.")
        X = read_npy(path)
    elif suffix == ".npz":
        label, X = _pick(read_npz(path), key, path, "array")
    elif suffix == ".pt":
        obj = _torch_tensors(path)
        if isinstance(obj, dict):
            label, X = _pick(obj, key, path, "tensor")
        else:
            X = obj
    elif suffix in (".csv", ".tsv", ".parquet"):
        if key is not None:
            raise FileFormatError(f"key={key!r} does not apply to {suffix} tables; every numeric column is a feature.")
        X, metadata = _split_table(_read_table(path, suffix), path)
    else:  # .h5ad
        adata = _read_anndata(path)
        if key is None:
            X = _dense(adata.X) if adata.X is not None else None
            if X is None:
                raise EmptyInputError(f"{path.name} has no X matrix; pass key= one of its obsm keys: {list(adata.obsm)}.")
        else:
            arrays = {**{f"layers/{k}": v for k, v in adata.layers.items()}, **dict(adata.obsm)}
            if key in adata.layers and key not in adata.obsm:
                key = f"layers/{key}"
            label, X = _pick(arrays, key, path, "obsm key or layer")
            X = _dense(X)
            label = label.split("/", 1)[-1]
        metadata = _obs_metadata(adata)
    return _build(path, Representation, X, name=str(name or label), metadata=metadata)


def load_representations(path) -> list[Representation]:
    """Every representation in ``path``: each 2-D numeric array of an ``.npz`` or ``.pt`` dict
    (except the input arrays labels/texts/images/coords/source_image), ``X`` and each ``obsm`` of
    an ``.h5ad``; a single one for other files. All must have the same number of inputs."""
    path, suffix = _check_file(path, REPRESENTATION_FORMATS)
    if suffix in (".npz", ".pt"):
        obj = read_npz(path) if suffix == ".npz" else _torch_tensors(path)
        if not isinstance(obj, dict):
            return [load_representation(path)]
        keys = [
            k for k, a in obj.items()
            if k not in INPUT_KEYS and a.ndim == 2 and np.issubdtype(a.dtype, np.number)
        ]
        if not keys:
            shapes = ", ".join(f"{k} {a.shape} {a.dtype}" for k, a in obj.items())
            raise InputShapeError(f"{path.name} holds no 2-D numeric representation (it has: {shapes}).")
        reps = [_build(path, Representation, obj[k], name=k) for k in keys]
    elif suffix == ".h5ad":
        adata = _read_anndata(path)
        metadata = _obs_metadata(adata)
        reps = [] if adata.X is None else [_build(path, Representation, _dense(adata.X), name="X", metadata=metadata)]
        reps += [_build(path, Representation, _dense(v), name=k, metadata=metadata) for k, v in adata.obsm.items()]
        if not reps:
            raise EmptyInputError(f"{path.name} has neither X nor obsm matrices.")
    else:
        reps = [load_representation(path)]
    for rep in reps[1:]:
        check_same_inputs(reps[0].X, rep.X, names=(reps[0].name, rep.name))
    return reps


def load_inputs(path) -> InputTable:
    """Read what is known about the inputs: a csv/tsv/parquet table (columns ``label`` and
    ``text`` are used, all columns kept as metadata), an ``.npy`` image stack, an ``.npz`` with
    any of labels/texts/images/coords/source_image (other 1-D arrays become metadata, 2-D ones
    are representations and skipped), or an ``.h5ad`` (its ``obs``)."""
    path, suffix = _check_file(path, INPUT_FORMATS)
    if suffix in (".csv", ".tsv", ".parquet"):
        df = _read_table(path, suffix)
        cols = {str(c).lower(): c for c in df.columns}
        label_col = next((cols[c] for c in ("label", "labels") if c in cols), None)
        text_col = next((cols[c] for c in ("text", "texts", "caption") if c in cols), None)
        return _build(
            path,
            InputTable,
            n_inputs=len(df),
            labels=None if label_col is None else df[label_col].to_numpy(),
            texts=None if text_col is None else df[text_col].astype(str).tolist(),
            metadata=df.reset_index(drop=True),
        )
    if suffix == ".npy":
        images = read_npy(path)
        if images.ndim not in (3, 4):
            raise InputShapeError(
                f"{path.name} has shape {images.shape}; images must be an (N, H, W) or (N, H, W, C) stack."
            )
        return _build(path, InputTable, n_inputs=len(images), images=images)
    if suffix == ".h5ad":
        obs = _obs_metadata(_read_anndata(path))
        label = next((c for c in ("label", "labels") if c in obs.columns), None)
        labels = None if label is None else obs[label].to_numpy()
        return _build(path, InputTable, n_inputs=len(obs), labels=labels, metadata=obs)
    arrays = read_npz(path)
    scalars = [k for k, a in arrays.items() if a.ndim == 0 and k != "source_image"]
    if scalars or ("source_image" in arrays and arrays["source_image"].ndim == 0):
        raise InputShapeError(
            f"{path.name}: {', '.join(scalars or ['source_image'])} is a single value (0-D array); per-input "
            "arrays need one row per input, e.g. labels of shape (N,)."
        )
    fields = {k: arrays.pop(k) for k in INPUT_KEYS if k in arrays}
    per_input = [fields[k] for k in ("labels", "texts", "images", "coords") if k in fields]
    if not per_input:
        raise FileFormatError(
            f"{path.name} has none of the arrays labels, texts, images, coords (it has: "
            f"{', '.join(arrays) or 'nothing'}); name them so when saving with np.savez."
        )
    n = len(per_input[0])
    extra = {k: a for k, a in arrays.items() if a.ndim == 1 and len(a) == n}
    representations = [k for k, a in arrays.items() if a.ndim == 2 and len(a) == n]
    odd = [f"{k} {a.shape}" for k, a in arrays.items() if k not in extra and k not in representations]
    if odd:
        raise FileFormatError(
            f"{path.name} has arrays that are neither input fields, nor one value per input, nor "
            f"representations of the {n} inputs: {', '.join(odd)}."
        )
    metadata = None
    if extra:
        import pandas as pd

        metadata = pd.DataFrame(extra)
    if "texts" in fields:
        fields["texts"] = fields["texts"].tolist()
    return _build(path, InputTable, n_inputs=n, metadata=metadata, **fields)
