"""The bundled samples: real models on real inputs, read from small .npz files without the models.

``sample_data/make_samples.py`` regenerates them; ``sample_data/README.md`` describes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path


from .errors import FileFormatError, TopoAlignError
from .io import InputTable, Representation, load_inputs, load_representations
from .mapper import MapperParams


@dataclass(frozen=True)
class SampleInfo:
    """A bundled sample's name (for ``load_sample``), title and description."""

    name: str
    title: str
    description: str


@dataclass(eq=False)
class Sample:
    """A loaded sample: its representations, its inputs and the mapper settings recommended for it."""

    name: str
    representations: list[Representation]
    inputs: InputTable
    description: str
    params: MapperParams = field(default_factory=MapperParams)
    params_b: MapperParams = field(default_factory=MapperParams)
    shared_lens: bool = False
    chain_params: list | None = None  # one MapperParams per representation, for a chain sample

    def align_kwargs(self) -> dict:
        """The recommended ``align`` arguments for this sample: ``params``, ``params_b``, ``shared_lens``."""
        return {"params": self.params, "params_b": self.params_b, "shared_lens": self.shared_lens}

    def chain_kwargs(self) -> dict:
        """The recommended ``align_chain`` arguments for all the sample's representations: ``params``
        (one per representation; ``params`` then ``params_b`` for the rest when the sample has no
        chain settings) and ``shared_lens``."""
        n = len(self.representations)
        params = self.chain_params or [self.params] + [self.params_b] * (n - 1)
        return {"params": list(params), "shared_lens": self.shared_lens}


_SAMPLES = (
    SampleInfo(
        "sentences",
        "Sentences: MiniLM layer 1 vs layer 6",
        "960 English sentences on 8 topics (120 each), mean-pooled hidden states of all-MiniLM-L6-v2 "
        "after transformer layer 1 and after layer 6 (384-D each): how structure changes with depth.",
    ),
    SampleInfo(
        "digits",
        "Digits: image CNN vs caption text embeddings",
        "The 1,797 8×8 handwritten digits of scikit-learn: the 64-D penultimate layer of a small CNN "
        "trained on them, against all-MiniLM-L6-v2 embeddings (384-D) of a caption per image built "
        "from its label, ink amount and slant.",
    ),
    SampleInfo(
        "coins",
        "Coins photo patches: HOG vs digits CNN",
        "1,692 overlapping 16×16 patches of scikit-image's coins photo, with their positions on it: "
        "HOG descriptors (36-D) against the digits CNN's 64-D embedding of each patch.",
    ),
    SampleInfo(
        "sentences_layers",
        "Sentences: all 7 MiniLM layers (a chain)",
        "The 960 sentences of the sentences sample (8 topics), mean-pooled hidden states of "
        "all-MiniLM-L6-v2 after the embeddings (layer 0) and after each of its 6 transformer layers "
        "(384-D each): a chain of seven representations for align_chain / topoalign chain.",
    ),
)


def _data_dir() -> Path:
    """Where the sample files are: inside the installed package, else the repository's sample_data/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "sample_data", here.parents[1] / "sample_data"):
        if candidate.is_dir():
            return candidate
    raise FileFormatError(
        f"the sample data folder is missing (looked in {here / 'sample_data'} and "
        f"{here.parents[1] / 'sample_data'}); reinstall napari-topoalign."
    )


def list_samples() -> list[SampleInfo]:
    """The bundled samples, each with a name for ``load_sample``, a title and a description."""
    return list(_SAMPLES)


def load_sample(name: str) -> Sample:
    """Load a bundled sample: its representations (float32), its inputs (labels, texts, images...)
    and its recommended mapper settings (``params``, ``params_b``, ``shared_lens``; see ``align_kwargs``)."""
    info = next((s for s in _SAMPLES if s.name == name), None)
    if info is None:
        raise TopoAlignError(
            f"unknown sample {name!r}; the samples are: {', '.join(s.name for s in _SAMPLES)}."
        )
    path = _data_dir() / f"{name}.npz"
    return Sample(
        name=name,
        representations=load_representations(path),
        inputs=load_inputs(path),
        description=info.description,
        **_recommended(path.with_suffix(".params.json")),
    )


def _recommended(path: Path) -> dict:
    """The sample's recommended settings from ``path``: ``{"a": {...}, "b": {...}, "shared_lens": bool}``,
    or for a chain ``{"chain": [{...}, ...], "shared_lens": bool}``.

    "a" and "b" hold MapperParams fields for each representation ("chain": one set per
    representation; its first two then serve ``align``). No file: the defaults.
    """
    if not path.is_file():
        return {}
    known = {f.name for f in fields(MapperParams)}
    try:
        values = json.loads(path.read_text())
        if not isinstance(values, dict) or not set(values) <= {"a", "b", "chain", "shared_lens"}:
            raise ValueError('expected an object with keys among "a", "b", "chain", "shared_lens"')
        chain = values.get("chain")
        if chain is not None and (not isinstance(chain, list) or len(chain) < 2):
            raise ValueError('"chain" must be a list of at least two parameter sets')
        for side, part in [("a", values.get("a", {})), ("b", values.get("b", {}))] + [
            (f"chain[{i}]", p) for i, p in enumerate(chain or [])
        ]:
            if not isinstance(part, dict) or not set(part) <= known:
                raise ValueError(f'"{side}" may only hold keys among {sorted(known)}')
        out = {
            "params": MapperParams(**values.get("a", {})),
            "params_b": MapperParams(**values.get("b", values.get("a", {}))),
            "shared_lens": bool(values.get("shared_lens", False)),
        }
        if chain is not None:
            out["chain_params"] = [MapperParams(**p) for p in chain]
            out["params"], out["params_b"] = out["chain_params"][:2]
        return out
    except (ValueError, TypeError) as exc:
        raise FileFormatError(f"{path} does not hold valid mapper parameters ({exc}); "
                              "regenerate it with sample_data/make_samples.py.") from exc
