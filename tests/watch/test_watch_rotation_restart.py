"""Issue 7's Done-when: attacks written in pieces across rename and copy-truncate rotations and a
SIGKILL + restart each yield exactly one alert, and every line is counted exactly once."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
from collections import Counter
from pathlib import Path

from tests.watch.helpers import Watcher, syslog_stamp, wait_for

BRUTE_A = "203.0.113.45"  # crosses the brute-force threshold only after the restart
BRUTE_B = "198.51.100.7"  # crosses it before the restart, goes on after it
CAROL_FROM = "192.0.2.9"  # five failures for carol, then her password works: success after failures

_sequence = itertools.count(1)


def failed(user: str, ip: str) -> str:
    n = next(_sequence)
    return (
        f"{syslog_stamp()} web01 sshd[{5000 + n}]: Failed password for {user} from {ip} port {40000 + n} ssh2"
    )


def accepted(user: str, ip: str, method: str = "password") -> str:
    n = next(_sequence)
    return f"{syslog_stamp()} web01 sshd[{5000 + n}]: Accepted {method} for {user} from {ip} port {40000 + n} ssh2"


def noise() -> str:
    n = next(_sequence)
    return f"{syslog_stamp()} web01 CRON[{9000 + n}]: (root) CMD (run-parts /etc/cron.hourly #{n})"


class Writer:
    """Appends lines to a path, as a logging daemon does, and remembers all it wrote."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def append(self, path: Path, lines: list[str]) -> None:
        with open(path, "a", encoding="utf-8") as stream:
            for line in lines:
                stream.write(line + "\n")
                stream.flush()
        self.written += lines


def test_attack_across_rotations_and_sigkill_yields_one_alert_each(tmp_path: Path) -> None:
    watcher = Watcher(tmp_path)
    logs = watcher.logs
    live = logs / "auth.log"
    writer = Writer()

    def all_committed() -> bool:
        return len(watcher.committed_raw()) == len(writer.written)

    watcher.start()

    # 1. The attacks begin.
    writer.append(
        live, [noise(), failed("root", BRUTE_A), failed("root", BRUTE_B), failed("carol", CAROL_FROM)]
    )
    writer.append(
        live, [failed("root", BRUTE_B) for _ in range(4)] + [failed("root", BRUTE_A) for _ in range(2)]
    )
    writer.append(live, [failed("carol", CAROL_FROM), accepted("alice", "10.0.4.20", "publickey")])
    wait_for(all_committed, what="phase 1 committed")

    # 2. Rotation by rename; the daemon writes once more to the old inode before reopening.
    os.rename(live, logs / "auth.log.1")
    writer.append(logs / "auth.log.1", [failed("root", BRUTE_A)])
    writer.append(live, [noise(), failed("root", BRUTE_A)])
    writer.append(live, [failed("root", BRUTE_B) for _ in range(5)] + [failed("carol", CAROL_FROM)])
    wait_for(all_committed, what="phase 2 committed")
    wait_for(
        lambda: any(a["group_by"] == {"source.address": BRUTE_B} for a in watcher.delivered()), what="alert B"
    )

    # 3. Rotation by copy-truncate (logrotate shifts the older file first), one line racing the copy.
    os.rename(logs / "auth.log.1", logs / "auth.log.2")
    writer.append(live, [failed("carol", CAROL_FROM)])
    shutil.copyfile(live, logs / "auth.log.1")
    with open(live, "r+b") as stream:
        stream.truncate(0)
    writer.append(
        live, [failed("root", BRUTE_A), noise(), failed("carol", CAROL_FROM), failed("root", BRUTE_A)]
    )
    wait_for(all_committed, what="phase 3 committed")
    assert len([a for a in watcher.delivered() if a["group_by"] == {"source.address": BRUTE_A}]) == 0

    # 4. SIGKILL right after a line is written (committed or not), then restart.
    writer.append(live, [failed("root", BRUTE_A)])
    watcher.kill()
    watcher.start()

    # 5. The rest of the attacks.
    writer.append(
        live, [failed("root", BRUTE_A) for _ in range(3)] + [failed("root", BRUTE_B) for _ in range(3)]
    )
    writer.append(live, [noise(), accepted("carol", CAROL_FROM)])
    wait_for(all_committed, what="phase 5 committed")
    wait_for(lambda: len(watcher.delivered()) >= 3, what="three alerts")
    assert watcher.stop() == 0  # SIGTERM: finish, checkpoint, exit 0

    # No event counted twice or lost: every written line is in the case database exactly once.
    assert Counter(watcher.committed_raw()) == Counter(writer.written)
    assert len(set(writer.written)) == len(writer.written)

    # Exactly one alert per attack.
    delivered = watcher.delivered()
    by_attack = Counter(
        (a["rule"]["title"], tuple(sorted((a.get("group_by") or {}).items()))) for a in delivered
    )
    assert by_attack == {
        ("Brute Force From One Source", (("source.address", BRUTE_A),)): 1,
        ("Brute Force From One Source", (("source.address", BRUTE_B),)): 1,
        ("Successful Authentication After Repeated Failures", (("user.name", "carol"),)): 1,
    }, delivered
    assert len({a["id"] for a in delivered}) == len(delivered)

    # The case copies of the alerts count every event of their attack, once.
    counts = {
        rule_group: count
        for rule_group, count in watcher.query(
            "SELECT json_extract(document, '$.group_by'), json_extract(document, '$.event_count') FROM alerts "
            "WHERE rule_id = '0e6c3b9a-4f1d-4a8e-b7c2-5d3a9f8e1c42'"
        )
    }
    assert counts == {f'{{"source.address":"{BRUTE_A}"}}': 11, f'{{"source.address":"{BRUTE_B}"}}': 13}
    assert "Traceback" not in watcher.stderr.read_text()


def test_sigterm_mid_stream_finishes_the_batch_and_exits_zero(tmp_path: Path) -> None:
    watcher = Watcher(tmp_path)
    writer = Writer()
    watcher.start()
    writer.append(watcher.logs / "auth.log", [noise() for _ in range(200)])
    watcher.signal(signal.SIGTERM)
    assert watcher.process is not None and watcher.process.wait(20) == 0
    watcher.start()  # whatever the first run had not committed, the second reads: once
    wait_for(lambda: len(watcher.committed_raw()) == 200, what="all lines committed")
    assert watcher.stop() == 0
    assert Counter(watcher.committed_raw()) == Counter(writer.written)
