"""What a server process uses, read from /proc: CPU time, resident memory, open fds.

The benchmark reads these for the server's process (and its children, for
`--workers N`), never for itself, so the load generator's own work is not counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(child) for child in children)
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's worker processes)."""
    tree = [pid]
    for child in _children(pid):
        tree.extend(process_tree(child))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its descendants."""
    total = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / _TICKS_PER_SECOND


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` alone."""
    resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident_pages * _PAGE_BYTES


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class CpuMeter:
    """CPU seconds a process tree spent between `start()` and `stop()`."""

    pid: int
    _started: float = 0.0

    def start(self) -> None:
        self._started = cpu_seconds(self.pid)

    def stop(self) -> float:
        return cpu_seconds(self.pid) - self._started
