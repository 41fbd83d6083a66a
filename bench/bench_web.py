"""Web access logs: ``tocsin scan`` over a generated combined log, beside what the parse alone costs.

Run it in the project's venv, on a quiet machine::

    . .venv/bin/activate
    python bench/bench_web.py                  # 1M lines
    python bench/bench_web.py --lines 200000   # another size
    python bench/bench_web.py --markdown       # the results as Markdown too

The input is a combined access log written by ``generate`` (seed 7): a day of traffic to one site
from 5,000 clients (pages, assets, API calls, searches), with a web-login brute force, a password
spray, a vulnerability scanner (404s, path traversal) and a few webshell requests mixed in. Each
measurement runs in its own process pinned to one CPU (``taskset -c 0``); ``os.wait4`` gives its
wall time, CPU time and peak RSS; times include the process's start-up:

* tocsin scan, built-in rules: ``tocsin scan LOG --format jsonl -o FILE``;
* tocsin scan, built-in + SigmaHQ webserver rules (when ``../shared/data/sigma`` is there);
* floor, Python ``re``: every line matched by the reader's own compiled pattern, nothing else;
* floor, DuckDB: ``read_csv`` of the lines and ``regexp_extract`` of the same groups, counted.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

from pinned import measure

SIGMAHQ_WEB = Path(__file__).resolve().parents[2] / "shared" / "data" / "sigma" / "sigmahq" / "web"
RE_FLOOR = """\
import sys
from tocsin.sources.web.lines import COMBINED
match, count = COMBINED.fullmatch, 0
with open(sys.argv[1], encoding="utf-8") as stream:
    for line in stream:
        if match(line.rstrip("\\n")):
            count += 1
print(count)
"""
DUCKDB_FLOOR = """\
import sys, duckdb
from tocsin.sources.web.columns import RE2_COMBINED
from tocsin.sources.web.lines import COMBINED
duckdb.execute("SET enable_progress_bar = false")
rows = duckdb.sql(
    "SELECT count(*) FROM (SELECT regexp_extract(line, $pattern, $names) AS parts "
    "FROM read_csv($path, columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', escape='', "
    "auto_detect=false)) WHERE parts.status <> ''",
    params={"pattern": RE2_COMBINED, "names": list(COMBINED.groupindex), "path": sys.argv[1]},
).fetchall()
print(rows[0][0])
"""
PAGES = ["/", "/index.html", "/products", "/products/{n}", "/cart", "/checkout", "/about", "/blog/{n}"]
ASSETS = ["/static/app.{n}.js", "/static/style.{n}.css", "/img/{n}.png", "/favicon.ico"]
API = ["/api/v1/items/{n}", "/api/v1/search?q=item{n}", "/api/v1/cart/{n}", "/api/v1/user/profile"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "okhttp/4.12.0",
]
MONTH = "Jun"


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """A day of combined-format traffic with attacks mixed in (see module doc)."""
    rng = random.Random(seed)
    clients = [
        f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        for _ in range(5000)
    ]
    step = 86400 / lines
    with path.open("w", encoding="utf-8") as out:
        for index in range(lines):
            second = int(index * step)
            stamp = f"27/{MONTH}/2026:{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} +0000"
            roll = rng.random()
            client, user, agent = rng.choice(clients), "-", rng.choice(AGENTS)
            referrer = "https://shop.example.com/"
            if roll < 0.002:  # brute force on one account from one address
                client, user, method, target, status, size = (
                    "203.0.113.66",
                    "alice",
                    "POST",
                    "/login",
                    401,
                    230,
                )
            elif roll < 0.003:  # spray: many accounts, one address
                client, method, target, status, size = "198.51.100.23", "POST", "/login", 401, 230
                user = f"user{rng.randrange(500)}"
            elif roll < 0.006:  # scanner
                client, agent, referrer = "192.0.2.99", "Mozilla/5.0 zgrab/0.x", "-"
                method, status, size = "GET", 404, 153
                target = rng.choice(
                    ["/.env", "/.git/config", "/backup.sql", "/cgi-bin/x?f=../../../etc/passwd"]
                )
            elif roll < 0.0062:
                client, method, target, status, size = (
                    "192.0.2.98",
                    "GET",
                    "/uploads/s.php?cmd=whoami",
                    200,
                    31,
                )
            elif roll < 0.02:
                method, target, status = "POST", "/login", rng.choice([302, 302, 302, 401])
                size = 0 if status == 302 else 230
            else:
                kind = rng.random()
                template = rng.choice(PAGES if kind < 0.4 else ASSETS if kind < 0.8 else API)
                method, target = "GET", template.format(n=rng.randrange(10_000))
                status = rng.choices([200, 304, 301, 404, 500], [85, 8, 3, 3, 1])[0]
                size = rng.randrange(200, 200_000) if status == 200 else 0
            out.write(
                f'{client} - {user} [{stamp}] "{method} {target} HTTP/1.1" {status} {size} "{referrer}" "{agent}"\n'
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="keep the generated files here")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="tocsin-web-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"access-{args.lines}.log"
    if not log.exists():
        generate(log, args.lines)
    alerts = work / "alerts.jsonl"
    scan = [sys.executable, "-m", "tocsin", "scan", str(log), "--format", "jsonl", "-o", str(alerts)]
    print(f"load average at start: {os.getloadavg()[0]:.2f}; each run pinned to CPU 0; {args.lines:,} lines")
    runs = [measure("tocsin scan, built-in rules", args.lines, scan)]
    if SIGMAHQ_WEB.exists():
        runs.append(
            measure(
                "tocsin scan, built-in + SigmaHQ web rules", args.lines, [*scan, "--rules", str(SIGMAHQ_WEB)]
            )
        )
    runs.append(
        measure("floor: Python re, the same pattern", args.lines, [sys.executable, "-c", RE_FLOOR, str(log)])
    )
    runs.append(
        measure("floor: DuckDB regexp_extract", args.lines, [sys.executable, "-c", DUCKDB_FLOOR, str(log)])
    )
    for floor in runs[-2:]:  # a floor that did not take every line measured something else
        if floor.output.strip() != str(args.lines):
            raise SystemExit(f"{floor.name} matched {floor.output.strip()!r} of {args.lines} lines")
    for run in runs:
        print(
            f"{run.name:44} {run.rate:>10,.0f} lines/s  wall {run.wall:6.2f} s  CPU {run.cpu:6.2f} s  "
            f"peak RSS {run.rss_mb:5.0f} MB"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if args.markdown:
        print("\n| run | lines/s | wall s | CPU s | peak RSS MB |\n|---|---:|---:|---:|---:|")
        for run in runs:
            print(f"| {run.name} | {run.rate:,.0f} | {run.wall:.2f} | {run.cpu:.2f} | {run.rss_mb:.0f} |")


if __name__ == "__main__":
    main()
