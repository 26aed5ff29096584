"""CPU time of process trees and of the whole machine, from /proc (Linux), to say who used the cores."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(ppid, own cpu seconds, reaped children's cpu seconds) of a process, or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ppid, (utime + stime) / TICKS, (cutime + cstime) / TICKS


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                tree.setdefault(stat[0], []).append(int(entry.name))
    return tree


def tree_cpu_seconds(root: int | None) -> float | None:
    """CPU seconds used so far by `root` and all its descendants, live or already reaped."""
    if root is None:
        return None
    root_stat = _stat(root)
    if root_stat is None:
        return None
    tree = _children()
    total, stack = root_stat[1] + root_stat[2], list(tree.get(root, []))
    while stack:
        pid = stack.pop()
        stat = _stat(pid)
        if stat is not None:
            total += stat[1]  # its reaped children are counted as live ones were, below
            stack.extend(tree.get(pid, []))
            total += stat[2]
    return total


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, already counted in user
    return (total - idle) / TICKS, total / TICKS


@dataclass
class CpuSample:
    wall: float
    own: float
    trees: dict[str, float | None]
    machine_busy: float


def sample(trees: dict[str, int | None]) -> CpuSample:
    return CpuSample(
        wall=time.monotonic(),
        own=time.process_time(),
        trees={name: tree_cpu_seconds(pid) for name, pid in trees.items()},
        machine_busy=machine_cpu_seconds()[0],
    )


@dataclass
class CpuUsage:
    """Cores used on average over a phase, by component; `other` is everything else on the machine."""

    wall: float
    cores: dict[str, float]

    def per_op_ms(self, ops: int) -> dict[str, float]:
        return {name: used * self.wall * 1000 / ops for name, used in self.cores.items()} if ops else {}


def usage(before: CpuSample, after: CpuSample, *, own_name: str = "bench") -> CpuUsage:
    wall = after.wall - before.wall
    cores: dict[str, float] = {own_name: (after.own - before.own) / wall}
    for name, value in after.trees.items():
        start = before.trees.get(name)
        if value is not None and start is not None:
            cores[name] = (value - start) / wall
    busy = (after.machine_busy - before.machine_busy) / wall
    cores["other"] = max(0.0, busy - sum(cores.values()))
    cores["machine"] = busy
    return CpuUsage(wall=wall, cores=cores)
