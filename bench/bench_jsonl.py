"""Sigma over flat ECS JSON Lines: tocsin beside the DuckDB/orjson floor, on the shared sshd kit.

Run it in the project's venv, on a quiet machine::

    . .venv/bin/activate
    python bench/bench_jsonl.py                    # 200k and 2M events
    python bench/bench_jsonl.py --events 200000    # one size
    python bench/bench_jsonl.py --markdown         # the results as Markdown
    python bench/bench_jsonl.py --repeat 3         # each measurement three times, the fastest kept

The workload is ``../shared/bench/sshd-jsonl/`` (its ``gen_sshd.py`` writes the events, seed 1337;
``rules/`` holds the five Sigma rules; ``expected_counts.py`` the exact count of each). Each
measurement runs in its own process pinned to one CPU (``taskset -c 0``) and ``os.wait4`` gives its
wall time, CPU time and peak RSS; times include the process's start-up:

* tocsin: ``tocsin scan EVENTS --rules rules/ --no-builtin-rules --format jsonl -o FILE``, then the
  alerts per rule are checked against ``expected_counts.py``;
* floor, orjson: every line decoded with orjson, nothing else;
* floor, DuckDB: the kit's ``floor_duckdb.py``: ``read_json_auto`` into a table, then the five rules
  as SQL (pysigma-backend-duckdb when installed, as the kit's README describes);
* workers: the same scan with ``--workers N`` (``--workers``, default 2) on CPUs 0 to N-1, its
  counts checked too;
* start-up: ``tocsin --help``, median of 5 runs; and ``tocsin scan`` of the kit's first line with its
  rules, once compiling them (``TOCSIN_RULE_CACHE=off``) and once reading them from the compiled-rule
  cache, as every run after the first does; the latter is subtracted from the scan's wall time for
  the rate without start-up.

The runs share a compiled-rule cache of their own (a temporary ``XDG_CACHE_HOME``), filled by one
unmeasured scan of the first line before the measurements. The first line printed says whether the
native JSON Lines reader (``native/``, ``pip install ./native``) is installed: without it every
record is decoded by orjson, about a third slower.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from pinned import Run, fastest

KIT = Path(__file__).resolve().parents[2] / "shared" / "bench" / "sshd-jsonl"
RULE_KEYS = {
    "SSHD Failed Authentication": "failed_login",
    "SSHD Successful Root Login": "root_login",
    "SSHD Invalid User": "invalid_user",
    "SSHD Successful Login From Non-RFC1918 Address": "external_success",
    "SSHD Failed Password For Common Default Account": "default_account_regex",
}
#: The aim of the engine issue: events/s on one core, end to end.
AIM = 150_000
ORJSON_FLOOR = """\
import sys, orjson
count = 0
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        orjson.loads(line)
        count += 1
print(count)
"""


def _counts(alerts: Path) -> dict[str, int]:
    with alerts.open() as stream:
        return dict(Counter(RULE_KEYS[json.loads(line)["rule"]["title"]] for line in stream))


def bench(
    events: int, work: Path, repeat: int, workers: int
) -> tuple[list[Run], dict[str, int], dict[str, int]]:
    data = work / f"sshd-{events}.jsonl"
    if not data.exists():
        subprocess.run([sys.executable, str(KIT / "gen_sshd.py"), str(events), str(data)], check=True)
    expected = json.loads(
        subprocess.run(
            [sys.executable, str(KIT / "expected_counts.py"), str(data)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    alerts = work / "alerts.jsonl"
    tocsin = [sys.executable, "-m", "tocsin", "scan", str(data), "--rules", str(KIT / "rules")]
    first = work / "first-line.jsonl"
    with data.open("rb") as stream:
        first.write_bytes(stream.readline())
    one_line = [
        *tocsin[:4],
        str(first),
        *tocsin[5:],
        "--no-builtin-rules",
        "--format",
        "jsonl",
        "-o",
        os.devnull,
    ]
    subprocess.run(one_line, check=True, capture_output=True)  # fills the compiled-rule cache
    runs = [
        fastest(
            repeat,
            "tocsin scan",
            events,
            [*tocsin, "--no-builtin-rules", "--format", "jsonl", "-o", str(alerts)],
        ),
    ]
    counts = _counts(alerts)
    if workers > 1:
        argv = [
            *tocsin,
            "--no-builtin-rules",
            "--workers",
            str(workers),
            "--format",
            "jsonl",
            "-o",
            str(alerts),
        ]
        runs.append(fastest(repeat, f"tocsin scan --workers {workers}", events, argv, cpus=workers))
        if _counts(alerts) != counts:
            raise SystemExit(f"--workers {workers} counted {_counts(alerts)}, one process {counts}")
    runs.append(
        fastest(repeat, "floor: orjson decode only", events, [sys.executable, "-c", ORJSON_FLOOR, str(data)])
    )
    runs.append(
        fastest(
            repeat,
            "floor: DuckDB load + rules (kit)",
            events,
            [sys.executable, str(KIT / "floor_duckdb.py"), str(data)],
        )
    )
    runs.append(
        fastest(
            repeat,
            "start-up: one line, rules compiled",
            1,
            ["env", "TOCSIN_RULE_CACHE=off", *one_line],
        )
    )
    runs.append(fastest(repeat, "start-up: one line, rules cached", 1, one_line))
    return runs, counts, expected


def startup() -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tocsin", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", help="events per run (repeatable)")
    parser.add_argument("--out", type=Path, help="keep the generated files here")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per measurement, fastest kept (default: 1)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes of the workers row (default: 2); 1 skips it"
    )
    args = parser.parse_args()
    if not (KIT / "gen_sshd.py").exists():
        raise SystemExit(f"the benchmark kit is not at {KIT}")
    sizes = args.events or [200_000, 2_000_000]
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="tocsin-bench-cache-")
    work = args.out or Path(tempfile.mkdtemp(prefix="tocsin-jsonl-"))
    work.mkdir(parents=True, exist_ok=True)
    native = (
        "installed" if importlib.util.find_spec("tocsin_native") else "NOT installed (pip install ./native)"
    )
    print(
        f"load average at start: {os.getloadavg()[0]:.2f}; each run pinned to CPU 0 "
        f"(the workers row to CPUs 0 to {args.workers - 1}); native JSON Lines reader {native}"
    )
    rows = []
    for size in sizes:
        runs, counts, expected = bench(size, work, args.repeat, args.workers)
        exact = counts == expected
        for run in runs:
            rows.append((run, size))
            rate = f"{run.rate:>10,.0f} events/s" if run.count > 1 else " " * 19
            print(
                f"{size:>9,} events  {run.name:34} {rate}  wall {run.wall:6.2f} s  "
                f"CPU {run.cpu:6.2f} s  peak RSS {run.rss_mb:6.0f} MB"
            )
        print(f"          counts {'exact' if exact else 'WRONG'}: {counts} (expected {expected})")
        tocsin, start = runs[0], runs[-1]
        steady = size / max(tocsin.wall - start.wall, 1e-9)
        print(
            f"          aim {AIM:,}/s on one core: {'met' if tocsin.rate >= AIM else 'NOT met'} ({tocsin.rate / AIM:.2f}x); "
            f"without the {start.wall:.2f} s start-up: {steady:,.0f} events/s ({steady / AIM:.2f}x)"
        )
        parallel = next((run for run in runs if "--workers" in run.name), None)
        if parallel:
            print(f"          {parallel.name}: {tocsin.wall / parallel.wall:.2f}x one process, counts exact")
        floor = next(run for run in runs if run.name.startswith("floor: DuckDB"))
        if floor.output:
            print("          " + floor.output.strip().replace("\n", "\n          "))
    help_time = startup()
    print(f"tocsin --help: median of 5 = {help_time:.3f} s (aim 0.3 s)")
    if args.markdown:
        print("\n| events | run | events/s | wall s | CPU s | peak RSS MB |\n|---:|---|---:|---:|---:|---:|")
        for run, size in rows:
            rate = f"{run.rate:,.0f}" if run.count > 1 else "-"
            print(f"| {size:,} | {run.name} | {rate} | {run.wall:.2f} | {run.cpu:.2f} | {run.rss_mb:.0f} |")


if __name__ == "__main__":
    main()
