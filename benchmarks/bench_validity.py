"""Do the alignment scores and regions say what they should? (a validation benchmark, not a timed test)

    python benchmarks/bench_validity.py            # about 2-4 minutes on one core

Every graph is built with default ``MapperParams`` and each side's own lens. Prints, next to
linear CKA, Procrustes similarity and mutual kNN (k = 10):

1. depth: each layer of a real model against its last layer (real_embeddings.py: MiniLM on the
   sentences and the digits CNN are the depth models; EfficientNet-Lite0 on photos and MiniLM
   on digit captions are held out), the Spearman correlation of layer index and score, the gap
   between the first and the second-to-last layer, and each graph's ``graph_faithfulness``;
2. controls on each last layer: a rotated, rescaled, moved copy (should be >= 0.95), the rows of
   one side shuffled (<= 0.2), and the same call twice (deterministic);
3. planted pairs where CKA stays high but the structure changes (tests/planted.py): a circle
   against the same circle cut open, two clusters against the same two joined by a bridge, each
   against its matching pair (fresh noise); where the change is found: the loop motif of A
   preserved or broken in B, the mean ``organisation_agreement`` of the changed inputs against
   the others, and the share of the changed inputs that lie in matching regions;
4. regions without a shared lens on planted data (a circle and a segment both sides keep, a disc
   whose rows B permutes, B stretched so its lens differs): precision and recall of the shared
   inputs;
5. regions on adjacent deep layers: how many, the largest share of inputs one holds, and their
   label purity against random input sets of the same sizes.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.stats import ortho_group, spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from planted import circle_pair, clusters_pair, regions_pair  # noqa: E402
from real_embeddings import load  # noqa: E402

from napari_topoalign.correspond import correspondence  # noqa: E402
from napari_topoalign.mapper import build_mapper, graph_faithfulness  # noqa: E402
from napari_topoalign.metrics import linear_cka, mutual_knn, procrustes_similarity, topology_score  # noqa: E402
from napari_topoalign.motifs import motif_alignment  # noqa: E402
from napari_topoalign.regions import find_matching_regions, organisation_agreement  # noqa: E402

DEPTH = ("minilm_sentences", "digits_cnn")
HELD_OUT = ("effnet_photos", "minilm_captions")
SCORES = ("topology", "cka", "procrustes", "mutual_knn")
SEEDS = (0, 1, 2)


def scores(X_a, X_b, A, B) -> dict[str, float]:
    return {
        "topology": topology_score(A, B),
        "cka": linear_cka(X_a, X_b),
        "procrustes": procrustes_similarity(X_a, X_b),
        "mutual_knn": mutual_knn(X_a, X_b),
    }


def row(label: str, values, fmt: str = "{:6.2f}") -> str:
    return f"  {label:<14}" + " ".join(fmt.format(v) for v in values)


def depth(name: str, graphs: dict) -> None:
    data = load(name)
    layers = data["layers"]
    G = [build_mapper(X) for X in layers]
    graphs[name] = (data, G)
    per = [scores(X, layers[-1], g, G[-1]) for X, g in zip(layers[:-1], G[:-1])]
    print(f"\n{name} ({len(layers[0])} inputs): layer i against the last layer ({data['names'][-1]})")
    print(f"  {'layer':<14}" + " ".join(f"{i:6d}" for i in range(len(per))) + "   Spearman  first-vs-2nd-last")
    for s in SCORES:
        v = [p[s] for p in per]
        rho = spearmanr(np.arange(len(v)), v)[0]
        print(row(s, v) + f"   {rho:8.2f}  {v[-1] - v[0]:+8.2f}")
    print(f"  {'nodes':<14}" + " ".join(f"{g.n_nodes:6d}" for g in G[:-1]) + f"   (last layer: {G[-1].n_nodes})")
    faith = [graph_faithfulness(X, g) for X, g in zip(layers, G)]
    print(row("faithfulness", faith[:-1]) + f"   (last layer: {faith[-1]:.2f})")


def controls(name: str, graphs: dict) -> None:
    data, G = graphs[name]
    X, A = data["layers"][-1], G[-1]
    Q = ortho_group.rvs(X.shape[1], random_state=0).astype(np.float32)
    copy = 3.0 * X @ Q + 1.0
    perm = np.random.default_rng(0).permutation(len(X))
    shuffled = X[perm]
    s_copy = scores(X, copy, A, build_mapper(copy))
    B_shuf = build_mapper(shuffled)
    s_shuf = scores(X, shuffled, A, B_shuf)
    again = topology_score(A, B_shuf) == s_shuf["topology"]
    print(row(name[:14], [s_copy[s] for s in SCORES] + [s_shuf[s] for s in SCORES]) + f"   {again}")


def planted() -> None:
    print("\n3. planted pairs (3 seeds: matching pair -> changed pair; CKA stays high)")
    print(f"  {'pair':<22}" + "".join(f"{s:>22}" for s in SCORES) + "   where")
    for make, flag in ((circle_pair, "cut"), (clusters_pair, "bridged")):
        for seed in SEEDS:
            X_a, X_same, _ = make(**{flag: False}, seed=seed)
            _, X_changed, changed = make(**{flag: True}, seed=seed)
            A, B_same, B_changed = build_mapper(X_a), build_mapper(X_same), build_mapper(X_changed)
            same, other = scores(X_a, X_same, A, B_same), scores(X_a, X_changed, A, B_changed)
            cells = "".join(f"{same[s]:>10.3f} -> {other[s]:.3f}" for s in SCORES)
            print(f"  {flag + ' seed ' + str(seed):<22}{cells}   {where(A, B_changed, changed)}")


def where(A, B, changed) -> str:
    """The loop motifs of A and their status in B; the organisation agreement of the changed vs the
    other inputs; the share of changed vs other inputs in regions."""
    C = correspondence(A, B)
    local = organisation_agreement(A, B)
    loops = [m.status for m in motif_alignment(A, B, C, "loop")]
    regions = find_matching_regions(A, B, C)
    inside = np.zeros(A.n_inputs, bool)
    for r in regions:
        inside[r.inputs] = True
    other = np.setdiff1d(np.arange(A.n_inputs), changed)
    return (
        f"A's loops in B: {loops or 'none'}; agreement: changed {local[changed].mean():.2f}, "
        f"other {local[other].mean():.2f}; in regions: changed {inside[changed].mean():.2f}, "
        f"other {inside[other].mean():.2f}"
    )


def planted_regions() -> None:
    print("\n4. regions without a shared lens, planted (shared circle + segment, scrambled disc)")
    for seed in range(5):
        X_a, X_b, shared, scrambled = regions_pair(seed)
        A, B = build_mapper(X_a), build_mapper(X_b)
        regions = find_matching_regions(A, B)
        found = np.unique(np.concatenate([r.inputs for r in regions])) if regions else np.zeros(0, np.int64)
        precision = np.isin(found, shared).mean() if len(found) else 0.0
        recall = np.isin(shared, found).mean()
        print(f"  seed {seed}: {len(regions)} regions, precision {precision:.3f}, recall {recall:.3f}")


def purity(labels, idx) -> float:
    return np.unique(labels[idx], return_counts=True)[1].max() / len(idx)


def real_regions(name: str, graphs: dict) -> None:
    data, G = graphs[name]
    labels, n = np.asarray(data["labels"]), len(data["labels"])
    rng = np.random.default_rng(0)
    for a in (len(G) - 3, len(G) - 2):
        regions = find_matching_regions(G[a], G[a + 1])
        sizes = np.array([len(r.inputs) for r in regions])
        pur = np.array([purity(labels, r.inputs) for r in regions])
        rand = np.array([np.mean([purity(labels, rng.choice(n, s, replace=False)) for _ in range(50)]) for s in sizes])
        covered = len(np.unique(np.concatenate([r.inputs for r in regions]))) / n if regions else 0.0
        if len(sizes):
            w = sizes / sizes.sum()
            text = (f"largest {sizes.max() / n:.2f}, covering {covered:.2f}; purity {np.dot(w, pur):.2f} vs random "
                    f"sets of the same sizes {np.dot(w, rand):.2f}; best: " +
                    ", ".join(f"{r.score:.2f}/{len(r.inputs)}/{p:.2f}" for r, p in zip(regions[:4], pur)))
        else:
            text = "no region"
        print(f"  {name:<17} {a}-{a + 1}: {len(regions):2d} regions, {text}")


def main() -> None:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    graphs: dict = {}
    print("1. depth (default MapperParams, each side its own lens)")
    for name in DEPTH + HELD_OUT:
        depth(name, graphs)
    print("\n2. controls on each last layer: rotated x3 + 1 copy | rows of one side shuffled | deterministic")
    print(f"  {'':<14}" + " ".join(f"{s[:6]:>6}" for s in SCORES * 2))
    for name in DEPTH + HELD_OUT:
        controls(name, graphs)
    planted()
    planted_regions()
    print("\n5. regions on adjacent deep layers (score/inputs/label purity of the best four)")
    for name in DEPTH + HELD_OUT:
        real_regions(name, graphs)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
