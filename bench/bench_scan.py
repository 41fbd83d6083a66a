"""Throughput and peak memory of ``tocsin`` on a large generated auth log, next to ``fail2ban-regex``.

Run it in the project's venv, on a quiet machine::

    . .venv/bin/activate
    python bench/bench_scan.py                # 1M syslog lines + 100k Okta records, a 4M file for memory
    python bench/bench_scan.py --markdown     # the same results as Markdown (bench/RESULTS.md)
    python bench/bench_scan.py --lines 200000 --scale 0 --no-reference   # a quick look

The data comes from ``bench/generate.py`` (seeded: every run reads the same
bytes), written to a temporary directory, or to ``--out DIR`` where it is
kept and reused by later runs with the same parameters. The measurements run
one after the other, each in its own process; ``os.wait4`` gives that
process's own wall time, CPU time and peak RSS:

* parse only: ``tocsin.scan.read_events`` iterated to the end, nothing
  written: the cheapest path through the public API. ``tocsin events -o
  /dev/null`` is shown too; it also builds and serializes every ECS document;
* parse + detect: ``tocsin scan --format jsonl -o /dev/null`` with the
  built-in rules, on the syslog file and on syslog + Okta JSONL together;
* workers: the same scan of the syslog file with ``--workers N`` (``--workers``,
  default 2), beside the one-process scan: the file is cut at line ends and
  read by N processes (CPU s then adds up every process's time);
* memory independence: parse + detect on a file ``--scale`` times larger,
  generated the same way (same days, a busier server);
* reference: ``fail2ban-regex`` with its stock ``sshd`` filter on the same
  syslog file (skipped, saying how to install it, when it is missing);
* start-up: ``tocsin scan`` of a one-line file (imports, rule loading).

Events/s counts the events the parsers produce (one per line here); for
fail2ban-regex, lines read. Every time includes the process's start-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tocsin import __version__

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import DEFAULT_LINES, generate

#: The throughput the project aims at: syslog lines/s, parse + detect, one core.
AIM_LINES_PER_SECOND = 150_000
#: What ``--workers 2`` aims at, against one process on the same file.
AIM_TWO_WORKERS = 1.7
#: Parse only, through the public API: every event built, nothing written.
PARSE_ONLY = """\
import sys
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import ParseOptions
summary = ReadSummary()
for _ in read_events(sys.argv[1:], None, ParseOptions(), summary):
    pass
print(summary.events)
"""
FAIL2BAN_NOTE = (
    "What fail2ban-regex does: with the stock sshd filter and --out id (like fail2ban-server, the first "
    "matching failregex wins and no per-regex statistics are kept), it reads each line, finds its date "
    "and matches sshd's prefix and failure regexes. It parses sshd lines only, builds no normalized "
    "event, runs no rules over other programs or sources, and counts no failures over time windows "
    "(fail2ban-server's job, not run here). tocsin parses every line of every program into ECS fields "
    "and runs the Sigma rules, correlations included."
)
FAIL2BAN_INSTALL = (
    "install it with `apt-get install fail2ban` (Debian, Ubuntu) or `dnf install fail2ban` (Fedora)"
)
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One measured process."""

    case: str
    data: str
    lines: int
    events: int | None
    wall: float
    cpu: float
    rss_mb: float
    report: str = field(default="", repr=False)  # the end of its stderr

    @property
    def rate(self) -> float:
        return (self.events if self.events is not None else self.lines) / self.wall


@dataclass
class Results:
    runs: list[Run]
    startup: Run | None
    info: dict[str, str]
    skipped: list[str] = field(default_factory=list)


def measure(case: str, data: str, lines: int, argv: list[str], repeat: int = 1) -> Run:
    """Run ``argv`` ``repeat`` times, each in its own process, and keep the fastest run.

    ``os.wait4`` returns the child's own resource usage: the peak RSS is that
    process's alone, not a maximum over every child so far.
    """
    best: Run | None = None
    for _ in range(repeat):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if process.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} exited with {process.returncode}:\n{stderr[-2000:]}")
        run = Run(
            case,
            data,
            lines,
            _event_count(stdout + stderr),
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,  # KiB on Linux
            stderr[-4000:],
        )
        if best is None or run.wall < best.wall:
            best = run
        print(f"  {case:<30} {data:<18} {run.wall:7.2f} s  {run.rss_mb:5.0f} MB", file=sys.stderr)
    assert best is not None
    return best


def _event_count(output: str) -> int | None:
    """Events read, from the run's own report (tocsin's summary, or the parse-only script's count)."""
    match = re.search(r"([\d,]+) events", output) or re.fullmatch(r"\s*(\d+)\s*", output)
    return int(match.group(1).replace(",", "")) if match else None


def prepare_data(out: Path, lines: int, scale: int, seed: int) -> dict[str, Path]:
    """Generate the inputs into ``out``, or reuse those a previous run made with the same parameters."""
    generator = hashlib.sha256((Path(__file__).parent / "generate.py").read_bytes()).hexdigest()[:16]
    wanted = {"lines": lines, "scale": scale, "seed": seed, "generator": generator}
    files = {
        "syslog": out / "auth.log",
        "okta": out / "okta.jsonl",
        "large": out / "auth-large.log",
        "tiny": out / "one-line.log",
    }
    manifest = out / "manifest.json"
    needed = [files["syslog"], files["okta"], files["tiny"]] + ([files["large"]] if scale > 1 else [])
    if manifest.is_file() and json.loads(manifest.read_text()) == wanted and all(p.exists() for p in needed):
        print(f"bench: reusing the data in {out}", file=sys.stderr)
        return files
    started = time.perf_counter()
    print(
        f"bench: generating {lines:,} syslog lines and {lines // 10:,} Okta records in {out}", file=sys.stderr
    )
    generate(out, lines, seed)
    if scale > 1:
        print(f"bench: generating {lines * scale:,} syslog lines for the memory check", file=sys.stderr)
        generate(out, lines * scale, seed, syslog_name=files["large"].name, okta_name=None)
    generate(out, 1, seed, syslog_name=files["tiny"].name, okta_name=None)
    manifest.write_text(json.dumps(wanted))
    print(f"bench: generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return files


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "CPU": cpu,
        "nproc": str(len(os.sched_getaffinity(0))),
        "load avg (1 min) at start": f"{os.getloadavg()[0]:.2f}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": sqlite3.sqlite_version,
        "OS": f"{platform.system()} {platform.release()}",
        "tocsin": f"{__version__} ({_revision()})",
    }
    fail2ban = shutil.which("fail2ban-regex")
    if fail2ban:
        version = subprocess.run([fail2ban, "--version"], capture_output=True, text=True).stdout.split()
        info["fail2ban-regex"] = version[-1] if version else "unknown"
    return info


def _revision() -> str:
    """The git commit measured, marked ``+dirty`` when the work tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no git"
    return commit + ("+dirty" if dirty else "")


def run_all(files: dict[str, Path], scale: int, repeat: int, reference: bool, workers: int) -> Results:
    info = machine()  # before the runs: the load average is the one they start under
    python = sys.executable
    scan = [python, "-m", "tocsin", "scan"]
    to_null = ["--format", "jsonl", "-o", os.devnull]
    syslog, okta = str(files["syslog"]), str(files["okta"])
    syslog_lines = count_lines(files["syslog"])
    mixed_lines = syslog_lines + count_lines(files["okta"])
    one, mixed = f"syslog {_short(syslog_lines)}", f"syslog+okta {_short(mixed_lines)}"
    startup = measure("start-up (tocsin scan, 1 line)", "syslog 1", 1, [*scan, str(files["tiny"]), *to_null])
    runs = [
        measure("parse only (read_events)", one, syslog_lines, [python, "-c", PARSE_ONLY, syslog], repeat),
        measure(
            "parse + JSON (tocsin events)",
            one,
            syslog_lines,
            [python, "-m", "tocsin", "events", syslog, "-o", os.devnull],
            repeat,
        ),
        measure("parse + detect (tocsin scan)", one, syslog_lines, [*scan, syslog, *to_null], repeat),
    ]
    if workers > 1:
        argv = [*scan, syslog, "--workers", str(workers), *to_null]
        runs.append(measure(f"workers: scan --workers {workers}", one, syslog_lines, argv, repeat))
    runs += [
        measure(
            "parse only (read_events)", mixed, mixed_lines, [python, "-c", PARSE_ONLY, syslog, okta], repeat
        ),
        measure("parse + detect (tocsin scan)", mixed, mixed_lines, [*scan, syslog, okta, *to_null], repeat),
    ]
    if scale > 1:
        large_lines = count_lines(files["large"])
        label = f"syslog {_short(large_lines)}"
        runs.append(
            measure(
                "parse + detect (tocsin scan)",
                label,
                large_lines,
                [*scan, str(files["large"]), *to_null],
                repeat,
            )
        )
    rules = re.search(r"Rules (\d+) loaded from (\d+) file", runs[2].report)
    if rules:
        info["built-in rules"] = f"{rules[1]} loaded from {rules[2]} files"
    skipped = []
    fail2ban = shutil.which("fail2ban-regex")
    if reference and fail2ban is None:
        skipped.append(
            f"fail2ban-regex is not installed, so the reference row is missing; {FAIL2BAN_INSTALL}"
        )
        print(f"bench: {skipped[-1]}", file=sys.stderr)
    elif reference and fail2ban:
        # --out id prints one line per failure, into a temporary file.
        argv = [fail2ban, "-e", "utf-8", "--out", "id", syslog, "sshd"]
        runs.append(measure("fail2ban-regex sshd (reference)", one, syslog_lines, argv, repeat))
    return Results(runs, startup, info, skipped)


def _short(count: int) -> str:
    return f"{count / 1e6:g}M" if count >= 1_000_000 else f"{count / 1e3:g}k"


def notes(results: Results) -> list[str]:
    """The ratios that answer the benchmark's questions."""
    runs = results.runs

    def find(case: str, data: str) -> Run | None:
        return next((r for r in runs if r.case.startswith(case) and r.data.startswith(data)), None)

    parse, detect = find("parse only", "syslog "), find("parse + detect", "syslog ")
    mixed = find("parse + detect", "syslog+okta")
    sizes = [r for r in runs if r.case.startswith("parse + detect") and r.data.startswith("syslog ")]
    fail2ban = find("fail2ban", "syslog ")
    parallel = find("workers", "syslog ")
    out = []
    if detect:
        verdict = "met" if detect.rate >= AIM_LINES_PER_SECOND else "NOT met"
        steady = (
            f"; {detect.lines / (detect.wall - results.startup.wall):,.0f} lines/s without the start-up"
            if results.startup and detect.wall > 2 * results.startup.wall
            else ""
        )
        out.append(
            f"Aim of {AIM_LINES_PER_SECOND:,} syslog lines/s parse + detect on one core: {verdict} "
            f"({detect.rate:,.0f} lines/s, {detect.rate / AIM_LINES_PER_SECOND:.2f}x the aim{steady})."
        )
    if parallel and detect:
        gain = detect.wall / parallel.wall
        verdict = "met" if gain >= AIM_TWO_WORKERS else "NOT met"
        aim = f" (aim with 2: {AIM_TWO_WORKERS}x, {verdict})" if parallel.case.endswith(" 2") else ""
        out.append(
            f"{parallel.case.removeprefix('workers: ')}: {parallel.rate:,.0f} lines/s, "
            f"{gain:.3f}x one process on the same file{aim}."
        )
    if parse and detect:
        out.append(
            f"Parse + detect runs at {detect.rate / parse.rate:.2f}x the parse-only rate: "
            f"{1e6 / parse.rate:.1f} us per event to parse, {1e6 / detect.rate - 1e6 / parse.rate:.1f} us more "
            f"to detect (engine, correlations, start-up)."
        )
    if mixed:
        out.append(f"Mixed syslog + Okta JSONL: {mixed.rate:,.0f} events/s parse + detect.")
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        out.append(
            f"Memory vs input size (parse + detect): {small.rss_mb:.0f} MB peak RSS on {small.data}, "
            f"{big.rss_mb:.0f} MB on {big.data}: {big.lines / small.lines:.0f}x the input, "
            f"{big.rss_mb / small.rss_mb:.2f}x the memory."
        )
    if results.startup:
        out.append(
            f"Start-up (tocsin scan of a one-line file, included in every time above): "
            f"{results.startup.wall:.2f} s, {results.startup.rss_mb:.0f} MB peak RSS."
        )
    if fail2ban and detect and parse:
        out.append(
            f"tocsin / fail2ban-regex: throughput {detect.rate / fail2ban.rate:.2f}x (parse + detect) and "
            f"{parse.rate / fail2ban.rate:.2f}x (parse only); peak RSS {detect.rss_mb / fail2ban.rss_mb:.2f}x."
        )
        out.append(FAIL2BAN_NOTE)
    return out + results.skipped


HEADER = ("case", "input", "lines", "events", "wall s", "CPU s", "events/s", "peak RSS MB")


def _row(run: Run) -> tuple[str, ...]:
    return (
        run.case,
        run.data,
        f"{run.lines:,}",
        f"{run.events:,}" if run.events is not None else "-",
        f"{run.wall:.2f}",
        f"{run.cpu:.2f}",
        f"{run.rate:,.0f}",
        f"{run.rss_mb:.0f}",
    )


def render_text(results: Results) -> str:
    rows = [HEADER, *(_row(run) for run in results.runs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    table = [
        " | ".join(
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    table.insert(1, "-+-".join("-" * width for width in widths))
    machine_line = "; ".join(f"{key}: {value}" for key, value in results.info.items())
    return "\n".join([machine_line, "", *table, "", *(f"* {note}" for note in notes(results))])


def render_markdown(results: Results) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---|" + "---:|" * (len(HEADER) - 2)]
    lines += ["| " + " | ".join(_row(run)) + " |" for run in results.runs]
    lines += ["", *(f"- {note}" for note in notes(results))]
    lines += ["", "Measured on:", ""] + [f"- {key}: {value}" for key, value in results.info.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lines", type=int, default=DEFAULT_LINES, help="syslog lines (default: %(default)s)"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=4,
        help="size of the memory-check file in multiples of --lines; 0 skips it",
    )
    parser.add_argument(
        "--out", type=Path, help="keep the generated data here (default: a temporary directory)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per measurement, fastest kept (default: 1)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes of the workers row (default: 2); 1 skips it"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the fail2ban-regex row")
    parser.add_argument("--markdown", action="store_true", help="print the results as Markdown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as scratch:
        files = prepare_data(args.out or Path(scratch), args.lines, args.scale, args.seed)
        results = run_all(files, args.scale, args.repeat, not args.no_reference, args.workers)
    print(render_markdown(results) if args.markdown else render_text(results))


if __name__ == "__main__":
    main()
