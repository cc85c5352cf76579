import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree
from shapely import Polygon

from napari_topoalign.bubbles import bubble_set, default_radius, membrane
from napari_topoalign.errors import InputShapeError, ParameterError


def _inside(poly, pts):
    return shapely.contains_xy(poly, pts[:, 0], pts[:, 1])


def _check(poly, pos, members):
    assert isinstance(poly, Polygon) and poly.is_valid and not poly.interiors
    assert _inside(poly, pos[members]).all()


@pytest.fixture
def layout():
    return np.random.default_rng(0).uniform(0, 100, (2000, 2))


def test_scattered_members_one_polygon_few_non_members(layout):
    rng = np.random.default_rng(1)
    for _ in range(5):
        members = rng.choice(len(layout), 30, replace=False)
        poly = bubble_set(layout, members)
        _check(poly, layout, members)
        others = np.setdiff1d(np.arange(len(layout)), members)
        in_bubble = _inside(poly, layout[others]).sum()
        in_hull = _inside(shapely.multipoints(layout[members]).convex_hull, layout[others]).sum()
        assert in_bubble < 0.05 * in_hull


def test_cluster_keeps_interleaved_non_members_out(layout):
    # members: every other point of a dense patch; the rest of the patch are obstacles
    patch = np.flatnonzero(np.linalg.norm(layout - 50, axis=1) < 12)
    members, others = patch[::2], patch[1::2]
    poly = bubble_set(layout, members)
    _check(poly, layout, members)
    hull = shapely.multipoints(layout[members]).convex_hull
    assert _inside(poly, layout[others]).sum() < 0.5 * _inside(hull, layout[others]).sum()


def test_far_nodes_never_inside(layout):
    centre = np.array([30.0, 60.0])
    dist = np.linalg.norm(layout - centre, axis=1)
    members = np.flatnonzero(dist < 10)
    poly = bubble_set(layout, members)
    _check(poly, layout, members)
    assert not _inside(poly, layout[dist > 20]).any()


def test_ring_of_members_does_not_swallow_its_centre():
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    ring = np.stack([np.cos(t), np.sin(t)], 1) * 10
    grid = np.stack(np.meshgrid(np.arange(-4, 5), np.arange(-4, 5)), -1).reshape(-1, 2) * 1.5
    pos = np.concatenate([ring, grid])
    for radius in (None, 1.0):  # with radius 1.0 the outline closes into a ring
        poly = bubble_set(pos, np.arange(40), radius=radius)
        _check(poly, pos, np.arange(40))
        assert not _inside(poly, grid).any()


def test_small_sets_and_radius():
    pos = np.array([[0.0, 0.0], [3.0, 0.0], [10.0, 10.0]])
    assert default_radius(pos) == pytest.approx(1.5)
    one = bubble_set(pos, [2])
    _check(one, pos, [2])
    assert one.area == pytest.approx(np.pi * 1.5**2, rel=0.05)
    two = bubble_set(pos, [0, 1], radius=0.5)
    assert two.equals(bubble_set(pos, np.array([True, True, False]), radius=0.5))
    _check(two, pos, [0, 1])
    assert not _inside(two, pos[[2]]).any()
    rng = np.random.default_rng(0)
    scatter = rng.normal(size=(20, 2))
    three = bubble_set(scatter, [0, 1, 2])  # three members: too few for a Delaunay triangulation
    _check(three, scatter, [0, 1, 2])
    collinear = np.stack([np.arange(10.0), np.zeros(10)], 1)
    _check(bubble_set(collinear, np.arange(0, 10, 2)), collinear, np.arange(0, 10, 2))


def test_errors():
    pos = np.zeros((4, 2))
    with pytest.raises(InputShapeError):
        bubble_set(np.zeros((4, 3)), [0])
    with pytest.raises(ParameterError):
        bubble_set(pos, [])
    with pytest.raises(ParameterError):
        bubble_set(pos, [7])
    with pytest.raises(ParameterError):
        bubble_set(pos, [0], radius=-1)


def test_membrane_joins_side_by_side_bubbles_and_overlays(layout):
    tree = cKDTree(layout)
    members = np.array(tree.query_ball_point([50, 50], 8))
    a = bubble_set(layout, members)
    shifted = layout + [150, 20]
    b = bubble_set(shifted, members)
    band = membrane(a, b)
    assert isinstance(band, Polygon) and band.is_valid and not band.interiors
    assert band.buffer(1e-9).contains(a) and band.buffer(1e-9).contains(b)
    assert band.contains(shapely.LineString([a.representative_point(), b.representative_point()]))
    overlay = membrane(a, a.buffer(1.0).difference(a.buffer(-1.0)))
    assert isinstance(overlay, Polygon) and overlay.buffer(1e-9).contains(a)
