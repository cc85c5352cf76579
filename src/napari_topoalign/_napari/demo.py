"""``launch_demo``: napari with a bundled sample loaded, the TopoAlign widget docked and aligned."""

from __future__ import annotations


def launch_demo(sample: str = "digits", block: bool = True):
    """Open a viewer on ``sample``, dock the TopoAlign widget (which takes the sample's
    representations and recommended mapper parameters from its layers) and start the alignment.

    The alignment runs in the widget's worker, so the layout animates live. With
    ``block=True`` this runs the napari event loop and returns when the window closes;
    otherwise it returns the viewer at once (the alignment finishes in the background).
    """
    import napari
    from napari.layers import Layer

    from ._sample_data import sample_layer_data
    from .widgets import TopoAlignWidget

    viewer = napari.Viewer(title=f"TopoAlign demo: {sample}")
    for data in sample_layer_data(sample):
        viewer.add_layer(Layer.create(*data))
    widget = TopoAlignWidget(viewer)
    viewer.window.add_dock_widget(widget, name="TopoAlign", area="right")
    widget.tabs.setCurrentWidget(widget.align)
    widget.align.run()
    if block:
        napari.run()
    return viewer
