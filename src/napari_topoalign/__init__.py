"""napari-topoalign: compare how two representations organise the same inputs.

The public API is imported lazily, so ``import napari_topoalign`` is quick and
never imports napari or Qt.
"""

from importlib import import_module

__version__ = "0.1.0"

_API = {
    "TopoAlignError": "errors",
    "MapperParams": "mapper",
    "MapperGraph": "mapper",
    "build_mapper": "mapper",
    "graph_faithfulness": "mapper",
    "UncoveredInputsWarning": "mapper",
    "Representation": "io",
    "InputTable": "io",
    "load_representation": "io",
    "load_representations": "io",
    "load_inputs": "io",
    "correspondence": "correspond",
    "JointLayout": "layout",
    "joint_layout": "layout",
    "Region": "regions",
    "find_matching_regions": "regions",
    "bubble_set": "bubbles",
    "membrane": "bubbles",
    "Motif": "motifs",
    "MotifMatch": "motifs",
    "find_motifs": "motifs",
    "motif_alignment": "motifs",
    "linear_cka": "metrics",
    "mutual_knn": "metrics",
    "procrustes_similarity": "metrics",
    "topology_score": "metrics",
    "alignment_scores": "metrics",
    "Alignment": "alignment",
    "align": "alignment",
    "Chain": "chain",
    "Track": "chain",
    "align_chain": "chain",
    "ChainLayout": "layout",
    "chain_layout": "layout",
    "list_samples": "samples",
    "load_sample": "samples",
    "Sample": "samples",
    "SampleInfo": "samples",
    "MotifSearchTimeout": "motifs",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'napari_topoalign' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
