"""Zeek JSON and Suricata EVE: ``tocsin scan`` beside the orjson parse floor on the same file.

Run it in the project's venv, on a quiet machine::

    . .venv/bin/activate
    python bench/bench_zeek.py                    # 1M lines of each
    python bench/bench_zeek.py --lines 200000     # another size
    python bench/bench_zeek.py --markdown         # the results as Markdown

The workload is generated here, deterministically (seed 1337): a Zeek JSON log mixing conn, dns
and http records (``_path`` says which) and an EVE file mixing flow, dns and http records, each
with some HTTP Basic logins refused (401) from a few sources, so the built-in brute-force rules
have work to do. Each measurement runs in its own process pinned to one CPU (``taskset -c 0``);
``os.wait4`` gives its wall time, CPU time and peak RSS; times include the process's start-up:

* tocsin, built-in pack: ``tocsin scan FILE --format jsonl -o ALERTS``; its building blocks match
  every outbound flow and every DNS query, so two thirds of the rows become events kept for
  correlations (as on a capture of the same traffic);
* tocsin, one rule: ``--no-builtin-rules`` and one single-event rule (refused logins): reading and
  mapping the records, one vectorized query, events only for the rows that matched;
* floor: every line decoded with orjson, nothing else.

The files are written line by line and the parent holds no data, so a child's peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pinned import Run, measure

ORJSON_FLOOR = """\
import sys, orjson
count = 0
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        orjson.loads(line)
        count += 1
print(count)
"""
T0 = 1_714_557_600.0
AGENTS = ("Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "python-requests/2.31", "Go-http-client/1.1")
PATHS = ("/", "/login", "/api/v1/items", "/static/app.js", "/wp-login.php", "/search?q=shoes")
NAMES = ("www.example.com", "api.example.com", "cdn.example.net", "login.example.org", "updates.example.io")


def _endpoints(rng: random.Random) -> tuple[str, int, str]:
    return (
        f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        rng.randrange(1024, 65535),
        f"93.184.{rng.randrange(256)}.{rng.randrange(1, 255)}",
    )


ONE_RULE = """title: Refused Login
id: 0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
logsource: {category: authentication}
detection:
    selection:
        event.outcome: failure
    condition: selection
level: low
"""


def zeek_lines(count: int) -> Iterator[str]:
    """``count`` Zeek JSON lines: conn, dns and http in turn, one in 50 http a refused Basic login."""
    rng = random.Random(1337)
    for index in range(count):
        client, port, server = _endpoints(rng)
        base = {
            "ts": T0 + index * 0.01,
            "uid": f"C{index:012x}",
            "id.orig_h": client,
            "id.orig_p": port,
            "id.resp_h": server,
        }
        kind = index % 3
        if kind == 0:
            record = {"_path": "conn", **base, "id.resp_p": 443, "proto": "tcp", "service": "ssl", "duration": rng.random() * 5,
                      "orig_bytes": rng.randrange(100, 5000), "resp_bytes": rng.randrange(100, 50000), "conn_state": "SF",
                      "history": "ShADadFf", "orig_pkts": rng.randrange(3, 40), "orig_ip_bytes": rng.randrange(200, 9000),
                      "resp_pkts": rng.randrange(3, 60), "resp_ip_bytes": rng.randrange(200, 90000)}  # fmt: skip
        elif kind == 1:
            name = rng.choice(NAMES)
            record = {"_path": "dns", **base, "id.resp_p": 53, "proto": "udp", "trans_id": rng.randrange(65536), "query": name,
                      "qclass_name": "C_INTERNET", "qtype_name": "A", "rcode_name": "NOERROR", "AA": False, "TC": False,
                      "RD": True, "RA": True, "Z": 0, "answers": [server], "TTLs": [300.0], "rejected": False}  # fmt: skip
        else:
            refused = index % 50 == 2
            record = {"_path": "http", **base, "id.resp_p": 80, "trans_depth": 1, "method": "GET", "host": "shop.example",
                      "uri": rng.choice(PATHS), "version": "1.1", "user_agent": rng.choice(AGENTS), "request_body_len": 0,
                      "response_body_len": rng.randrange(0, 20000), "status_code": 401 if refused else 200,
                      "status_msg": "Unauthorized" if refused else "OK"}  # fmt: skip
            if refused:
                record.update({"id.orig_h": f"198.51.100.{index % 7}", "username": f"user{index % 11}"})
        yield json.dumps(record, separators=(",", ":"))


def eve_lines(count: int) -> Iterator[str]:
    """``count`` EVE lines: flow, dns and http in turn, one in 50 http a refused Basic login."""
    rng = random.Random(1337)
    token = "Basic YWRtaW46Z3Vlc3M="  # admin:guess
    for index in range(count):
        client, port, server = _endpoints(rng)
        stamp = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + index * 0.01))
            + f".{index % 100:02d}0000+0000"
        )
        base = {
            "timestamp": stamp,
            "flow_id": index,
            "in_iface": "eth0",
            "src_ip": client,
            "src_port": port,
            "dest_ip": server,
        }
        kind = index % 3
        if kind == 0:
            record = {**base, "event_type": "flow", "dest_port": 443, "proto": "TCP", "app_proto": "tls",
                      "flow": {"pkts_toserver": rng.randrange(3, 40), "pkts_toclient": rng.randrange(3, 60),
                               "bytes_toserver": rng.randrange(200, 9000), "bytes_toclient": rng.randrange(200, 90000),
                               "start": stamp, "end": stamp, "age": 0, "state": "closed", "reason": "timeout"}}  # fmt: skip
        elif kind == 1:
            record = {**base, "event_type": "dns", "dest_port": 53, "proto": "UDP",
                      "dns": {"version": 2, "type": "query", "id": rng.randrange(65536), "rrname": rng.choice(NAMES), "rrtype": "A", "tx_id": 0}}  # fmt: skip
        else:
            refused = index % 50 == 2
            http = {"hostname": "shop.example", "url": rng.choice(PATHS), "http_user_agent": rng.choice(AGENTS),
                    "http_method": "GET", "protocol": "HTTP/1.1", "status": 401 if refused else 200, "length": rng.randrange(0, 20000)}  # fmt: skip
            if refused:
                base["src_ip"] = f"198.51.100.{index % 7}"
                http["request_headers"] = [{"name": "Authorization", "value": token}]
            record = {
                **base,
                "event_type": "http",
                "dest_port": 80,
                "proto": "TCP",
                "app_proto": "http",
                "http": http,
            }
        yield json.dumps(record, separators=(",", ":"))


def bench(lines: int, work: Path) -> list[Run]:
    runs = []
    rule = work / "refused_login.yml"
    rule.write_text(ONE_RULE, encoding="utf-8")
    for name, generate in (("zeek", zeek_lines), ("eve", eve_lines)):
        data = work / f"{name}-{lines}.json"
        if not data.exists():
            with data.open("w", encoding="utf-8") as out:
                out.writelines(line + "\n" for line in generate(lines))
        alerts = work / f"{name}-alerts.jsonl"
        scan = [sys.executable, "-m", "tocsin", "scan", str(data), "--format", "jsonl", "-o", str(alerts)]
        for label, options in (
            ("built-in pack", []),
            ("one rule", ["--no-builtin-rules", "--rules", str(rule)]),
        ):
            runs.append(measure(f"{name}: tocsin scan, {label}", lines, [*scan, *options], exit_codes=(0, 1)))
            with alerts.open() as stream:
                titles = sorted({json.loads(line)["rule"]["title"] for line in stream})
            runs[-1].output = f"alerts from: {', '.join(titles) or 'none'}"
        runs.append(
            measure(
                f"{name}: floor, orjson decode only",
                lines,
                [sys.executable, "-c", ORJSON_FLOOR, str(data)],
                exit_codes=(0, 1),
            )
        )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, action="append", help="lines per file (repeatable; default 1M)")
    parser.add_argument("--out", type=Path, help="keep the generated files here")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="tocsin-zeek-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.2f}; each run pinned to CPU 0")
    rows = []
    for size in args.lines or [1_000_000]:
        for run in bench(size, work):
            rows.append((run, size))
            print(
                f"{size:>9,} lines  {run.name:40} {run.rate:>10,.0f} lines/s  wall {run.wall:6.2f} s  "
                f"CPU {run.cpu:6.2f} s  peak RSS {run.rss_mb:6.0f} MB"
            )
            if run.output.startswith("alerts"):
                print(f"          {run.output}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if args.markdown:
        print("\n| lines | run | lines/s | wall s | CPU s | peak RSS MB |\n|---:|---|---:|---:|---:|---:|")
        for run, size in rows:
            print(
                f"| {size:,} | {run.name} | {run.rate:,.0f} | {run.wall:.2f} | {run.cpu:.2f} | {run.rss_mb:.0f} |"
            )


if __name__ == "__main__":
    main()
