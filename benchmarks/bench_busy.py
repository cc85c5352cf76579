"""How much one busy core slows down build_mapper and joint_layout, next to KeplerMapper and ForceAtlas2.

    python benchmarks/bench_busy.py [--repeat 3]

Each step is timed on the machine as it is ("quiet") and with one extra process spinning on a
core ("busy"), and the slow-down busy / quiet is printed (median of ``--repeat`` runs each).
Ours runs twice: with torch's default thread pool (one thread per core, what a plain call gets)
and under TopoAlign's thread policy (``threads.thread_policy``: threads = idle cores, which
``align``, the CLI and the napari worker apply). The anchors are single-threaded: KeplerMapper
(the same lens, cover and DBSCAN) and ForceAtlas2 (300 iterations on graph A). Data: a noisy
curve in 384-D (10,000 inputs, as ``bench_mapper --quick``) and two mapper graphs of a knot
(``bench_layout``), a few hundred nodes each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import networkx as nx  # noqa: E402
import torch  # noqa: E402
from bench_layout import fa2_layout, representations  # noqa: E402
from bench_mapper import SHAPES, noisy_curve, run_kmapper, run_ours  # noqa: E402

from napari_topoalign import MapperParams, build_mapper, correspondence  # noqa: E402
from napari_topoalign.layout import joint_layout  # noqa: E402
from napari_topoalign.threads import ENV, thread_policy  # noqa: E402


@contextmanager
def busy_core():
    """One more process spinning on a core while the block runs."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


@contextmanager
def torch_default():
    """torch's own default: one intra-op thread per core, the policy switched off."""
    previous, env = torch.get_num_threads(), os.environ.get(ENV)
    torch.set_num_threads(os.cpu_count() or 1)
    os.environ[ENV] = "torch"
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        if env is None:
            os.environ.pop(ENV)
        else:
            os.environ[ENV] = env


@contextmanager
def policy():
    env = os.environ.pop(ENV, None)
    try:
        with thread_policy() as n:
            print(f"    (policy: {n} thread(s))", flush=True)
            yield
    finally:
        if env is not None:
            os.environ[ENV] = env


def median_time(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    X = noisy_curve(10_000)
    eps = SHAPES["curve"][2]
    K_a, K_b = representations(10_000)
    params = MapperParams(lens="pca", n_intervals=150, overlap=0.5, metric="euclidean")
    A, B = build_mapper(K_a, params), build_mapper(K_b, params)
    C = correspondence(A, B)
    G = nx.Graph(A.to_networkx())
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; layout graphs {A.n_nodes} + {B.n_nodes} nodes")

    with torch_default():
        torch_threads = torch.get_num_threads()
    rows = {
        f"build_mapper, torch default ({torch_threads} threads)": (torch_default, lambda: run_ours(X, eps)),
        "build_mapper, thread policy": (policy, lambda: run_ours(X, eps)),
        "KeplerMapper (anchor)": (contextmanager(lambda: (yield)), lambda: run_kmapper(X, eps)),
        f"joint_layout, torch default ({torch_threads} threads)": (
            torch_default, lambda: joint_layout(A, B, C, device="cpu", iterations=300)),
        "joint_layout, thread policy": (policy, lambda: joint_layout(A, B, C, device="cpu", iterations=300)),
        "ForceAtlas2 (anchor)": (contextmanager(lambda: (yield)), lambda: fa2_layout(G)),
    }
    results = {}
    for condition in ("quiet", "busy"):
        print(f"{condition}:", flush=True)
        with busy_core() if condition == "busy" else contextmanager(lambda: (yield))():
            for name, (setting, f) in rows.items():
                with setting():
                    f()  # warm up
                    results[name, condition] = median_time(f, args.repeat)
                print(f"  {name}: {results[name, condition]:.2f} s", flush=True)
    print("\n| step | quiet | one core busy | slow-down |")
    print("| --- | --- | --- | --- |")
    for name in rows:
        quiet, busy = results[name, "quiet"], results[name, "busy"]
        print(f"| {name} | {quiet:.2f} s | {busy:.2f} s | {busy / quiet:.2f}× |")


if __name__ == "__main__":
    main()
