"""Latency and load of ``tocsin watch``: time from a line being written to its alert being emitted.

A writer appends syslog lines to a followed file at a sustained rate (default 10,000 lines/s);
every ``--attack-every`` seconds it writes a brute-force attack (ten failed logins from a new
address) whose tenth line completes it. The watch runs as a real process with alerts on stdout;
each alert's arrival is matched to the write time of the line that completed its attack.
The watch's resident memory is sampled throughout.

    python bench/bench_watch.py --rate 10000 --duration 600
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from tocsin.detectors.sigma.ruleset import builtin_rules_path


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=10_000, help="lines per second")
    parser.add_argument("--duration", type=float, default=600, help="seconds of sustained writing")
    parser.add_argument("--attack-every", type=float, default=2.0, help="seconds between attacks")
    parser.add_argument(
        "--full-pack", action="store_true", help="the whole built-in pack, not only authentication"
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="tocsin-bench-watch-"))
    logs, state = root / "logs", root / "state"
    logs.mkdir()
    rules = (
        []
        if args.full_pack
        else ["--no-builtin-rules", "--rules", str(builtin_rules_path() / "authentication")]
    )
    command = [
        sys.executable, "-m", "tocsin", "watch", str(logs), "--state", str(state), *rules,
        "--min-level", "medium", "--log-level", "warning",
    ]  # fmt: skip
    with open(root / "watch.log", "wb") as log:  # the child keeps its own descriptor
        watch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    arrivals: dict[str, float] = {}

    def read_alerts() -> None:
        assert watch.stdout is not None
        for line in watch.stdout:
            now = time.time()
            alert = json.loads(line)
            ip = (alert.get("group_by") or {}).get("source.address")
            if ip and ip not in arrivals:
                arrivals[ip] = now

    reader = threading.Thread(target=read_alerts, daemon=True)
    reader.start()
    time.sleep(2)  # let it start (rules loaded) before the clock starts

    written: dict[str, float] = {}
    memory: list[tuple[float, float]] = []
    tick, sequence, attack = 0.05, 0, 0
    per_tick = max(1, int(args.rate * tick))
    started = time.monotonic()
    next_attack = started + 1.0
    next_sample = started
    path = logs / "auth.log"
    with open(path, "a", encoding="utf-8") as stream:
        deadline = started + args.duration
        target = started
        while (now := time.monotonic()) < deadline:
            stamp = datetime.now(UTC).strftime("%b %e %H:%M:%S")
            lines = []
            for _ in range(per_tick):
                sequence += 1
                if sequence % 50 == 0:
                    lines.append(
                        f"{stamp} web01 sshd[{sequence % 60000}]: Accepted publickey for alice from 10.0.4.20 port {sequence % 60000} ssh2"
                    )
                else:
                    lines.append(f"{stamp} web01 CRON[{sequence % 60000}]: (root) CMD (job {sequence})")
            stream.write("\n".join(lines) + "\n")
            stream.flush()
            if now >= next_attack:
                attack += 1
                ip = f"10.{(attack >> 16) & 255}.{(attack >> 8) & 255}.{attack & 255}"
                for n in range(10):
                    stream.write(
                        f"{stamp} web01 sshd[{n}]: Failed password for root from {ip} port {n} ssh2\n"
                    )
                stream.flush()
                written[ip] = time.time()
                next_attack += args.attack_every
            if now >= next_sample:
                memory.append((now - started, rss_mb(watch.pid)))
                next_sample += 5
            target += tick
            time.sleep(max(0.0, target - time.monotonic()))
    elapsed = time.monotonic() - started
    wait_until = time.monotonic() + 30
    while len(arrivals) < len(written) and time.monotonic() < wait_until:
        time.sleep(0.1)
    status = json.loads((state / "status.json").read_text())
    watch.terminate()
    code = watch.wait(60)
    latencies = sorted(arrivals[ip] - written[ip] for ip in written if ip in arrivals)
    rss = [mb for _, mb in memory]
    first_minute = [mb for t, mb in memory if 30 <= t <= 90] or rss[:1]
    print(
        f"lines written: {sequence:,} in {elapsed:.0f} s ({sequence / elapsed:,.0f} lines/s), attacks: {len(written)}"
    )
    print(f"alerts received: {len(latencies)} of {len(written)}")
    if latencies:
        print(
            f"latency line written -> alert emitted: median {statistics.median(latencies):.3f} s, "
            f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.3f} s, max {latencies[-1]:.3f} s"
        )
    print(f"events committed by the watch: {status['events']:,}")
    print(
        f"RSS MB: min {min(rss):.0f}, first minute {max(first_minute):.0f}, max {max(rss):.0f}, last {rss[-1]:.0f}"
    )
    marks = [f"{t / 60:.0f} min {mb:.0f}" for t, mb in memory if int(t) % 300 < 5]
    print(f"RSS MB every 5 minutes: {', '.join(marks)}")
    print(
        f"watch exit code after SIGTERM: {code}; state db {(state / 'state.db').stat().st_size / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
