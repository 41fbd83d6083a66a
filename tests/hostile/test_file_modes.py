"""Nothing tocsin creates is readable by other users: every file and folder of real runs of scan (case
database, -o, --timeline, --report, the Elasticsearch spool, the fingerprint key), respond (incidents,
case database, audit anchor) and watch (state, status, webhook spool) is 0600 / 0700 or stricter."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.elastic.test_shipping import refused_port
from tests.hostile.conftest import Tocsin
from tests.hostile.test_input_shape import sshd_failures
from tests.watch.helpers import Watcher, syslog_stamp, wait_for

TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"


def readable_by_others(root: Path, made_by_the_test: set[Path]) -> list[str]:
    """Every path under ``root`` not made by the test whose mode gives group or others any access."""
    return [
        f"{path.relative_to(root)} {stat.filemode(path.lstat().st_mode)}"
        for path in [root, *root.rglob("*")]
        if path not in made_by_the_test and stat.S_IMODE(path.lstat().st_mode) & 0o077
    ]


def webhook_files(watcher: Watcher) -> list[Path]:
    """The webhook's spool, or its replay once the posting thread took it over."""
    return list(watcher.state.glob("webhook.*"))


def test_every_file_and_folder_of_real_runs_is_private(
    tocsin: Tocsin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tocsin.cwd  # also HOME: ~/.config/tocsin and ~/.local/state/tocsin land here
    root.chmod(0o700)
    (root / "auth.log").write_text(
        f"Dec 10 09:59:00 web01 app[1]: deploy with token {TOKEN}\n" + sshd_failures(12)
    )
    made_by_the_test = {root / "auth.log"}
    tocsin.env["TOCSIN_ES_URL"] = f"http://127.0.0.1:{refused_port()}"  # nothing answers: the spool
    outputs = [
        "--db",
        "case.db",
        "-o",
        "alerts.jsonl",
        "--timeline",
        "timeline.html",
        "--report",
        "report.html",
    ]
    tocsin.run("scan", "auth.log", *outputs, "--to-es", "--format", "jsonl")
    tocsin.run("respond", "alerts.jsonl", "--execute", check=None)

    watched = root / "watch"
    watched.mkdir()
    watcher = Watcher(watched)
    made_by_the_test |= {watched, watcher.logs, watcher.logs / "auth.log", watcher.stderr}
    monkeypatch.setenv("TOCSIN_WEBHOOK_URL", f"http://127.0.0.1:{refused_port()}/hook")  # alerts stay spooled
    watcher.start()
    lines = [f"{syslog_stamp()} {line.split(' ', 3)[3]}" for line in sshd_failures(12).splitlines()]
    (watcher.logs / "auth.log").write_text("".join(line + "\n" for line in lines))
    wait_for(lambda: webhook_files(watcher) and watcher.delivered(), what="an alert spooled")
    assert watcher.stop() == 0

    expected = [
        "case.db", "alerts.jsonl", "timeline.html", "report.html", ".config/tocsin/fingerprint.key",
        ".local/state/tocsin/elasticsearch/spool", "cases.db", "cases.db.audit-head", "incidents",
        "watch/state/state.db", "watch/state/status.json", "watch/alerts.jsonl",
    ]  # fmt: skip
    assert [name for name in expected if not (root / name).exists()] == [] and webhook_files(watcher)
    assert any((root / "incidents").rglob("*.md")) or any((root / "incidents").rglob("*"))
    assert readable_by_others(root, made_by_the_test) == []
