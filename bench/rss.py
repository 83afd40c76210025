"""Peak resident memory of this process, measured so that a parent's memory does not leak in."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """The process's peak RSS in MB: VmHWM of its own address space.

    `getrusage().ru_maxrss` is not used on Linux: it keeps the high-water mark from before
    `exec`, so a child of a big parent (the benchmark, after building the workload) would report
    the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
