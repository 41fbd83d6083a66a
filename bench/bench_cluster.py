"""Shipping throughput to a real local cluster: tocsin's shipper beside opensearch-py's parallel_bulk.

    python bench/bench_cluster.py [--events 1000000] [--url URL] [--out bench/RESULTS_CLUSTER.md]

Without ``--url`` it runs ``scripts/test-cluster start`` (the local OpenSearch node). Generates
a syslog file of sshd failures, then ships the same documents twice, each into freshly created
data streams and in its own process (so peak RSS is its own): tocsin's ``Shipper`` as ``scan
--to-es`` drives it (batches of 5,000 events, bulk requests of 500, retries, spool) and
opensearch-py's ``parallel_bulk`` (4 threads, chunks of 500) as the floor. Both read and
normalize the file with tocsin's parser, so the difference is the shipping.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BATCH = 5000


def generate(path: Path, count: int) -> None:
    """``count`` sshd failures, ten a second from 1 January 2001, from 50,000 sources."""
    with path.open("w") as out:
        for i in range(count):
            second = i // 10
            hours, rest = divmod(second, 3600)
            stamp = f"Jan {1 + hours // 24:2d} {hours % 24:02d}:{rest // 60:02d}:{rest % 60:02d}"
            out.write(
                f"{stamp} bench sshd[{1000 + i % 30000}]: Failed password for invalid user u{i % 997} "
                f"from 10.{i % 250}.{(i // 250) % 200}.{i % 7 + 1} port {20000 + i % 40000} ssh2\n"
            )


def actions(path: Path) -> Iterator[dict[str, Any]]:
    from tocsin.elastic.shipping import event_action
    from tocsin.scan import ReadSummary, read_events
    from tocsin.sources import ParseOptions

    for event in read_events([str(path)], None, ParseOptions(year=2001), ReadSummary()):
        yield event_action(event)


def ship_tocsin(url: str, path: Path, state: Path) -> dict[str, Any]:
    from tocsin.elastic.client import ElasticSettings, make_client
    from tocsin.elastic.shipping import Shipper

    settings = ElasticSettings(url=url, state_dir=state)
    shipper = Shipper(make_client(settings), settings)
    batch: list[dict[str, Any]] = []
    for action in actions(path):
        batch.append(action)
        if len(batch) == BATCH:
            shipper.send(batch)
            batch = []
    shipper.send(batch)
    shipper.close()
    stats = shipper.stats
    return {"delivered": stats.shipped + stats.present, "failed": stats.dead_lettered + stats.spooled}


def ship_parallel_bulk(url: str, path: Path, state: Path) -> dict[str, Any]:
    from opensearchpy import OpenSearch
    from opensearchpy.helpers import parallel_bulk

    client = OpenSearch(hosts=[url], timeout=60)
    delivered = failed = 0
    for ok, _ in parallel_bulk(client, actions(path), thread_count=4, chunk_size=500, raise_on_error=False):
        delivered += ok
        failed += not ok
    return {"delivered": delivered, "failed": failed}


def reset(url: str) -> None:
    """Empty data streams for the next run (deterministic ids would otherwise all be 409s)."""
    from tocsin.elastic import ALERTS_STREAM, EVENTS_STREAM
    from tocsin.elastic.client import ElasticSettings, make_client
    from tocsin.elastic.templates import setup

    cluster = make_client(ElasticSettings(url=url))
    for stream in (EVENTS_STREAM, ALERTS_STREAM):
        cluster.client.indices.delete_data_stream(name=stream, ignore=(404,))
    setup(cluster)


def run_one(mode: str, url: str, path: Path) -> dict[str, Any]:
    """One mode in this process; prints its JSON result."""
    ship = {"tocsin": ship_tocsin, "parallel_bulk": ship_parallel_bulk}[mode]
    with tempfile.TemporaryDirectory() as state:
        start = time.perf_counter()
        result = ship(url, path, Path(state))
        seconds = time.perf_counter() - start
    return {
        "mode": mode,
        **result,
        "seconds": round(seconds, 2),
        "docs_per_s": round(result["delivered"] / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def count(url: str) -> int:
    from tocsin.elastic import EVENTS_PATTERN
    from tocsin.elastic.client import ElasticSettings, make_client

    cluster = make_client(ElasticSettings(url=url))
    cluster.refresh(EVENTS_PATTERN)
    return cluster.count(EVENTS_PATTERN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", help="cluster URL (default: scripts/test-cluster start)")
    parser.add_argument("--out", type=Path, help="write a Markdown table here")
    parser.add_argument("--mode", choices=["tocsin", "parallel_bulk"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = (
        args.url
        or subprocess.run(
            [str(ROOT / "scripts" / "test-cluster"), "start"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    if args.mode:
        print(json.dumps(run_one(args.mode, url, args.file)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as work:
        log = Path(work) / "auth.log"
        generate(log, args.events)
        for mode in ("tocsin", "parallel_bulk"):
            reset(url)
            done = subprocess.run(
                [sys.executable, __file__, "--mode", mode, "--url", url, "--file", str(log)],
                check=True,
                capture_output=True,
                text=True,
            )
            row = json.loads(done.stdout)
            row["stored"] = count(url)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    table = [
        f"Shipping {args.events:,} sshd events to a local single-node OpenSearch 2.19.6 "
        f"(scripts/test-cluster, 1 GB heap) on {platform.machine()}, Python {platform.python_version()}:",
        "",
        "| shipper | delivered | stored | failed | seconds | documents/s | peak RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        table.append(
            f"| {row['mode']} | {row['delivered']:,} | {row['stored']:,} | {row['failed']:,} | {row['seconds']} "
            f"| {row['docs_per_s']:,} | {row['peak_rss_mb']} |"
        )
    text = "\n".join(table) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
