"""napari sample data: File ▸ Open Sample ▸ TopoAlign ▸ <sample>, ready to align.

Each sample opens as its representations (hidden ``Image`` layers of the N×D matrices,
see ``_reader``) and its inputs: a mosaic of the input images, the source image the
inputs were cut from, or (texts only) an empty ``Points`` layer, carrying the
``InputTable`` in ``metadata["topoalign_inputs"]`` and the whole ``Sample`` (with its
recommended mapper settings) in ``metadata["topoalign_sample"]``. The TopoAlign widget lists
them, and when the sample's inputs layer arrives (or is found when the widget opens) it puts
the sample's representations on A and B and applies its settings.
"""

from __future__ import annotations

import numpy as np

from ._reader import INPUTS_KEY, SAMPLE_KEY, representation_layer_data


def inputs_layer_data(inputs, name: str) -> tuple:
    """LayerData for an ``InputTable``: its source image, else its images as a mosaic, else an empty Points layer."""
    from .layers import mosaic, image_kwargs

    meta = {"name": f"{name} inputs", "metadata": {INPUTS_KEY: inputs}}
    if inputs.source_image is not None or inputs.images is not None:
        image = np.asarray(inputs.source_image) if inputs.source_image is not None else mosaic(np.asarray(inputs.images))[0]
        return image, {**meta, **image_kwargs(image)}, "image"
    return np.zeros((0, 2)), {**meta, "visible": False}, "points"


def sample_layer_data(name: str) -> list[tuple]:
    """All layers of sample ``name``: its representations, then its inputs."""
    from .. import load_sample

    sample = load_sample(name)
    data, meta, kind = inputs_layer_data(sample.inputs, sample.name)
    meta["metadata"][SAMPLE_KEY] = sample
    return [representation_layer_data(rep) for rep in sample.representations] + [(data, meta, kind)]


def sentences() -> list[tuple]:
    """960 sentences on 8 topics: MiniLM-L6 layer 1 vs layer 6."""
    return sample_layer_data("sentences")


def digits() -> list[tuple]:
    """Handwritten digits: a small CNN's image embedding vs MiniLM embeddings of their captions."""
    return sample_layer_data("digits")


def coins() -> list[tuple]:
    """Patches of scikit-image's coins photo (HOG vs digits CNN), with their positions on it."""
    return sample_layer_data("coins")


def sentences_layers() -> list[tuple]:
    """The 960 sentences through all 7 MiniLM-L6 layers: a chain (see the TopoAlign chain widget)."""
    return sample_layer_data("sentences_layers")
