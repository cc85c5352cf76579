"""A headless report of an alignment: ``report.html`` with PNG figures beside it."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

import numpy as np

from .regions import region_colours, region_of

MOTIF_KINDS = ("branch", "loop", "flare", "path")
MAX_DRAWN_REGIONS = 20
MAX_TABLE_REGIONS = 30
_GEOMETRIC_KEYS = ("cka", "knn", "procrustes")
_SCORE_NOTES = {
    "topology": "rank agreement of the two graphs' distances (paths with -ln Jaccard edge lengths) between the same "
                "input pairs; 1 = organised alike, ~0 = unrelated",
    "procrustes": "orthogonal Procrustes similarity; 1 = equal up to rotation, scaling and translation",
    "inputs in matching regions": "share of the inputs lying in at least one matching region",
    "cka": "linear CKA (Kornblith et al. 2019); 1 = equal up to rotation and isotropic scaling",
    "mutual_knn": "mean share of each input's 10 nearest neighbours found in both representations",
}


def write_report(alignment, out_dir, *, inputs=None, X_a=None, X_b=None) -> Path:
    """Write ``report.html`` and its figures into ``out_dir``; return the HTML path.

    ``inputs`` (an ``InputTable``) adds each region's dominant labels, example texts
    and example images; ``X_a``/``X_b`` add each region's local linear CKA.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    layout_png = out_dir / "layout.png"
    draw_layout(alignment, layout_png)
    examples_png = None
    if inputs is not None and getattr(inputs, "images", None) is not None and alignment.regions:
        examples_png = out_dir / "region_examples.png"
        draw_region_examples(alignment, inputs.images, examples_png)
    source_png = None
    if inputs is not None and getattr(inputs, "coords", None) is not None and getattr(inputs, "source_image", None) is not None:
        source_png = out_dir / "regions_on_source.png"
        draw_regions_on_source(alignment, inputs.coords, inputs.source_image, source_png)
    sections = [
        _section_overview(alignment),
        _section_figure(alignment, layout_png, examples_png, source_png),
        _section_regions(alignment, inputs, X_a, X_b),
        _section_scores(alignment),
        _section_motifs(alignment),
        _section_parameters(alignment, X_a, X_b),
    ]
    a, b = (html.escape(n) for n in alignment.names)
    page = _PAGE.format(title=f"TopoAlign report: {a} vs {b}", body="\n".join(sections))
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- figures
def _polygon_patch(poly, **kwargs):
    """A matplotlib patch of a shapely Polygon or MultiPolygon (holes kept)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    parts = getattr(poly, "geoms", [poly])
    paths = [MplPath(np.asarray(ring.coords)[:, :2], closed=True)
             for p in parts if not p.is_empty for ring in [p.exterior, *p.interiors]]
    return PathPatch(MplPath.make_compound_path(*paths), **kwargs)


def draw_layout(alignment, path) -> Path:
    """PNG of the joint layout: edges, nodes by size and region, Bubble Sets, membranes, labels."""
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    lay = alignment.layout
    A, B = alignment.graph_a, alignment.graph_b
    pos = (np.asarray(lay.pos_a, dtype=float), np.asarray(lay.pos_b, dtype=float))
    regions = alignment.regions[:MAX_DRAWN_REGIONS]
    colours = region_colours(np.arange(len(regions)))
    polys = alignment.bubbles()[: len(regions)]
    overlay = lay.mode == "overlay"

    everything = np.concatenate([pos[0], pos[1]]) if len(pos[0]) + len(pos[1]) else np.zeros((1, 2))
    lo, hi = everything.min(axis=0), everything.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    width = 13.0
    height = float(np.clip(width * span[1] / span[0] + 1.2, 4.5, 10.0))
    fig = Figure(figsize=(width, height), dpi=130, facecolor="white")
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.90))
    ax.set_aspect("equal")
    ax.set_axis_off()

    for (poly_a, poly_b, band), colour in zip(polys, colours):
        if not overlay:
            ax.add_patch(_polygon_patch(band, facecolor=colour, edgecolor="none", alpha=0.10, zorder=0))
        for poly in (poly_a, poly_b):
            ax.add_patch(_polygon_patch(poly, facecolor=colour, edgecolor="none", alpha=0.22, zorder=1))
            ax.add_patch(_polygon_patch(poly, facecolor="none", edgecolor=colour, alpha=0.9, lw=1.2, zorder=1))

    max_size = max([len(m) for g in (A, B) for m in g.members] or [1])
    for g, p, side, style in ((A, pos[0], "nodes_a", "solid"), (B, pos[1], "nodes_b", "dashed" if overlay else "solid")):
        if len(g.edges):
            ax.add_collection(
                LineCollection(p[g.edges], colors="#555555", linewidths=0.7, alpha=0.55, linestyles=style, zorder=2)
            )
        sizes = np.array([len(m) for m in g.members], dtype=float)
        node_region = region_of(regions, g.n_nodes, side)
        face = np.tile(np.array([[0.78, 0.78, 0.78, 1.0]]), (g.n_nodes, 1))
        inside = node_region >= 0
        face[inside] = colours[node_region[inside]]
        ax.scatter(
            p[:, 0], p[:, 1], s=6 + 70 * np.sqrt(sizes / max_size), c=face,
            edgecolors="#333333" if side == "nodes_a" or not overlay else "white", linewidths=0.4, zorder=3,
            marker="o" if side == "nodes_a" or not overlay else "s",
        )

    outline = [patheffects.withStroke(linewidth=3, foreground="white")]
    for i, ((poly_a, poly_b, _), colour) in enumerate(zip(polys, colours)):
        for poly in (poly_a, poly_b) if not overlay else (poly_a,):
            if poly.is_empty:
                continue
            x, y = poly.representative_point().coords[0]
            ax.text(x, y, str(i + 1), ha="center", va="center", fontsize=10, fontweight="bold",
                    color=colour * np.array([0.6, 0.6, 0.6, 1.0]), path_effects=outline, zorder=5)

    pad = 0.06 * span.max()
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    a, b = alignment.names
    if overlay:
        fig.suptitle(f"{a} (circles, solid edges) overlaid with {b} (squares, dashed edges)", fontsize=13)
    else:
        for name, p, g in ((a, pos[0], A), (b, pos[1], B)):
            cx = 0.5 * (p[:, 0].min() + p[:, 0].max()) if len(p) else 0.0
            fx = 0.01 + 0.98 * (cx - (lo[0] - pad)) / (span[0] + 2 * pad)
            fig.text(fx, 0.955, f"{name}  ({g.n_nodes} nodes, {len(g.edges)} edges)",
                     ha="center", va="center", fontsize=13, fontweight="bold")
    fig.savefig(path, facecolor="white")
    return Path(path)


def draw_region_examples(alignment, images, path, per_region: int = 8) -> Path:
    """PNG grid: one row per drawn region, a few of its shared inputs' images."""
    from matplotlib.figure import Figure

    regions = alignment.regions[:MAX_DRAWN_REGIONS]
    colours = region_colours(np.arange(len(regions)))
    images = np.asarray(images)
    fig = Figure(figsize=(1.1 * per_region + 0.8, 1.1 * len(regions) + 0.3), dpi=110, facecolor="white")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.02, top=0.98, wspace=0.1, hspace=0.1)
    rng = np.random.default_rng(0)
    for i, (r, colour) in enumerate(zip(regions, colours)):
        inputs = np.asarray(r.inputs, dtype=np.int64)
        chosen = np.sort(rng.choice(inputs, size=min(per_region, len(inputs)), replace=False)) if len(inputs) else []
        for j in range(per_region):
            ax = fig.add_subplot(len(regions), per_region, i * per_region + j + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(colour)
                spine.set_linewidth(2)
            if j < len(chosen):
                img = images[chosen[j]]
                ax.imshow(img, cmap="gray_r" if img.ndim == 2 else None)
            else:
                ax.set_axis_off()
            if j == 0:
                ax.set_ylabel(f"{i + 1}", rotation=0, labelpad=14, fontsize=12, fontweight="bold", color=colour)
    fig.savefig(path, facecolor="white")
    return Path(path)


def draw_regions_on_source(alignment, coords, source_image, path) -> Path:
    """PNG of the source image with each region's inputs marked at their (row, col) coordinates."""
    from matplotlib.figure import Figure

    regions = alignment.regions[:MAX_DRAWN_REGIONS]
    colours = region_colours(np.arange(len(regions)))
    image = np.asarray(source_image)
    h, w = image.shape[:2]
    fig = Figure(figsize=(7.0, 7.0 * h / w), dpi=120, facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, alpha=0.8)
    ax.set_axis_off()
    coords = np.asarray(coords)
    for r, colour in reversed(list(zip(regions, colours))):
        idx = np.asarray(r.inputs, dtype=np.int64)
        ax.scatter(coords[idx, 1], coords[idx, 0], s=18, color=colour, alpha=0.75, edgecolors="none")
    fig.savefig(path, facecolor="white")
    return Path(path)


# ---------------------------------------------------------------------- HTML sections
def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section_overview(alignment) -> str:
    a, b = (html.escape(n) for n in alignment.names)
    n = alignment.n_inputs
    matched = len(alignment.matched_inputs())
    return (
        f"<h1>TopoAlign: <em>{a}</em> vs <em>{b}</em></h1>"
        f"<p>{n} inputs, seen by two representations. Each became a mapper graph "
        f"({alignment.graph_a.n_nodes} and {alignment.graph_b.n_nodes} nodes); the graphs were laid out jointly "
        f"so that nodes sharing inputs sit in corresponding places. Matching regions are connected parts of both "
        f"graphs that hold largely the same inputs with the same structure.</p>"
        f"<p><b>Matching regions: {len(alignment.regions)}</b>, covering {matched} of the inputs "
        f"({100.0 * matched / max(n, 1):.1f}%).</p>"
    )


def _section_figure(alignment, layout_png: Path, examples_png, source_png) -> str:
    shown = min(len(alignment.regions), MAX_DRAWN_REGIONS)
    more = f" (the best {shown} of {len(alignment.regions)} are drawn)" if len(alignment.regions) > shown else ""
    out = (
        "<h2>Joint layout</h2>"
        f'<img src="{layout_png.name}" alt="joint layout of both mapper graphs">'
        "<p class='caption'>Nodes are clusters of inputs, sized by how many inputs they hold; edges join "
        "clusters that share inputs. Coloured nodes and Bubble Sets mark matching regions, numbered as in the "
        f"table below{more}; a translucent band (membrane) joins each region's two sides. Grey nodes are in no "
        "matching region.</p>"
    )
    if examples_png is not None:
        out += (
            "<h3>Example inputs of each region</h3>"
            f'<img src="{examples_png.name}" alt="example inputs per region" class="examples">'
        )
    if source_png is not None:
        out += (
            "<h3>Regions on the source image</h3>"
            f'<img src="{source_png.name}" alt="matching regions painted on the source image" class="examples">'
            "<p class='caption'>Each input drawn at its position on the source image, in the colour of the "
            "best matching region holding it.</p>"
        )
    return out


def _dominant_labels(labels: np.ndarray, inputs: np.ndarray, top: int = 3) -> str:
    if len(inputs) == 0:
        return ""
    counts = Counter(labels[inputs].tolist()).most_common(top)
    return ", ".join(f"{html.escape(str(lab))} ({100.0 * c / len(inputs):.0f}%)" for lab, c in counts)


def _example_texts(texts, inputs: np.ndarray, labels=None, k: int = 3, width: int = 110) -> str:
    """Up to ``k`` distinct texts of the region: with ``labels``, one of each of its most common
    labels in turn (so the examples show what the region holds), else spread over its inputs."""
    order = np.r_[inputs[::2], inputs[1::2]]
    if labels is not None and len(inputs):
        region_labels = np.asarray(labels)[order]
        common = [lab for lab, _ in Counter(region_labels.tolist()).most_common()]
        queues = [list(order[region_labels == lab]) for lab in common]
        order = [queue.pop(0) for _ in range(len(order)) for queue in queues if queue][: len(order)]
    picked = list(dict.fromkeys(str(texts[i]) for i in order))[:k]
    items = [f"<li>{html.escape(t if len(t) <= width else t[: width - 1] + '…')}</li>" for t in picked]
    return f"<ul>{''.join(items)}</ul>"


def _local_cka(linear_cka, X, Y) -> str:
    """Linear CKA of a region's inputs, or why there is none (too few inputs, one side constant)."""
    if len(X) < 3:
        return "n/a (under 3 inputs)"
    if not (np.ptp(X, axis=0).any() and np.ptp(Y, axis=0).any()):
        return "n/a (one side constant)"
    return f"{linear_cka(X, Y):.3f}"


def _section_regions(alignment, inputs, X_a, X_b) -> str:
    regions = alignment.regions[:MAX_TABLE_REGIONS]
    if not regions:
        return ("<h2>Matching regions</h2><p>No matching regions were found: no connected part of one graph "
                "holds largely the same inputs with the same structure as a part of the other.</p>")
    labels = getattr(inputs, "labels", None)
    texts = getattr(inputs, "texts", None)
    geometric = X_a is not None and X_b is not None
    if geometric:
        from .checks import as_matrix
        from .metrics import linear_cka

        X_a, X_b = as_matrix(X_a, "X_a"), as_matrix(X_b, "X_b")
    header = ["#", "score", "nodes " + alignment.names[0], "nodes " + alignment.names[1], "inputs"]
    header += ["local CKA"] if geometric else []
    header += ["dominant labels"] if labels is not None else []
    header += ["example texts"] if texts is not None else []
    colours = region_colours(np.arange(min(len(regions), MAX_DRAWN_REGIONS)))
    n = alignment.n_inputs
    rows = []
    for i, r in enumerate(regions):
        idx = np.asarray(r.inputs, dtype=np.int64)
        swatch = (f"<span class='swatch' style='background:rgb{tuple(int(255 * c) for c in colours[i][:3])}'></span>"
                  if i < len(colours) else "")
        row = [f"{swatch}{i + 1}", f"{r.score:.3f}", str(len(r.nodes_a)), str(len(r.nodes_b)),
               f"{len(idx)} ({100.0 * len(idx) / max(n, 1):.1f}%)"]
        if geometric:
            row.append(_local_cka(linear_cka, X_a[idx], X_b[idx]))
        if labels is not None:
            row.append(_dominant_labels(np.asarray(labels), idx))
        if texts is not None:
            row.append(_example_texts(texts, idx, None if labels is None else np.asarray(labels)))
        rows.append(row)
    more = (f"<p>{len(alignment.regions) - len(regions)} further regions are not listed.</p>"
            if len(alignment.regions) > len(regions) else "")
    note = ("Score 1 means both sides hold the same inputs with the same structure; 0 means nothing in common. "
            "Inputs are those the two sides share.")
    if geometric:
        note += " Local CKA is linear CKA between the two representations restricted to the region's inputs."
    return f"<h2>Matching regions</h2><p>{note}</p>{_table(header, rows)}{more}"


def _section_scores(alignment) -> str:
    topo = [(k, v) for k, v in alignment.scores.items() if not any(g in k.lower() for g in _GEOMETRIC_KEYS)]
    geo = [(k, v) for k, v in alignment.scores.items() if any(g in k.lower() for g in _GEOMETRIC_KEYS)]
    n = alignment.n_inputs
    topo.append(("inputs in matching regions", len(alignment.matched_inputs()) / max(n, 1)))
    rows = []
    for i in range(max(len(topo), len(geo))):
        row = []
        for group in (topo, geo):
            k, v = group[i] if i < len(group) else ("", None)
            note = _SCORE_NOTES.get(k, "")
            name = f"<b>{html.escape(k)}</b><br><span class='caption'>{html.escape(note)}</span>" if k else ""
            row += [name, "" if v is None else f"{v:.3f}"]
        rows.append(row)
    return (
        "<h2>Alignment scores</h2><p>Topological scores compare the two mapper graphs; the geometric baselines "
        "(linear CKA, mutual k-nearest neighbours) compare the raw representations. All lie in [0, 1], "
        "1 meaning aligned.</p>" + _table(["topological", "", "geometric", ""], rows)
    )


def _section_motifs(alignment) -> str:
    from .motifs import find_motifs, motif_alignment

    A, B, C = alignment.graph_a, alignment.graph_b, alignment.correspondence
    rows = []
    for kind in MOTIF_KINDS:
        matches = motif_alignment(A, B, C, kind)
        status = Counter(m.status for m in matches)
        rows.append([kind, str(len(find_motifs(A, kind))), str(len(find_motifs(B, kind))),
                     str(status["preserved"]), str(status["broken"]), str(status["absent"])])
    a, b = (html.escape(x) for x in alignment.names)
    return (
        "<h2>Motifs</h2><p>For each motif found in " + a + ": <i>preserved</i> if the nodes of " + b +
        " it maps to form the same motif, <i>broken</i> if they exist but do not, <i>absent</i> if it maps to "
        "nothing.</p>" + _table(["motif", f"in {a}", f"in {b}", "preserved", "broken", "absent"], rows)
    )


def _describe_lens(lens) -> str:
    return f"custom array ({len(lens)} values)" if isinstance(lens, np.ndarray) else str(lens)


#: The mapper parameters listed in the reports, in this order.
_PARAM_KEYS = ("lens", "n_intervals", "overlap", "cover", "clusterer", "eps", "min_samples", "metric")


def _param_text(params, key: str) -> str:
    """One mapper parameter as escaped report text (the lens described, eps to 4 digits or "n/a")."""
    v = getattr(params, key)
    if key == "lens":
        v = _describe_lens(v)
    elif key == "eps":
        v = "n/a" if v is None else f"{v:.4g}"
    return html.escape(str(v))


def _section_parameters(alignment, X_a=None, X_b=None) -> str:
    """The mapper parameters of both graphs, their sizes, uncovered inputs (with the coverage
    warning, if any), faithfulness when the representations are given, and the layout."""
    from .mapper import graph_faithfulness

    A, B = alignment.graph_a, alignment.graph_b
    rows = [[key, *(_param_text(g.params, key) for g in (A, B))] for key in _PARAM_KEYS]
    rows.append(["nodes / edges", *(f"{g.n_nodes} / {len(g.edges)}" for g in (A, B))])
    rows.append(["uncovered inputs", *(f"{len(g.uncovered)} of {g.n_inputs}" for g in (A, B))])
    if X_a is not None and X_b is not None:
        rows.append(["faithfulness", *(f"{graph_faithfulness(X, g):.2f}" for X, g in ((X_a, A), (X_b, B)))])
    warnings = "".join(
        f"<p class='warning'>{html.escape(name)}: {html.escape(g.coverage_warning())}</p>"
        for name, g in zip(alignment.names, (A, B)) if g.coverage_warning()
    )
    lay = alignment.layout
    energy = np.asarray(lay.energy)
    final = f", final energy {float(energy[-1]):.4g}" if len(energy) else ""
    return (
        "<h2>Parameters</h2>" + _table(["", *alignment.names], rows) + warnings
        + f"<p>Joint layout: mode {html.escape(lay.mode)}, device {html.escape(lay.device)}, "
        f"{len(energy)} iterations{final}.</p>"
    )


# ---------------------------------------------------------------------- chains
#: Scores drawn in the score-by-layer plot, in this order when present (the headline first).
CHAIN_CURVES = ("topology", "cka", "mutual_knn")
CHAIN_STRIP_COLUMNS = 4


def write_chain_report(chain, out_dir, *, inputs=None) -> Path:
    """Write ``report.html`` of a ``Chain`` into ``out_dir`` (scores by pair, the graphs in the shared
    frame, tracked regions and motifs) with its PNG figures; return the HTML path.

    ``inputs`` (an ``InputTable``) adds the dominant labels of each tracked region.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    curve_png, strip_png = out_dir / "chain_scores.png", out_dir / "chain_graphs.png"
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(7.0, 1.1 * len(chain.pairs) + 4), 3.6), dpi=130, facecolor="white")
    plot_chain_scores(fig.add_subplot(1, 1, 1), chain)
    fig.tight_layout()
    fig.savefig(curve_png, facecolor="white")
    draw_chain_strip(chain, strip_png)
    names = " → ".join(html.escape(n) for n in chain.names)
    sections = [
        f"<h1>TopoAlign chain: {names}</h1>"
        f"<p>{chain.n_inputs} inputs, seen by {len(chain)} representations. Each became a mapper graph; all graphs "
        "were laid out together in one frame, each coupled to the next through the inputs their nodes share, so a "
        "structure that persists stays in place from one representation to the next.</p>",
        "<h2>Scores by pair</h2>"
        f'<img src="{curve_png.name}" alt="alignment scores of each pair" class="examples">'
        "<p class='caption'>The topological score beside the geometric baselines (linear CKA, mutual k-nearest "
        "neighbours), each in [0, 1], 1 meaning aligned.</p>" + _chain_scores_table(chain),
        "<h2>The graphs in the shared frame</h2>"
        f'<img src="{strip_png.name}" alt="the mapper graphs of the chain in one frame">'
        "<p class='caption'>Nodes are coloured by the region track holding them (numbered as in the table "
        "below), grey for none; the same colour in two panels marks the same structure followed along the "
        "chain.</p>",
        _section_chain_tracks(chain, inputs),
        _section_chain_parameters(chain),
    ]
    page = _PAGE.format(title=f"TopoAlign chain report: {names}", body="\n".join(sections))
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def plot_chain_scores(ax, chain, current: int | None = None) -> None:
    """Draw each pair's scores on the matplotlib ``ax``: the headline topology and the geometric
    baselines (``CHAIN_CURVES``) as lines, the other scores faint; ``current`` marks one pair."""
    table = chain.scores
    x = np.arange(len(table))
    styles = {"topology": dict(lw=2.6, color="#1f77b4", marker="o"), "cka": dict(lw=1.6, color="#ff7f0e", marker="s"),
              "mutual_knn": dict(lw=1.6, color="#2ca02c", marker="^")}
    others = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    rest = [k for k in table.columns if k not in CHAIN_CURVES]
    for k, key in enumerate(rest):
        styles[key] = dict(lw=1.0, alpha=0.6, ls="--", marker=".", color=others[k % len(others)])
    for key in [k for k in CHAIN_CURVES if k in table.columns] + rest:
        ax.plot(x, table[key].to_numpy(dtype=float), label=key, **styles[key])
    if current is not None and 0 <= current < len(table):
        ax.axvline(current, color="#d62728", lw=1.5, alpha=0.8, zorder=0)
    ax.set_xticks(x)
    ax.set_xticklabels(_short_pair_labels(chain), rotation=30 if len(x) > 4 else 0,
                       ha="right" if len(x) > 4 else "center", fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _short_pair_labels(chain) -> list[str]:
    """Pair labels without the prefix all names share ("MiniLM layer 0 → MiniLM layer 1" -> "0 → 1")."""
    import os

    prefix = os.path.commonprefix(list(chain.names)) if len(chain.names) > 1 else ""
    names = [n[len(prefix):] for n in chain.names] if all(len(n) > len(prefix) for n in chain.names) else chain.names
    return [f"{names[i]} → {names[j]}" for i, j in chain.pairs]


def draw_chain_strip(chain, path) -> Path:
    """PNG of every graph of the chain in order, in the shared frame (same axes), nodes coloured by
    region track; the edges of each tracked loop drawn thick in black and labelled "L<track>"."""
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    n = len(chain)
    cols = min(n, CHAIN_STRIP_COLUMNS)
    rows = -(-n // cols)
    fig = Figure(figsize=(3.4 * cols, 3.5 * rows), dpi=120, facecolor="white")
    everything = np.concatenate([np.asarray(p, float) for p in chain.positions])
    lo, hi = everything.min(axis=0), everything.max(axis=0)
    pad = 0.05 * float((hi - lo).max() or 1.0)
    labels = chain.node_tracks("region")
    max_size = max(len(m) for g in chain.graphs for m in g.members) if any(g.n_nodes for g in chain.graphs) else 1
    for i, (g, pos, lab) in enumerate(zip(chain.graphs, chain.positions, labels)):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(lo[1] - pad, hi[1] + pad)
        pos = np.asarray(pos, float)
        if len(g.edges):
            ax.add_collection(LineCollection(pos[g.edges], colors="#555555", linewidths=0.6, alpha=0.5, zorder=1))
        face = np.tile(np.array([[0.78, 0.78, 0.78, 1.0]]), (g.n_nodes, 1))
        face[lab >= 0] = region_colours(lab[lab >= 0])
        sizes = np.array([len(m) for m in g.members], dtype=float)
        ax.scatter(pos[:, 0], pos[:, 1], s=4 + 40 * np.sqrt(sizes / max_size), c=face, edgecolors="#333333",
                   linewidths=0.3, zorder=2)
        for k, tr in enumerate(chain.tracks("loop")):
            if not tr.start <= i <= tr.stop:
                continue
            nodes = np.asarray(tr.nodes[i - tr.start], dtype=np.int64)
            inside = np.isin(g.edges, nodes).all(axis=1) if len(g.edges) else np.zeros(0, bool)
            ax.add_collection(LineCollection(pos[g.edges[inside]], colors="#111111", linewidths=2.2, zorder=1.5))
            x, y = pos[nodes].mean(axis=0)
            ax.text(x, y, f"L{k + 1}", ha="center", va="center", fontsize=9, fontweight="bold", zorder=3,
                    path_effects=[patheffects.withStroke(linewidth=3, foreground="white")])
        ax.set_title(f"{chain.names[i]}  ({g.n_nodes} nodes)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, facecolor="white")
    return Path(path)


def _chain_scores_table(chain) -> str:
    table = chain.scores
    rows = [[html.escape(str(label)), *(f"{v:.3f}" for v in row)] for label, row in zip(table.index, table.to_numpy())]
    return _table(["pair", *table.columns], rows)


def _section_chain_tracks(chain, inputs) -> str:
    from .chain import MIN_TRACK_OVERLAP

    labels = getattr(inputs, "labels", None)
    region_table = chain.track_table("region")
    colours = region_colours(np.arange(len(region_table)))
    tracks = chain.tracks("region")
    rows = []
    for k, rec in region_table.iterrows():
        swatch = f"<span class='swatch' style='background:rgb{tuple(int(255 * c) for c in colours[k][:3])}'></span>"
        row = [f"{swatch}{rec['track']}"] + [html.escape(str(rec[c])) for c in region_table.columns[2:]]
        if labels is not None:
            row.append(_dominant_labels(np.asarray(labels), tracks[k].inputs))
        rows.append(row)
    header = ["track", *region_table.columns[2:]] + (["dominant labels"] if labels is not None else [])
    out = ("<h2>Tracked regions</h2><p>A matching region of two consecutive representations continues in a region "
           "of the next pair holding largely the same inputs (Jaccard overlap at least "
           f"{MIN_TRACK_OVERLAP:.1f}); a region that shares inputs with an earlier track without continuing it "
           "<i>split from</i> that track, one that ends in another track <i>merges into</i> it. <i>nodes</i>: the "
           "track's nodes in each representation it spans.</p>")
    out += _table(header, rows) if rows else "<p>No matching regions between consecutive representations.</p>"
    out += "<h2>Tracked motifs</h2><p>Each motif instance (a loop: an independent cycle; a branch: a node of " \
           "degree 3 or more) followed from graph to graph by the inputs it holds. Loop tracks are drawn in the " \
           "graphs above as thick black cycles labelled L and their track number.</p>"
    motif_rows = []
    for kind in ("loop", "branch"):
        for _, rec in chain.track_table(kind).iterrows():
            tag = kind[0].upper()
            motif_rows.append([f"{tag}{rec['track']}"] + [
                html.escape(str(rec[c])) for c in ("kind", "appears in", "last in", "representations", "inputs")
            ] + [f"{tag}{rec[c]}" if rec[c] != "" else "" for c in ("split from", "merges into")])
    header = ["track", "kind", "appears in", "last in", "representations", "inputs", "split from", "merges into"]
    return out + (_table(header, motif_rows) if motif_rows else "<p>No loops or branches in any graph.</p>")


def _section_chain_parameters(chain) -> str:
    rows = [
        [html.escape(name), *(_param_text(g.params, k) for k in _PARAM_KEYS),
         f"{g.n_nodes} / {len(g.edges)}", f"{len(g.uncovered)} of {g.n_inputs}"]
        for name, g in zip(chain.names, chain.graphs)
    ]
    energy = np.asarray(chain.energy)
    return ("<h2>Parameters</h2>" + _table(["representation", *_PARAM_KEYS, "nodes / edges", "uncovered"], rows)
            + f"<p>Chain layout: device {html.escape(str(chain.device))}, {len(energy)} iterations.</p>")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1150px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }}
img {{ max-width: 100%; border: 1px solid #eee; }} img.examples {{ max-width: 70%; }}
table {{ border-collapse: collapse; margin: .6em 0; font-size: .92em; }}
th, td {{ border: 1px solid #ddd; padding: .3em .6em; vertical-align: top; text-align: left; }}
th {{ background: #f4f4f4; }} td ul {{ margin: 0; padding-left: 1.1em; }}
.caption {{ color: #555; font-size: .92em; }}
.swatch {{ display: inline-block; width: .8em; height: .8em; margin-right: .4em; border-radius: 2px; }}
</style></head>
<body>
{body}
<p class="caption">Written by napari-topoalign.</p>
</body></html>
"""
