"""Finding 7: a configuration value of the wrong type or range is a usage error naming the key, never a
filesystem walk, an internal error or a run that reads nothing and exits 0."""

from __future__ import annotations

import pytest

from tests.hostile.conftest import Tocsin

CASES = [
    ('rules = "my-rule.yml"', "[scan] rules", "expected a list of strings"),
    ('batch_size = "abc"', "[scan] batch_size", "expected an integer"),
    ("min_level = 5", "[scan] min_level", "expected a string"),
    ('min_level = "severe"', "[scan] min_level", "expected one of informational"),
    ('timezone = "Mars/Olympus"', "[scan] timezone", "unknown time zone"),
    ("max_record_bytes = -1", "[scan] max_record_bytes", "at least 1"),
    ("batch_size = 0", "[scan] batch_size", "at least 1"),
    ('builtin_rules = "no"', "[scan] builtin_rules", "expected true or false"),
    ("rule = []", "unknown setting [scan] rule", "known: rules"),
]


@pytest.mark.parametrize(("line", "key", "reason"), CASES)
def test_bad_setting_is_a_usage_error_naming_the_key(
    tocsin: Tocsin, line: str, key: str, reason: str
) -> None:
    (tocsin.cwd / "tocsin.toml").write_text(f"[scan]\n{line}\n")
    (tocsin.cwd / "auth.log").write_text(
        "Dec 10 10:00:01 web01 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2\n"
    )
    result = tocsin.run("scan", "auth.log", check=2)
    assert key in result.stderr and reason in result.stderr and "tocsin.toml" in result.stderr
    assert (
        "internal error" not in result.stderr and "Read " not in result.stderr
    )  # nothing was walked or read


def test_bad_environment_value_names_the_variable(tocsin: Tocsin) -> None:
    (tocsin.cwd / "auth.log").write_text("")
    tocsin.env["TOCSIN_SCAN_TIMEZONE"] = "Nowhere/Else"
    result = tocsin.run("scan", "auth.log", check=2)
    assert "TOCSIN_SCAN_TIMEZONE" in result.stderr and "unknown time zone" in result.stderr
    del tocsin.env["TOCSIN_SCAN_TIMEZONE"]
    option = tocsin.run("scan", "auth.log", "--timezone", "Nowhere/Else", check=2)
    assert "--timezone" in option.stderr and "internal error" not in option.stderr
