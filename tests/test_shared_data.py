"""Every real sample file under ../shared/data/cloud and ../shared/data/authlogs scans without a crash.

Each file goes through the real command line: recognised ones give exactly their known number of events;
the ones no parser reads (licences) are reported as unrecognised, which fails the
run with exit 2 when the file is named on the command line; found while walking a directory, licences
are passed over as not logs and other unrecognised files are only reported.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from tests.conftest import SHARED, shared

#: file -> (format, events, records skipped by reason); format None: no parser recognises the file.
EXPECTED: dict[str, tuple[str | None, int, dict[str, int]]] = {
    "cloud/auth0.jsonl": ("auth0", 57, {}),
    "cloud/aws_cloudtrail.jsonl": ("cloudtrail", 461, {}),
    "cloud/azure_signin.jsonl": ("entra", 47, {}),
    "cloud/duo.jsonl": ("duo", 42, {}),
    "cloud/github.jsonl": ("github", 177, {}),
    "cloud/gsuite_activityevent.jsonl": ("google_workspace", 137, {}),
    "cloud/gsuite_reports.jsonl": ("google_workspace", 20, {}),
    # 26 of the 100 lines are detection-query results (baselines, z-scores), not System Log events.
    "cloud/okta.jsonl": ("okta", 74, {"not a okta record": 26}),
    "cloud/onelogin.jsonl": ("onelogin", 26, {}),
    "cloud/LICENSE.panther-analysis": (None, 0, {}),
    "authlogs/OpenSSH_2k.log": ("syslog", 2008, {}),
    "authlogs/Linux_2k.log": ("syslog", 2000, {}),
    "authlogs/OpenSSH_2k.log_structured.csv": ("csv", 2000, {}),
    "authlogs/Linux_2k.log_structured.csv": ("csv", 2000, {}),
    "authlogs/Apache_2k.log": ("apache-error", 2000, {}),
    "authlogs/LICENSE.loghub": (None, 0, {}),
}

#: Files no parser reads that a folder walk passes over as not logs.
LICENCES = {"cloud/LICENSE.panther-analysis", "authlogs/LICENSE.loghub"}


def tocsin(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "1000"}  # keep every summary line on one line
    env.pop("TOCSIN_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "tocsin", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


def skipped_lines(stderr: str) -> dict[str, int]:
    return {m[2]: int(m[1].replace(",", "")) for m in re.finditer(r"^ {4} *([\d,]+)  (\S.*)$", stderr, re.M)}


def test_the_expected_files_are_all_there():
    cloud, authlogs = shared("cloud"), shared("authlogs")
    present = {f"{folder.name}/{path.name}" for folder in (cloud, authlogs) for path in folder.iterdir()}
    assert present == set(EXPECTED)


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_each_file_scans_without_a_crash(relative):
    path = shared(relative)
    fmt, events, skipped = EXPECTED[relative]
    result = tocsin("scan", "--format", "jsonl", str(path))
    read = re.search(r"^Read 1 input\(s\), ([\d,]+) events \((.+)\) in ", result.stderr, re.M)
    assert read, result.stderr
    assert int(read[1].replace(",", "")) == events
    assert skipped_lines(result.stderr) == skipped
    for line in result.stdout.splitlines():
        alert = json.loads(line)
        assert alert["rule"]["title"] and alert["event_count"] >= 1
    if fmt is None:
        assert result.returncode == 2  # named explicitly and unreadable: the run fails, as documented
        assert read[2] == "no recognised input"
        assert f"  not read: {path}: unrecognised format (starts with " in result.stderr
        assert f"tocsin: error: cannot read {path}: unrecognised format" in result.stderr
        assert result.stdout == ""
    else:
        assert result.returncode == 0, result.stderr
        assert read[2] == f"1 {fmt}"
        assert "not read" not in result.stderr and "tocsin: error" not in result.stderr


def test_both_folders_in_one_run():
    cloud, authlogs = str(shared("cloud")), str(shared("authlogs"))
    result = tocsin("scan", "--format", "jsonl", cloud, authlogs)
    # Walking a directory, an unrecognised file is reported but does not fail the run.
    assert result.returncode == 0, result.stderr
    total = sum(events for _, events, _ in EXPECTED.values())
    assert total == 11049
    formats = Counter(fmt for fmt, _, _ in EXPECTED.values() if fmt)
    listed = ", ".join(f"{n} {fmt}" for fmt, n in sorted(formats.items()))
    assert re.search(
        rf"^Read {len(EXPECTED) - len(LICENCES)} input\(s\), 11,049 events \({re.escape(listed)}\) in ",
        result.stderr,
        re.M,
    ), result.stderr
    not_read = re.findall(r"^  not read: (\S+): unrecognised format", result.stderr, re.M)
    assert sorted(not_read) == sorted(
        str(SHARED / name) for name, (fmt, _, _) in EXPECTED.items() if fmt is None and name not in LICENCES
    )
    # Licences found while walking a folder are not logs: passed over under their own reason.
    assert "  passed over 2 file(s) that are not logs: licence text (2)" in result.stderr.splitlines()
    assert skipped_lines(result.stderr) == {"not a okta record": 26}
    assert "Nothing was checked" not in result.stderr
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    brute = {a["group_by"]["source.address"]: a["event_count"] for a in alerts
             if a["rule"]["title"] == "Brute Force From One Source"}  # fmt: skip
    assert brute.get("183.62.140.253") == 286


def test_events_per_file_in_one_run():
    cloud, authlogs = str(shared("cloud")), str(shared("authlogs"))
    result = tocsin("events", cloud, authlogs)
    assert result.returncode == 0
    counts: Counter[str] = Counter()
    formats: dict[str, set[str]] = {}
    for line in result.stdout.splitlines():
        document = json.loads(line)
        path = document["log"]["file"]["path"]
        counts[path] += 1
        formats.setdefault(path, set()).add(document["tocsin"]["format"])
        assert document["@timestamp"] is None or document["@timestamp"].endswith("Z")
    expected = {str(SHARED / name): events for name, (fmt, events, _) in EXPECTED.items() if fmt}
    assert dict(counts) == expected
    assert formats == {str(SHARED / name): {fmt} for name, (fmt, _, _) in EXPECTED.items() if fmt}
    assert re.search(r"^11,049 events from 14 input\(s\)$", result.stderr, re.M)
    assert "  passed over 2 file(s) that are not logs: licence text (2)" in result.stderr.splitlines()
