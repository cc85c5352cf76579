"""Bubble Sets (Collins et al. 2009) and membranes, built from shapely 2 geometry.

A bubble is the union of member disks and of "virtual edges" (a minimum
spanning tree over the members) routed around non-members, with non-member
disks carved out, each shrunk to stay clear of members and edges so the outline
stays one polygon containing every member; holes
are opened with a slit to the outside (so enclosed non-members stay out) or,
when that is not possible, filled.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree
from shapely import Polygon, STRtree

from .checks import check_positions
from .errors import ParameterError

_DETOUR_STEPS = np.array([1.5, 2.5, 4.0, 6.0, 9.0])
_QUAD_SEGS = 4


def default_radius(positions: np.ndarray) -> float:
    """Half the median nearest-neighbour distance of the layout (of at most ~1000 nodes
    sampled evenly; 1.0 for a single point)."""
    pos = np.asarray(positions, dtype=np.float64)
    if len(pos) < 2:
        return 1.0
    sample = pos[:: max(1, len(pos) // 500)]
    d, _ = cKDTree(pos).query(sample, k=2)
    nn = d[:, 1][d[:, 1] > 0]
    return 0.5 * float(np.median(nn)) if len(nn) else 1.0


def _spanning_edges(pts: np.ndarray) -> np.ndarray:
    """Edges (E, 2) of a Euclidean minimum spanning tree over ``pts`` (via Delaunay)."""
    m = len(pts)
    if m < 2:
        return np.zeros((0, 2), np.int64)
    if m <= 3:  # qhull needs four points; every pair is a candidate edge then
        pairs = np.array([[0, 1], [0, 2], [1, 2]])[: 1 if m == 2 else 3]
    else:
        simplices = Delaunay(pts, qhull_options="QJ").simplices
        pairs = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
        pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    w = np.linalg.norm(pts[pairs[:, 0]] - pts[pairs[:, 1]], axis=1) + 1e-12
    mst = minimum_spanning_tree(coo_matrix((w, (pairs[:, 0], pairs[:, 1])), shape=(m, m))).tocoo()
    return np.stack([mst.row, mst.col], axis=1)


def _route(p: np.ndarray, q: np.ndarray, tree: STRtree, obstacles: np.ndarray, clearance: float):
    """Route straight segments p->q around obstacle points with at most one bend each.

    Returns a list of LineStrings (the straight segment when it is clear or no
    one-bend detour is clear).
    """
    lines = shapely.linestrings(np.stack([p, q], axis=1))
    if len(obstacles) == 0 or len(lines) == 0:
        return list(lines)
    hit_line, hit_obs = tree.query(lines, predicate="dwithin", distance=clearance)
    blocked = np.unique(hit_line)
    if len(blocked) == 0:
        return list(lines)
    # bend around the blocking obstacle nearest to each edge's start
    order = np.lexsort((np.linalg.norm(obstacles[hit_obs] - p[hit_line], axis=1), hit_line))
    first = np.unique(hit_line[order], return_index=True)[1]
    centre = obstacles[hit_obs[order][first]]
    pb, qb = p[blocked], q[blocked]
    d = qb - pb
    length = np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / length
    t = np.clip(np.sum((centre - pb) * d, axis=1, keepdims=True) / length**2, 0.0, 1.0)
    foot = pb + t * d
    side = np.sign(np.sum((foot - centre) * normal, axis=1, keepdims=True))
    side[side == 0] = 1.0
    # candidates: both sides, increasing offsets, the side away from the obstacle first
    offsets = np.concatenate([_DETOUR_STEPS, -_DETOUR_STEPS]) * clearance  # (S,)
    bends = centre[:, None, :] + (side * normal)[:, None, :] * offsets[None, :, None]  # (B,S,2)
    n_b, n_s = bends.shape[:2]
    coords = np.stack(
        [np.repeat(pb[:, None], n_s, 1), bends, np.repeat(qb[:, None], n_s, 1)], axis=2
    ).reshape(-1, 3, 2)
    cand = shapely.linestrings(coords)
    bad = np.zeros(len(cand), bool)
    bad[tree.query(cand, predicate="dwithin", distance=clearance)[0]] = True
    ok = ~bad.reshape(n_b, n_s)
    routed = list(lines)
    for b in np.flatnonzero(ok.any(axis=1)):
        routed[blocked[b]] = cand[b * n_s + int(np.argmax(ok[b]))]
    return routed


def _single_polygon(geom, anchor) -> Polygon:
    """The polygon part of ``geom`` that contains ``anchor`` (a connected geometry)."""
    if isinstance(geom, Polygon):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and g.intersects(anchor)]
    return max(parts, key=lambda g: g.area)


def _open_holes(poly: Polygon, members_xy: np.ndarray, width: float) -> Polygon:
    """Open each hole with a thin slit to the outside; fill the holes instead if slitting
    would split the polygon or cut a member out."""
    if not poly.interiors:
        return poly
    rings = shapely.get_rings(poly)
    ends = shapely.get_coordinates(shapely.shortest_line(rings[1:], rings[0])).reshape(-1, 2, 2)
    step = ends[:, 1] - ends[:, 0]
    step *= (10 * width / (np.linalg.norm(step, axis=1, keepdims=True) + 1e-300))
    slits = shapely.linestrings(np.stack([ends[:, 0] - step, ends[:, 1] + step], axis=1))
    cut = poly.difference(shapely.buffer(shapely.multilinestrings(slits), width, cap_style="flat"))
    if (
        isinstance(cut, Polygon)
        and not cut.interiors
        and shapely.contains_xy(cut, members_xy[:, 0], members_xy[:, 1]).all()
    ):
        return cut
    return Polygon(poly.exterior)


def bubble_set(positions, members, *, radius: float | None = None) -> Polygon:
    """One valid polygon without holes enclosing the ``members`` of a 2-D layout.

    ``positions``: (K, 2) node positions; ``members``: indices into them (or a (K,) mask).
    ``radius``: member disk radius (default: half the median nearest-neighbour
    distance). Virtual edges (a minimum spanning tree over the members) bend
    around non-member disks where a one-bend detour is free; non-member disks
    are carved out, shrunk where needed so the outline stays one polygon holding
    every member.
    """
    pos = check_positions(positions)
    members = np.asarray(members)
    if members.dtype == bool:
        members = np.flatnonzero(members)
    if not np.issubdtype(members.dtype, np.integer):
        raise ParameterError(f"members must be integer node indices or a boolean mask, got dtype {members.dtype}.")
    idx = np.unique(members.astype(np.int64).ravel())
    if len(idx) == 0:
        raise ParameterError("bubble_set needs at least one member index.")
    if idx[0] < 0 or idx[-1] >= len(pos):
        raise ParameterError(f"member indices must lie in [0, {len(pos)}); got {idx[0]}..{idx[-1]}.")
    if radius is not None and (isinstance(radius, bool) or not isinstance(radius, (int, float, np.number))):
        raise ParameterError(f"radius must be a positive number or None; got {radius!r}.")
    r = default_radius(pos) if radius is None else float(radius)
    if not np.isfinite(r) or r <= 0:
        raise ParameterError(f"radius must be a positive number; got {radius!r}.")

    is_member = np.zeros(len(pos), bool)
    is_member[idx] = True
    mpts = pos[idx]
    clearance = 0.75 * r
    # only nodes near the members' bounding box (plus the widest detour) can get in the way
    reach = (_DETOUR_STEPS[-1] + 2) * clearance + r
    near = np.all((pos >= mpts.min(0) - reach) & (pos <= mpts.max(0) + reach), axis=1)
    obstacles = pos[near & ~is_member]
    tree = STRtree(shapely.points(obstacles))

    e = _spanning_edges(mpts)
    edges = _route(mpts[e[:, 0]], mpts[e[:, 1]], tree, obstacles, clearance)
    edge_geom = shapely.multilinestrings(edges) if edges else shapely.MultiLineString()
    disks = shapely.buffer(shapely.multipoints(mpts), r, quad_segs=_QUAD_SEGS)
    body = shapely.union(disks, shapely.buffer(edge_geom, 0.5 * r, quad_segs=_QUAD_SEGS))

    inside = tree.query(body, predicate="intersects")
    if len(inside):
        # carve each obstacle's disk, shrunk so it stays 0.1 r clear of members and edges:
        # the body then keeps a corridor along the tree and stays connected
        skeleton = shapely.union(shapely.multipoints(mpts), edge_geom)
        clear = shapely.distance(shapely.points(obstacles[inside]), skeleton) - 0.1 * r
        radii = np.minimum(0.6 * r, clear)
        carve = radii > 0.05 * r
        holes = shapely.buffer(shapely.points(obstacles[inside][carve]), radii[carve], quad_segs=_QUAD_SEGS)
        body = shapely.difference(body, shapely.union_all(holes))
    poly = _single_polygon(shapely.make_valid(body), shapely.points(mpts[0]))
    return _open_holes(poly, mpts, 1e-3 * r)


def membrane(poly_a: Polygon, poly_b: Polygon) -> Polygon:
    """A band joining two bubbles: both outlines plus the hull of their central parts.

    Overlapping bubbles (overlay mode) give the outline of their union. Always
    one valid polygon without holes containing both bubbles.
    """
    for name, poly in (("poly_a", poly_a), ("poly_b", poly_b)):
        if not isinstance(poly, Polygon) or poly.is_empty:
            raise ParameterError(f"{name} must be a non-empty shapely Polygon (from bubble_set), got {type(poly).__name__}.")
    band = shapely.union(poly_a, poly_b)
    if not isinstance(band, Polygon):
        waists = [
            p.intersection(p.representative_point().buffer(0.5 * np.sqrt(p.area / np.pi)))
            for p in (poly_a, poly_b)
        ]
        band = shapely.union(band, shapely.union_all(waists).convex_hull)
    band = _single_polygon(shapely.make_valid(band), poly_a.representative_point())
    return Polygon(band.exterior)
