"""One benchmark measurement: a command run pinned to CPU 0 (or CPUs 0 to N-1), with its wall time,
CPU time and peak RSS.

The ``bench_*.py`` scripts import it (``python bench/bench_x.py`` puts this folder on the path).
"""

from __future__ import annotations

import compileall
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tocsin"


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


def measure(
    name: str, count: int, command: list[str], exit_codes: tuple[int, ...] = (0,), cpus: int = 1
) -> Run:
    """Run ``command`` pinned to CPUs 0 to ``cpus`` - 1; its wall time, CPU time (of its processes
    together) and peak RSS. An exit code outside ``exit_codes`` stops the benchmark with the
    command's output."""
    _compile_package()
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        pinned = ["taskset", "-c", f"0-{cpus - 1}"]
        process = subprocess.Popen([*pinned, *command], stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) not in exit_codes:
        raise SystemExit(f"{name} failed:\n{text}")
    return Run(name, count, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


@cache
def _compile_package() -> None:
    """Compile tocsin's modules once, as ``pip install`` does: a checkout run with
    PYTHONDONTWRITEBYTECODE set (as CI machines are) would otherwise compile its hundred modules
    again in every measured run, about 0.1 s that no installed tocsin spends."""
    compileall.compile_dir(PACKAGE, quiet=1)


def fastest(repeat: int, name: str, count: int, command: list[str], cpus: int = 1) -> Run:
    """The fastest of ``repeat`` runs of ``measure``: on a shared machine the slower ones measured
    the neighbours as much as the command."""
    runs = (measure(name, count, command, cpus=cpus) for _ in range(max(1, repeat)))
    return min(runs, key=lambda run: run.wall)
