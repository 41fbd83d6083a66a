"""Every database tocsin keeps is created private and opened one way; look-ups never create one."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import shared
from tocsin.model.alert import Alert
from tocsin.respond.journal import Journal
from tocsin.scan import ScanRequest, run_scan
from tocsin.sources import ParseOptions
from tocsin.storage.cases import CaseStore
from tocsin.storage.sqlite import connect_read_only
from tocsin.watch.checkpoint import StateStore


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """What a library caller may run under: files others can read unless tocsin says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _scan_into(db: Path) -> list[Alert]:
    alerts: list[Alert] = []
    request = ScanRequest(
        paths=[str(shared("authlogs/OpenSSH_2k.log"))], parse=ParseOptions(year=2025), db=db
    )
    run_scan(request, alerts.append)
    return alerts


@pytest.mark.usefixtures("permissive_umask")
def test_databases_are_created_0600_and_the_state_directory_0700(tmp_path: Path) -> None:
    case_db = tmp_path / "case.db"
    assert _scan_into(case_db)
    state = StateStore(tmp_path / "state")
    state.close()
    journal = Journal(tmp_path / "journal.db", "tester")
    journal.close()
    assert _mode(case_db) == 0o600
    assert _mode(tmp_path / "state") == 0o700
    assert _mode(tmp_path / "state" / "state.db") == 0o600
    assert _mode(tmp_path / "journal.db") == 0o600


def test_a_case_database_reads_back_read_only_whatever_its_name(tmp_path: Path) -> None:
    case_db = tmp_path / "odd ?name#%20.db"
    alerts = _scan_into(case_db)
    connection = connect_read_only(case_db)
    try:
        stored = CaseStore(connection).alerts()
        assert {document["id"] for document in stored} == {alert.id for alert in alerts}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute("DELETE FROM alerts")
    finally:
        connection.close()


def test_reading_a_database_that_is_not_there_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(sqlite3.OperationalError):
        connect_read_only(missing)
    assert not missing.exists()
