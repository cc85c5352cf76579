"""Retake the README's pictures: ``python docs/screenshots.py [--cache DIR]`` (needs a display or
``xvfb-run``). Each sample is aligned with its recommended settings (cached in ``--cache``), drawn
in a shown 1400×820 napari window and saved canvas-only as docs/*.png; the chain picture
(docs/chain.png) is the whole window with the chain widget, on the chain's third layer."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def alignment_of(name: str, cache: Path):
    import napari_topoalign as ta

    sample = ta.load_sample(name)
    path = cache / f"{name}.npz"
    if path.is_file():
        al = ta.Alignment.load(path)
    else:
        X_a, X_b = (r.X for r in sample.representations)
        al = ta.align(X_a, X_b, names=tuple(r.name for r in sample.representations), device="cpu",
                      **sample.align_kwargs())
        al.save(path)
    return al, sample.inputs


def save(viewer, name: str) -> None:
    """The canvas as a 256-colour PNG (keeps each picture well under 300 KB)."""
    from PIL import Image

    shot = viewer.screenshot(canvas_only=True, flash=False)
    Image.fromarray(shot[..., :3]).quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(HERE / name, optimize=True)
    print(HERE / name, shot.shape, (HERE / name).stat().st_size // 1024, "KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/topoalign-screenshots"))
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    import napari

    from napari_topoalign._napari import layers as L
    from napari_topoalign.node_stats import motif_instances

    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1400, 820)
    wanted = set(args.only or ("screenshot", "colour_by_label", "motif", "coins", "chain"))

    def drawn(name):
        for layer in list(viewer.layers):
            viewer.layers.remove(layer)
        al, inputs = alignment_of(name, args.cache)
        la = L.show_alignment(viewer, al, inputs)
        return al, la

    if "screenshot" in wanted:
        drawn("digits")
        save(viewer, "screenshot.png")
    if "colour_by_label" in wanted:
        al, la = drawn("sentences")
        L.colour_nodes(la, "label")
        la.bubbles.visible = la.region_labels.visible = False
        save(viewer, "colour_by_label.png")
    if "motif" in wanted:
        al, la = drawn("digits")
        found = motif_instances(al.graph_a, al.graph_b, al.correspondence, "flare")
        preserved = [m for m in found if m.status == "preserved"] or found
        chosen = max(preserved, key=lambda m: len(m.nodes_a))
        la.bubbles.visible = la.region_labels.visible = False
        L.focus_motif(la, chosen)
        print("motif", chosen)
        save(viewer, "motif.png")
    if "coins" in wanted:
        drawn("coins")
        save(viewer, "coins.png")
    if "chain" in wanted:
        save_chain(viewer, args.cache)
    viewer.close()


def save_chain(viewer, cache: Path) -> None:
    """The sentences_layers chain in the chain widget, the slider on layer 3."""
    from qtpy.QtWidgets import QApplication

    import napari_topoalign as ta
    from napari_topoalign._napari.chain_widget import ChainWidget

    for layer in list(viewer.layers):
        viewer.layers.remove(layer)
    path = cache / "sentences_layers_chain.npz"
    if path.is_file():
        chain = ta.Chain.load(path)
    else:
        sample = ta.load_sample("sentences_layers")
        chain = ta.align_chain(sample.representations, **sample.chain_kwargs(), device="cpu")
        chain.save(path)
    widget = ChainWidget(viewer)
    viewer.window.add_dock_widget(widget, name="TopoAlign chain", area="right")
    viewer.window._qt_window.resize(1500, 900)
    widget.set_chain(chain)
    viewer.dims.set_current_step(viewer.dims.ndim - 3, 3)
    for _ in range(20):
        QApplication.instance().processEvents()
    from PIL import Image

    shot = viewer.screenshot(canvas_only=False, flash=False)
    Image.fromarray(shot[..., :3]).quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(HERE / "chain.png", optimize=True)
    print(HERE / "chain.png", shot.shape, (HERE / "chain.png").stat().st_size // 1024, "KB")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
