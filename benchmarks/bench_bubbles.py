"""Bubble Sets: 50 sets over a 2,000-node layout, total time.

    python benchmarks/bench_bubbles.py

Half the sets are spatial patches with every other node a member (so non-members
sit between members and must be routed around and carved out), half are 30
nodes scattered over the whole layout. Prints the best total wall and CPU
time of 3 runs (CPU time is less sensitive to a busy machine) and, as a
quality check, how many non-members end up inside the bubbles versus inside
the members' convex hulls.
"""

import time

import numpy as np
import shapely
from scipy.spatial import cKDTree

from napari_topoalign.bubbles import bubble_set

REPEATS = 3


def make_sets(pos, rng, n_sets=50):
    tree = cKDTree(pos)
    patches = [np.array(tree.query_ball_point(rng.uniform(15, 85, 2), 8))[::2] for _ in range(n_sets // 2)]
    scattered = [rng.choice(len(pos), 30, replace=False) for _ in range(n_sets - n_sets // 2)]
    return patches + scattered


def main():
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 100, (2000, 2))
    sets = make_sets(pos, rng)
    bubble_set(pos, sets[0])  # warm-up (imports, GEOS)
    runs, cpu = [], []
    for _ in range(REPEATS):
        polys, times = [], []
        c0 = time.process_time()
        for m in sets:
            t0 = time.perf_counter()
            polys.append(bubble_set(pos, m))
            times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        runs.append(times)
    times = min(runs, key=sum)
    total = sum(times)
    half = len(sets) // 2
    in_bubble = in_hull = 0
    for poly, m in zip(polys, sets):
        others = np.setdiff1d(np.arange(len(pos)), m)
        in_bubble += shapely.contains_xy(poly, *pos[others].T).sum()
        hull = shapely.multipoints(pos[m]).convex_hull
        in_hull += shapely.contains_xy(hull, *pos[others].T).sum()
    sizes = [len(m) for m in sets]
    print(f"bubble_set: {len(sets)} sets (members {min(sizes)}-{max(sizes)}) over {len(pos)} nodes: "
          f"{total:.3f} s total, {1e3 * total / len(sets):.1f} ms per set "
          f"(patches {sum(times[:half]):.3f} s, scattered {sum(times[half:]):.3f} s); "
          f"CPU time {min(cpu):.3f} s")
    print(f"non-members inside: bubbles {in_bubble}, convex hulls {in_hull} "
          f"(ratio {in_bubble / max(in_hull, 1):.3f})")


if __name__ == "__main__":
    main()
