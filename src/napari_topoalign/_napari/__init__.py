"""napari side of TopoAlign: reader, sample data, dock widgets and layers.

The only subpackage that imports napari or Qt; it holds no algorithm and
calls the core (``napari_topoalign``) for all computation.
"""
