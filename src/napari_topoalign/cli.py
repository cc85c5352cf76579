"""The ``topoalign`` command: align two representations headless and write a report."""

from __future__ import annotations

import argparse
import os
import sys
import time
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
    from .mapper import CLUSTERERS, COVERS, LENSES, METRICS, MapperParams

    defaults = MapperParams()
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
    mapper = run.add_argument_group(
        "mapper graphs (both representations; with --sample, options not given take the sample's recommended values)"
    )
    mapper.add_argument(
        "--lens", metavar="LENS",
        help=f"{', '.join(LENSES)}, a column of --metadata, or a .npy file of N values (default {defaults.lens})",
    )
    mapper.add_argument("--intervals", type=int, metavar="N",
                        help=f"number of cover intervals (default {defaults.n_intervals})")
    mapper.add_argument("--overlap", type=float, metavar="F",
                        help=f"fraction of an interval shared with its neighbour (default {defaults.overlap})")
    mapper.add_argument("--cover", choices=COVERS,
                        help=f"uniform: equal lengths; balanced: equal counts (default {defaults.cover})")
    mapper.add_argument("--clusterer", choices=CLUSTERERS,
                        help=f"clustering in each interval (default {defaults.clusterer})")
    mapper.add_argument("--eps", type=float, default=None, metavar="F",
                        help="clustering radius (default: chosen from the k-NN distances)")
    mapper.add_argument("--min-samples", type=int, metavar="N",
                        help=f"DBSCAN min_samples (default {defaults.min_samples})")
    mapper.add_argument("--metric", choices=METRICS, help=f"distance (default {defaults.metric})")
    mapper.add_argument("--shared-lens", action=argparse.BooleanOptionalAction, default=None,
                        help="slice B by A's lens values, so both graphs share their cover elements "
                             "(default: off, or the sample's choice)")
    _add_layout_options(run)
    run.add_argument("--out", required=True, metavar="DIR", help="folder for alignment.npz and report.html")
    run.set_defaults(func=_cmd_run)

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


def _add_layout_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("joint layout")
    group.add_argument("--mode", choices=("side_by_side", "overlay"), default="side_by_side",
                       help="panels side by side, or both graphs in one frame (default %(default)s)")
    group.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                       help="torch device of the layout (default %(default)s)")
    group.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
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


def main(argv=None) -> int:
    """Entry point of ``topoalign``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (TopoAlignError, OSError) as exc:
        message = " ".join(str(exc).split())
        print(f"topoalign: error: {message}", file=sys.stderr)
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
    given = {k: v for k, v in given.items() if v is not None}
    settings = {
        "params": replace(settings["params"], **given),
        "params_b": replace(settings["params_b"], **given),
        "shared_lens": settings["shared_lens"] if args.shared_lens is None else args.shared_lens,
    }
    check_params(settings["params"])
    check_params(settings["params_b"])
    _run_pipeline(rep_a.X, rep_b.X, names, inputs, settings, args, Path(args.out))
    return 0


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
        try:
            lens = np.load(value, allow_pickle=False)
        except ValueError as exc:
            raise FileFormatError(f"--lens file {value} is not a readable .npy array: {exc}") from exc
    else:
        raise ParameterError(
            f"unknown lens {value!r}; use one of {', '.join(LENSES)}, a numeric column of --metadata, "
            "or a .npy file of one value per input"
        )
    lens = np.asarray(lens, dtype=np.float64).ravel()
    if len(lens) != n:
        raise ParameterError(f"--lens {value!r} must hold {n} values (one per input), it has {len(lens)}")
    if not np.isfinite(lens).all():
        raise ParameterError(
            f"--lens {value!r} has {int((~np.isfinite(lens)).sum())} NaN or infinite values; give every input a finite one"
        )
    return lens


def _run_pipeline(X_a, X_b, names, inputs, settings: dict, args, out: Path) -> None:
    """Align with ``settings`` (align's params, params_b, shared_lens), save, and write the report."""
    from .pipeline import Done, steps
    from .report import write_report

    out.mkdir(parents=True, exist_ok=True)
    bar = _ProgressBar(sys.stderr)
    try:
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


if __name__ == "__main__":
    sys.exit(main())
