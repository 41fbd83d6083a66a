"""The HTML scan report, rendered by a real browser (headless Chromium): it shows, it escapes."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import shared
from tests.png import colour_counts, longest_vertical_run
from tests.test_cli import tocsin

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE_USER = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
HIGH, MEDIUM = (0xD3, 0x2F, 0x2F), (0xF5, 0x7C, 0x00)


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("Debian package chromium is not installed (apt-get install chromium)")
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *arguments],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


class _Dom(HTMLParser):
    """Elements by tag and the text of every table cell, as the browser serialised them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)
        if tag == "table":
            self._table = dict(attrs).get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A report of the OpenSSH sample plus a brute force by a user named like an XSS payload."""
    folder = tmp_path_factory.mktemp("report")
    hostile = folder / "hostile.log"
    hostile.write_text("".join(
        f"Dec 10 11:2{i}:00 web01 sshd[{100 + i}]: Failed password for invalid user {HOSTILE_USER} "
        f"from 198.51.100.66 port {4000 + i} ssh2\n" for i in range(10)
    ))  # fmt: skip
    path = folder / "report.html"
    result = tocsin(
        "scan", str(shared("authlogs/OpenSSH_2k.log")), str(hostile), "--report", str(path), "-o", "/dev/null"
    )
    assert result.returncode == 0, result.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    return path


def test_report_is_self_contained_and_escaped(report):
    html = report.read_text()
    page = _Dom()
    page.feed(html)
    assert not {"script", "link", "iframe", "object", "img", "embed"} & set(page.tags)
    assert not {"src", "href", "srcset", "action"} & page.attributes and not re.search(r"url\(", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html
    hits = re.search(r"Events with hits: ([\d,]+) of 2,018", html)
    assert hits and 400 < int(hits[1].replace(",", "")) < 2018  # the evidence of every alert, counted once


def test_report_renders_in_chromium(report, tmp_path):
    dom_run = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    dom = _Dom()
    dom.feed(dom_run.stdout)
    assert "script" not in dom.tags and "img" not in dom.tags  # the payload stayed text
    assert (
        "<title>tocsin scan report" in dom_run.stdout and "pwned" not in dom_run.stdout.split("</title>")[0]
    )
    by_level = {row[0]: row[1:] for row in dom.tables["by-level"][1:]}
    assert by_level["high"][0] == "12" and by_level["medium"][0] == "6" and by_level["Total"][0] == "18"
    top_rules = {row[0]: row for row in dom.tables["top-rules"][1:]}
    assert top_rules["Brute Force From One Source"][2] == "8"
    assert {row[0] for row in dom.tables["per-host"][1:]} == {"LabSZ", "web01"}
    entities = {row[0] for row in dom.tables["top-entities"][1:]}
    assert "source=183.62.140.253" in entities and f"user.name={HOSTILE_USER}" in entities
    evidence = [row for name, rows in dom.tables.items() if name.startswith("table") for row in rows[1:]]
    assert any(row[2] == HOSTILE_USER and "198.51.100.66" in row[4] for row in evidence)
    assert dom.tags.count("rect") >= 8  # the detections-over-time bars

    screenshot = tmp_path / "report.png"
    shot_run = _chromium(tmp_path, "--window-size=1000,1200", f"--screenshot={screenshot}", report.as_uri())
    assert shot_run.returncode == 0 and screenshot.exists(), shot_run.stderr[-2000:]
    colours = colour_counts(screenshot)
    assert colours[(255, 255, 255)] < 0.95 * sum(colours.values())  # not a blank page
    # The level badges are about 15 px tall; the chart's tallest bar (5 alerts in 5 min) is 180 px.
    assert longest_vertical_run(screenshot, HIGH) > 100
    assert longest_vertical_run(screenshot, MEDIUM) > 25
