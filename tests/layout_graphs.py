"""Hand-built mapper graphs for the correspondence, layout and metrics tests."""

import networkx as nx
import numpy as np

from napari_topoalign.mapper import MapperGraph, nerve


def graph_from_members(members, n_inputs):
    members = [np.asarray(sorted(m), dtype=np.int64) for m in members]
    k = len(members)
    return MapperGraph(
        members,
        *nerve(members, n_inputs),
        intervals=np.zeros((1, 2)),
        node_interval=np.zeros(k, int),
        lens=np.zeros(n_inputs),
        n_inputs=n_inputs,
        uncovered=np.zeros(0, int),
    )


def graph_from_nx(G, own=3):
    """A MapperGraph with G's topology: ``own`` private inputs per node plus one shared input per edge."""
    nodes = list(G.nodes)
    index = {u: i for i, u in enumerate(nodes)}
    members = [list(range(own * i, own * (i + 1))) for i in range(len(nodes))]
    n = own * len(nodes)
    for u, v in G.edges():
        members[index[u]].append(n)
        members[index[v]].append(n)
        n += 1
    return graph_from_members(members, n)


def curve_graph(n_nodes=60, loop=True, width=4, shift=0, n_inputs=None):
    """Mapper-like graph of a path or loop: node k holds a window of inputs; ``shift`` moves the windows."""
    step = width // 2
    n = n_inputs or (n_nodes * step + (0 if loop else step))
    starts = (np.arange(n_nodes) * step + shift) % n
    members = [np.unique((s + np.arange(width)) % n if loop else np.clip(s + np.arange(width), 0, n - 1)) for s in starts]
    return graph_from_members(members, n)


def random_geometric(n=200, radius=0.12, seed=0):
    return graph_from_nx(nx.random_geometric_graph(n, radius, seed=seed))


def fragmented_pair(n_tracks=3, length=400, n_cuts=16, n_isolated=8, seed=0):
    """Two mapper-like graphs of the same inputs made of many strands, as mapper gives with a fine cover.

    Inputs lie on ``n_tracks`` parallel tracks of ``length`` positions. Each graph cuts the tracks at
    ``n_cuts`` random places (its own) and, in each piece, lays either one path of windows
    (4 positions, step 2) per track or a single path over all tracks together (chosen at random),
    so one graph's strand often matches several parallel strands of the other. Both graphs also get
    ``n_isolated`` single-input nodes.
    """
    rng = np.random.default_rng(seed)
    grid = np.arange(n_tracks * length).reshape(n_tracks, length)
    graphs = []
    for _ in range(2):
        members = []
        cuts = np.sort(rng.choice(np.arange(8, length - 8, 2), n_cuts, replace=False))
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, length]):
            strands = [grid[:, lo:hi]] if rng.random() < 0.5 else [grid[t : t + 1, lo:hi] for t in range(n_tracks)]
            members += [s[:, a : a + 4].ravel() for s in strands for a in range(0, hi - lo - 2, 2)]
        members += [[i] for i in rng.choice(grid.size, n_isolated, replace=False)]
        graphs.append(graph_from_members(members, grid.size))
    return graphs


def hub_and_chain(arm=48, n_arms=3, coarse=12):
    """Two graphs of the same inputs with different structure: ``n_arms`` arms of ``arm`` positions
    plus a hub of 4. A: a fine path of windows (4 positions, step 2) along each arm, every arm
    starting at the hub (a star). B: coarse windows (``coarse`` positions, half overlapping), the
    arms joined end to end into one chain that starts at the hub. Also returns each node's arm
    (-1: the hub), in A and in B."""
    hub = np.arange(4) + n_arms * arm
    arms = [np.arange(arm) + k * arm for k in range(n_arms)]
    a_nodes, b_nodes, arm_a, arm_b = [hub], [hub], [-1], [-1]
    for k, a in enumerate(arms):
        fine = [a[s : s + 4] for s in range(0, arm - 2, 2)]
        fine[0] = np.r_[fine[0], hub[k]]
        wide = [a[s : s + coarse] for s in range(0, arm - coarse // 2, coarse // 2)]
        wide[0] = np.r_[wide[0], hub if k == 0 else arms[k - 1][-3:]]
        a_nodes += fine
        b_nodes += wide
        arm_a += [k] * len(fine)
        arm_b += [k] * len(wide)
    n = n_arms * arm + len(hub)
    return graph_from_members(a_nodes, n), graph_from_members(b_nodes, n), np.array(arm_a), np.array(arm_b)
