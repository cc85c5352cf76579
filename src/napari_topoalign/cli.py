"""The ``topoalign`` command: align two representations headless and write a report."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from .errors import FileFormatError, InputShapeError, ParameterError, TopoAlignError

EXAMPLES = """\
examples:
  topoalign samples                                   list the bundled samples
  topoalign run --sample NAME --out report/           align a sample's two representations
  topoalign run early.npy late.npy --out report/      align two N x D arrays (rows = the same inputs)
  topoalign run model.npz model.npz --key-a layer1 --key-b layer6 --metadata labels.csv \\
      --lens pca --intervals 15 --overlap 0.4 --out report/
  topoalign chain L0.npy L1.npy L2.npy --out chain/   more than two representations in order (see chain --help)
  topoalign demo                                      open napari with a sample aligned
  topoalign demo --headless --out topoalign-demo/     no display: write the sample's report instead

Representations: .npy .npz .csv .tsv .parquet .h5ad .pt (the same N inputs, in the same row order).
Writes DIR/alignment.npz (open it again with napari_topoalign.Alignment.load) and DIR/report.html.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with errors on one line: ``topoalign: error: ...``."""

    def error(self, message):
        self.exit(2, f"topoalign: error: {message} (see '{self.prog} --help')\n")


class _ProgressBar:
    """A one-line text progress bar on a stream, fed with ``pipeline`` events (stage fractions live there)."""

    def __init__(self, stream=sys.stderr, width: int = 28):
        self.stream = stream
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.stage_name = ""
        self.fraction = 0.0
        self.detail = ""
        self._last_draw = 0.0
        self._open = False

    def stage(self, name: str, fraction: float) -> None:
        self.stage_name, self.fraction, self.detail = name, float(fraction), ""
        self._draw(newline=not self.tty)

    def update(self, event) -> None:
        """Show a pipeline event: a new stage gets its own line (when not a terminal); layout steps
        update the line in place, throttled to a few redraws a second."""
        from .pipeline import LayoutStep

        if event.stage != self.stage_name:
            self.stage(event.stage, event.fraction)
        if isinstance(event, LayoutStep):
            self.fraction = event.fraction
            self.detail = f"iteration {event.iteration}/{event.iterations}"
            if self.tty and time.monotonic() - self._last_draw > 0.1:
                self._draw(newline=False)

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def _draw(self, newline: bool) -> None:
        filled = int(round(self.fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"[{bar}] {100 * self.fraction:3.0f}%  {self.stage_name}"
        if self.detail:
            text += f"  ({self.detail})"
        if newline:
            self.stream.write(text + "\n")
        else:
            self.stream.write("\r" + text.ljust(79))
            self._open = True
        self.stream.flush()
        self._last_draw = time.monotonic()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="topoalign",
        description="Compare how two neural-network representations of the same inputs are organised: "
        "mapper graphs of each, laid out jointly, with their structurally matching regions.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="align two representations and write the alignment file and an HTML report",
        description="Align representation A with representation B (files holding the same N inputs, in the "
        "same row order) or the two representations of a bundled sample, and write DIR/alignment.npz "
        "and DIR/report.html.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("A", nargs="?", help="file of representation A (N x D)")
    run.add_argument("B", nargs="?", help="file of representation B (N x D')")
    run.add_argument("--sample", metavar="NAME", help="use a bundled sample's two representations instead of A and B")
    run.add_argument("--key-a", metavar="K", help="array / column group of A inside its file (.npz, .h5ad, .pt)")
    run.add_argument("--key-b", metavar="K", help="array / column group of B inside its file")
    run.add_argument("--metadata", metavar="M", help="per-input labels/texts (.csv, .tsv, .parquet, .npz, .h5ad)")
    run.add_argument("--images", metavar="I", help="per-input images, an (N, H, W[, C]) .npy stack")
    _add_mapper_options(run, "mapper graphs (both representations; with --sample, options not given take the "
                             "sample's recommended values)", "slice B by A's lens values, so both graphs share their "
                             "cover elements (default: off, or the sample's choice)")
    _add_layout_options(run)
    run.add_argument("--out", required=True, metavar="DIR", help="folder for alignment.npz and report.html")
    run.set_defaults(func=_cmd_run)

    _add_chain_parser(sub)

    samples = sub.add_parser("samples", help="list the bundled samples")
    samples.set_defaults(func=_cmd_samples)

    demo = sub.add_parser(
        "demo",
        help="open napari with a sample aligned (or write its report when there is no display)",
        description="Open napari with a bundled sample aligned. With --headless, or when no display is "
        "available, write the sample's report into --out instead.",
    )
    demo.add_argument("--sample", metavar="NAME", default="digits", help="sample to open (default: digits)")
    demo.add_argument("--headless", action="store_true", help="do not open napari; write the report instead")
    demo.add_argument("--out", default="topoalign-demo", metavar="DIR",
                      help="folder of the headless report (default %(default)s)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _add_mapper_options(p: argparse.ArgumentParser, title: str, shared_lens_help: str) -> None:
    from .mapper import CLUSTERERS, COVERS, LENSES, METRICS, MapperParams

    defaults = MapperParams()
    mapper = p.add_argument_group(title)
    mapper.add_argument(
        "--lens", metavar="LENS",
        help=f"{', '.join(LENSES)}, a column of --metadata, or a .npy file of N values (default {defaults.lens})",
    )
    mapper.add_argument("--intervals", type=int, metavar="N",
                        help="cover intervals per lens dimension (default: N/60 within 8-15 for a 1-D lens, 5 for a 3-D lens)")
    mapper.add_argument("--overlap", type=float, metavar="F",
                        help=f"fraction of an interval shared with its neighbour (default {defaults.overlap})")
    mapper.add_argument("--cover", choices=COVERS,
                        help=f"uniform: equal lengths; balanced: equal counts (default {defaults.cover})")
    mapper.add_argument("--clusterer", choices=CLUSTERERS,
                        help=f"clustering in each interval (default {defaults.clusterer})")
    mapper.add_argument("--eps", type=float, default=None, metavar="F",
                        help="clustering radius (default: chosen from the k-NN distances)")
    mapper.add_argument("--min-samples", type=int, metavar="N",
                        help="DBSCAN min_samples (default: floor(ln N), at least 2)")
    mapper.add_argument("--metric", choices=METRICS, help=f"distance (default {defaults.metric})")
    mapper.add_argument("--shared-lens", action=argparse.BooleanOptionalAction, default=None,
                        help=shared_lens_help)


def _add_layout_options(p: argparse.ArgumentParser, modes: bool = True) -> None:
    """--mode (unless ``modes`` is False: a chain has one frame), --device, --seed, --iterations."""
    group = p.add_argument_group("joint layout" if modes else "layout")
    if modes:
        group.add_argument("--mode", choices=("side_by_side", "overlay"), default="side_by_side",
                           help="panels side by side, or both graphs in one frame (default %(default)s)")
    group.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                       help="torch device of the layout (default %(default)s)")
    group.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**32 - 1 (default %(default)s)")
    group.add_argument("--iterations", type=_non_negative_int, default=None, metavar="N",
                       help="layout iterations (default: chosen from the graph sizes)")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _seed(text: str) -> int:
    from .checks import check_seed

    try:
        return check_seed(int(text))
    except (ValueError, TopoAlignError):
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**32 - 1, got {text!r}") from None


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _show_note(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (e.g. which table columns became metadata) as one line each."""
    print(f"topoalign: note: {_one_line(message)}", file=sys.stderr)


def main(argv=None) -> int:
    """Entry point of ``topoalign``; returns the exit code: 2 for a mistake in the arguments or the
    input files (one line on stderr, no traceback), 1 when the system failed (e.g. a disk error)."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_note
        try:
            return args.func(args)
        except TopoAlignError as exc:
            print(f"topoalign: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"topoalign: error: {_one_line(exc)}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("topoalign: interrupted", file=sys.stderr)
            return 130


# ---------------------------------------------------------------------- commands
def _cmd_samples(args) -> int:
    from .samples import list_samples

    infos = list_samples()
    width = max((len(i.name) for i in infos), default=0)
    for info in infos:
        print(f"{info.name.ljust(width)}  {info.title}")
    return 0


def _cmd_run(args) -> int:
    from .io import load_representation
    from .mapper import MapperParams, check_params

    if args.sample:
        if args.A or args.B or args.key_a or args.key_b:
            raise ParameterError("give either --sample NAME or the files A and B, not both")
        rep_a, rep_b, inputs, settings = _sample_representations(args.sample)
    else:
        if not (args.A and args.B):
            raise ParameterError("give two representation files A and B (or --sample NAME)")
        rep_a = load_representation(args.A, key=args.key_a)
        rep_b = load_representation(args.B, key=args.key_b)
        inputs, settings = None, {"params": MapperParams(), "params_b": MapperParams(), "shared_lens": False}
    names = _distinct_names(rep_a.name, rep_b.name)
    from .checks import check_same_inputs

    check_same_inputs(rep_a.X, rep_b.X, names=names)
    n = rep_a.n_inputs
    inputs = _read_inputs(n, inputs, args.metadata, args.images)
    given = _given_params(args, n, inputs)
    settings = {
        "params": replace(settings["params"], **given),
        "params_b": replace(settings["params_b"], **given),
        "shared_lens": settings["shared_lens"] if args.shared_lens is None else args.shared_lens,
    }
    check_params(settings["params"])
    check_params(settings["params_b"])
    _run_pipeline(rep_a.X, rep_b.X, names, inputs, settings, args, Path(args.out))
    return 0


def _given_params(args, n: int, inputs) -> dict:
    """The MapperParams fields given on the command line (the others are left to the defaults or a sample)."""
    given = {
        "lens": None if args.lens is None else _parse_lens(args.lens, n, inputs),
        "n_intervals": args.intervals,
        "overlap": args.overlap,
        "cover": args.cover,
        "clusterer": args.clusterer,
        "eps": args.eps,
        "min_samples": args.min_samples,
        "metric": args.metric,
    }
    return {k: v for k, v in given.items() if v is not None}


def _cmd_demo(args) -> int:
    name = args.sample
    no_display = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if args.headless or no_display:
        why = "--headless" if args.headless else "no display available (DISPLAY and WAYLAND_DISPLAY are unset)"
        print(f"topoalign: {why}: writing the report of sample {name!r} into {args.out} instead of opening napari")
        rep_a, rep_b, inputs, settings = _sample_representations(name)
        args.mode, args.device, args.seed, args.iterations = "side_by_side", "auto", 0, None
        _run_pipeline(rep_a.X, rep_b.X, _distinct_names(rep_a.name, rep_b.name), inputs, settings, args,
                      Path(args.out))
        return 0
    from ._napari.demo import launch_demo

    launch_demo(sample=name)
    return 0


# ---------------------------------------------------------------------- helpers
def _sample_representations(name: str):
    from .samples import load_sample

    sample = load_sample(name)
    if len(sample.representations) < 2:
        raise TopoAlignError(f"sample {name!r} has fewer than two representations")
    rep_a, rep_b = sample.representations[:2]
    return rep_a, rep_b, sample.inputs, sample.align_kwargs()


def _distinct_names(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a != b else (f"{a} (A)", f"{b} (B)")


def _read_inputs(n: int, inputs, metadata_path, images_path):
    """The sample's InputTable, or one built from --metadata and --images (None if neither)."""
    if metadata_path is None and images_path is None:
        return inputs
    from .io import InputTable, load_inputs

    meta = load_inputs(metadata_path) if metadata_path else inputs
    images = load_inputs(images_path).images if images_path else getattr(meta, "images", None)
    if meta is not None and meta.n_inputs != n:
        raise InputShapeError(f"--metadata describes {meta.n_inputs} inputs but the representations have {n}")
    if images is not None and len(images) != n:
        raise InputShapeError(f"--images holds {len(images)} images but the representations have {n} inputs")
    return InputTable(
        n_inputs=n,
        labels=getattr(meta, "labels", None),
        texts=getattr(meta, "texts", None),
        images=images,
        coords=getattr(meta, "coords", None),
        source_image=getattr(meta, "source_image", None),
        metadata=getattr(meta, "metadata", None),
    )


def _parse_lens(value: str, n: int, inputs):
    """A lens name, a numeric column of the metadata, or a .npy file of N values."""
    from .mapper import LENSES

    if value in LENSES:
        return value
    metadata = getattr(inputs, "metadata", None)
    if metadata is not None and value in metadata.columns:
        lens = np.asarray(metadata[value])
        if not np.issubdtype(lens.dtype, np.number):
            raise ParameterError(f"--lens column {value!r} is not numeric")
    elif value.lower().endswith(".npy"):
        from .io import read_npy

        try:
            lens = read_npy(value)
        except FileFormatError as exc:
            raise FileFormatError(f"--lens file {value} is not a readable .npy array: {exc}") from exc
    else:
        raise ParameterError(
            f"unknown lens {value!r}; use one of {', '.join(LENSES)}, a numeric column of --metadata, "
            "or a .npy file of one value per input"
        )
    from .checks import as_lens_values

    try:
        return as_lens_values(lens.ravel() if lens.ndim == 2 and 1 in lens.shape else lens, n, f"--lens {value!r}")
    except TopoAlignError as exc:
        raise ParameterError(f"{exc} Give one finite number per input.") from exc


def _run_pipeline(X_a, X_b, names, inputs, settings: dict, args, out: Path) -> None:
    """Align with ``settings`` (align's params, params_b, shared_lens), save, and write the report."""
    from .pipeline import Done, steps
    from .report import write_report

    bar = _ProgressBar(sys.stderr)
    try:
        with _output_folder(out):
            for event in steps(X_a, X_b, **settings, mode=args.mode, device=args.device, seed=args.seed,
                               iterations=args.iterations, names=names):
                bar.update(event)
                if isinstance(event, Done):
                    alignment = event.alignment
            bar.stage("saving alignment and writing report", 1.0)
            alignment.save(out / "alignment.npz")
            report = write_report(alignment, out, inputs=inputs, X_a=X_a, X_b=X_b)
    finally:
        bar.close()
    print(alignment.summary())
    print(f"alignment: {out / 'alignment.npz'}")
    print(f"report: {report}")


@contextmanager
def _output_folder(out: Path):
    """Create the folder ``out`` for a run's files; when the run fails, remove the folders this created."""
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file; give a folder for the run's files")
    created = None
    for folder in (out, *out.parents):
        if folder.exists():
            break
        created = folder
    out.mkdir(parents=True, exist_ok=True)
    try:
        yield out
    except BaseException:
        if created is not None:  # nothing of a failed run is left behind
            shutil.rmtree(created, ignore_errors=True)
        raise


# ---------------------------------------------------------------------- chain
CHAIN_EXAMPLES = """\
examples:
  topoalign chain --sample sentences_layers --out chain/      the 7 MiniLM layers of the sentences sample
  topoalign chain L0.npy L1.npy L2.npy L3.npy --out chain/    four N x D arrays, in order
  topoalign chain model.npz --keys layer1,layer3,layer6 --out chain/   arrays of one .npz (or .h5ad obsm keys)

Writes DIR/chain.npz (open it with napari_topoalign.Chain.load) and DIR/report.html.
"""


def _add_chain_parser(sub) -> None:
    from .chain import PAIRS

    chain = sub.add_parser(
        "chain",
        help="align more than two representations in order (layers of a model) and write a chain report",
        description="Align a chain of representations of the same N inputs (e.g. the layers of a model, in "
        "order): one mapper graph each, all laid out in one frame, the requested pairs aligned; write "
        "DIR/chain.npz and DIR/report.html.",
        epilog=CHAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chain.add_argument("files", nargs="*", metavar="FILE",
                       help="representation files in order; a file holding several arrays (.npz, .pt, the X and "
                            "obsm matrices of an .h5ad) gives all of them, in the file's order")
    chain.add_argument("--sample", metavar="NAME", help="use a bundled sample's representations instead of files")
    chain.add_argument("--keys", metavar="K1,K2,...",
                       help="the representations to use, by name (array names, obsm keys, file stems), in order")
    chain.add_argument("--pairs", choices=PAIRS, default="consecutive",
                       help="which pairs to align (default %(default)s)")
    chain.add_argument("--metadata", metavar="M", help="per-input labels/texts (.csv, .tsv, .parquet, .npz, .h5ad)")
    _add_mapper_options(chain, "mapper graphs (every representation; with --sample, options not given take the "
                               "sample's recommended values)", "slice every representation by the first one's "
                               "lens values, so all graphs share their cover elements (default: off, or the "
                               "sample's choice)")
    _add_layout_options(chain, modes=False)
    chain.add_argument("--out", required=True, metavar="DIR", help="folder for chain.npz and report.html")
    chain.set_defaults(func=_cmd_chain)


def _cmd_chain(args) -> int:
    from .chain import align_chain
    from .mapper import MapperParams, check_params
    from .report import write_chain_report

    if args.sample:
        if args.files:
            raise ParameterError("give either --sample NAME or representation files, not both")
        from .samples import load_sample

        sample = load_sample(args.sample)
        reps, inputs, settings = sample.representations, sample.inputs, sample.chain_kwargs()
    else:
        reps, inputs = _chain_representations(args.files), None
        settings = {"params": [MapperParams()] * len(reps), "shared_lens": False}
    if args.keys:
        chosen = _pick_representations(reps, args.keys)
        reps, settings["params"] = [reps[i] for i in chosen], [settings["params"][i] for i in chosen]
    if len(reps) < 2:
        raise ParameterError(f"a chain needs at least two representations; got {len(reps)} "
                             "(give several files, or one file holding several arrays)")
    n = reps[0].n_inputs
    inputs = _read_inputs(n, inputs, args.metadata, None)
    given = _given_params(args, n, inputs)
    params = [replace(p, **given) for p in settings["params"]]
    for p in params:
        check_params(p)
    shared_lens = settings["shared_lens"] if args.shared_lens is None else args.shared_lens
    out = Path(args.out)
    bar = _ProgressBar(sys.stderr)
    try:
        with _output_folder(out):
            chain = align_chain(reps, params, pairs=args.pairs, names=_unique_names([r.name for r in reps]),
                                shared_lens=shared_lens, seed=args.seed, device=args.device,
                                iterations=args.iterations, progress=bar.stage)
            bar.stage("saving chain and writing report", 1.0)
            chain.save(out / "chain.npz")
            report = write_chain_report(chain, out, inputs=inputs)
    finally:
        bar.close()
    print(chain.summary())
    print(f"chain: {out / 'chain.npz'}")
    print(f"report: {report}")
    return 0


def _chain_representations(files) -> list:
    """Every representation of the files, in order (a multi-array file gives all its arrays)."""
    from .checks import check_same_inputs
    from .io import load_representations

    if not files:
        raise ParameterError("give the representation files in order (or --sample NAME)")
    reps = [rep for f in files for rep in load_representations(f)]
    for rep in reps[1:]:
        check_same_inputs(reps[0].X, rep.X, names=(reps[0].name, rep.name))
    return reps


def _pick_representations(reps, keys: str) -> list[int]:
    """The indices of the representations named in ``keys`` (comma-separated), in that order."""
    by_name = {}
    for i, rep in enumerate(reps):
        by_name.setdefault(rep.name, i)
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    missing = [k for k in wanted if k not in by_name]
    if missing:
        raise ParameterError(f"--keys: no representation named {', '.join(map(repr, missing))}; "
                             f"there are: {', '.join(by_name)}")
    return [by_name[k] for k in wanted]


def _unique_names(names) -> list[str]:
    """The names, numbered where several representations share one (e.g. 'X' of several .h5ad files)."""
    out = []
    for i, name in enumerate(names):
        out.append(f"{name} ({i})" if names.count(name) > 1 else name)
    return out


if __name__ == "__main__":
    sys.exit(main())
