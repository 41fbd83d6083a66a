"""Files a folder walk finds that are known not to be logs (licences, readmes, Kerberos keytabs) are passed
over under their own reason, not reported as unrecognised; named on the command line, they are still an error."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.test_cli import tocsin

SYSLOG = b"Dec 10 06:55:46 host sshd[24200]: Failed password for root from 203.0.113.9 port 22 ssh2\n"
KEYTAB = b"\x05\x02\x00\x00\x00\x60\x00\x02\x00\x0bEXAMPLE.COM\x00\x04host\x00\x04node"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "LICENSE.vendor").write_text("Copyright (c) 2026 Example. Permission is hereby granted...\n")
    (tmp_path / "README.md").write_text("# Samples\nThese are the samples.\n")
    (tmp_path / "krb").mkdir()
    (tmp_path / "krb" / "host.keytab").write_bytes(KEYTAB)
    (tmp_path / "auth.log").write_bytes(SYSLOG)
    return tmp_path


def test_a_folder_walk_passes_over_licences_readmes_and_keytabs(folder: Path) -> None:
    result = tocsin("scan", str(folder), "--format", "jsonl", "--strict", "-v")
    lines = result.stderr.splitlines()
    assert "unrecognised format" not in result.stderr
    summary = (
        "  passed over 3 file(s) that are not logs: Kerberos keytab (1), documentation (1), licence text (1)"
    )
    assert summary in lines, result.stderr
    assert f"    {folder / 'krb' / 'host.keytab'}: not a log: Kerberos keytab" in lines
    assert f"    {folder / 'LICENSE.vendor'}: not a log: licence text" in lines
    assert f"    {folder / 'README.md'}: not a log: documentation" in lines
    assert any(line.startswith("Read 1 input(s), 1 events (1 syslog)") for line in lines), result.stderr
    # Not logs are not skipped inputs: --strict does not fail the run for them.
    assert result.returncode == 0, result.stderr


def test_a_file_named_on_the_command_line_is_still_unrecognised(folder: Path) -> None:
    for name in ("LICENSE.vendor", "krb/host.keytab"):
        result = tocsin("scan", str(folder / name), "--format", "jsonl")
        assert result.returncode == 2
        assert f"tocsin: error: cannot read {folder / name}: unrecognised format" in result.stderr
        assert "passed over" not in result.stderr


def test_a_log_with_a_licence_name_is_read_and_an_unknown_file_still_reported(tmp_path: Path) -> None:
    (tmp_path / "license.log").write_bytes(SYSLOG)
    (tmp_path / "notes.txt").write_text("not a log and not known\n")
    result = tocsin("scan", str(tmp_path), "--format", "jsonl")
    assert "Read 2 input(s), 1 events (1 syslog)" in result.stderr
    assert f"  not read: {tmp_path / 'notes.txt'}: unrecognised format" in result.stderr
    assert "passed over" not in result.stderr


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is absent")
def test_every_file_of_the_shared_captures_is_read_or_passed_over() -> None:
    result = tocsin("scan", str(SHARED / "pcaps"), "--format", "jsonl")
    assert "unrecognised format" not in result.stderr, result.stderr
    summary = "  passed over 2 file(s) that are not logs: Kerberos keytab (1), licence text (1)"
    assert summary in result.stderr.splitlines(), result.stderr


def test_a_readme_inside_a_named_archive_is_passed_over(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("README.txt", "These are the logs of host.\n")
        opened.writestr("auth.log", SYSLOG)
    result = tocsin("scan", str(archive), "--format", "jsonl", "-v")
    assert result.returncode == 0, result.stderr
    assert f"    {archive}!README.txt: not a log: documentation" in result.stderr.splitlines()
    assert "unrecognised format" not in result.stderr
