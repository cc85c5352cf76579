"""How many CPU threads torch and the BLAS/OpenMP libraries may use while TopoAlign computes.

torch starts one intra-op thread per core. On a machine whose cores are busy with other
work, those threads wait for each other at every parallel operation: with one of two cores
kept busy, ``build_mapper`` and ``joint_layout`` ran 3–3.5× slower than on a quiet machine,
with several busy processes 8–14×, where single-threaded code slows down by less than 2×
(``benchmarks/bench_busy.py`` measures it). The policy therefore counts the cores that are
idle *now* and uses that many threads, less ``reserve`` (the napari worker keeps one core
for the GUI), never fewer than one:

    threads = clamp(round(idle cores) - reserve, 1, cores this process may run on)

Idle cores are read from ``/proc/stat`` over ``SAMPLE_S`` seconds (Linux); elsewhere the
one-minute load average stands in. The user overrides the policy with the environment
variable ``TOPOALIGN_THREADS``: a positive integer fixes the count, ``torch`` leaves torch's
and the BLAS libraries' own settings (e.g. ``torch.set_num_threads``) alone.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from .errors import ParameterError

ENV = "TOPOALIGN_THREADS"
SAMPLE_S = 0.05


def usable_cores() -> int:
    """The number of cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _cpu_times() -> tuple[float, float] | None:
    """(idle, total) jiffies summed over all cores from /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [float(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    return idle, sum(values[:8])  # guest time is already counted in user time


def idle_cores(sample_s: float = SAMPLE_S) -> float:
    """How many cores were idle over the last ``sample_s`` seconds (a float, 0..cpu_count)."""
    n_cpu = os.cpu_count() or 1
    before = _cpu_times()
    if before is not None:
        time.sleep(sample_s)
        after = _cpu_times()
        total = after[1] - before[1]
        if total > 0:
            return n_cpu * (after[0] - before[0]) / total
    try:
        return max(0.0, n_cpu - os.getloadavg()[0])
    except (AttributeError, OSError):
        return float(n_cpu)


def choose_threads(reserve: int = 0) -> int | None:
    """The thread count the policy picks (see the module doc); None when ``TOPOALIGN_THREADS=torch``."""
    override = os.environ.get(ENV, "").strip().lower()
    if override == "torch":
        return None
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ParameterError(f"{ENV}={override!r}; set it to a positive integer, or to 'torch' to leave "
                                 "torch's own thread setting alone, or unset it.")
        return int(override)
    free = int(round(idle_cores())) - int(reserve)
    return max(1, min(usable_cores(), free))


@contextmanager
def thread_policy(reserve: int = 0):
    """Within the block, torch and the BLAS/OpenMP pools use ``choose_threads(reserve)`` threads;
    the previous settings come back afterwards. Yields the count (None: left alone).

    torch keeps its intra-op setting per calling thread, so enter this in the thread that computes.
    """
    n = choose_threads(reserve)
    if n is None:
        yield None
        return
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield n
    finally:
        torch.set_num_threads(previous)
