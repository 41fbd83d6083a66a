"""One benchmark measurement: a command run pinned to CPU 0, with its wall time, CPU time and peak RSS.

The ``bench_*.py`` scripts import it (``python bench/bench_x.py`` puts this folder on the path).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass
class Run:
    name: str
    #: Events or lines the command read.
    count: int
    wall: float
    cpu: float
    rss_mb: float
    output: str

    @property
    def rate(self) -> float:
        return self.count / self.wall


def measure(name: str, count: int, command: list[str], exit_codes: tuple[int, ...] = (0,)) -> Run:
    """Run ``command`` pinned to CPU 0; its wall time, CPU time and peak RSS. An exit code outside
    ``exit_codes`` stops the benchmark with the command's output."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(["taskset", "-c", "0", *command], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) not in exit_codes:
        raise SystemExit(f"{name} failed:\n{text}")
    return Run(name, count, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def fastest(repeat: int, name: str, count: int, command: list[str]) -> Run:
    """The fastest of ``repeat`` runs of ``measure``: on a shared machine the slower ones measured
    the neighbours as much as the command."""
    return min((measure(name, count, command) for _ in range(max(1, repeat))), key=lambda run: run.wall)
