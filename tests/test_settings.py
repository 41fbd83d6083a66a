"""Typed settings as a user meets them: the file, the TOCSIN_<SECTION>__<KEY> variables and their
older aliases, misspelt keys, and the usage errors of the commands that read them."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.test_cli import EXAMPLE, jsonl
from tocsin.settings import Settings, load_settings


def tocsin(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``tocsin`` in ``cwd`` with ``env`` and none of the caller's TOCSIN_* variables."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("TOCSIN_")}
    return subprocess.run(
        [sys.executable, "-m", "tocsin", *args], capture_output=True, text=True, timeout=300, cwd=cwd,
        env={**inherited, **env},
    )  # fmt: skip


def shown(tmp_path: Path, **env: str) -> dict:
    """``tocsin config show`` in ``tmp_path`` with ``env``, read back as TOML."""
    result = tocsin("config", "show", cwd=tmp_path, env=_env(tmp_path, env))
    assert result.returncode == 0, result.stderr
    return tomllib.loads(result.stdout)


def _env(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    return {"HOME": str(tmp_path), **env}


def test_a_misspelt_key_is_a_usage_error_naming_the_key_and_the_file(tmp_path):
    config = tmp_path / "site.toml"
    config.write_text('[elasticsearch]\nurll = "http://127.0.0.1:9200"\n')
    for command in (("config", "show"), ("scan", str(EXAMPLE)), ("es", "replay"), ("incidents", "list")):
        result = tocsin(*command, "--config", str(config), cwd=tmp_path, env=_env(tmp_path, {}))
        assert result.returncode == 2, (command, result.stderr)
        assert f"{config}: unknown setting [elasticsearch] urll (known: url," in " ".join(
            result.stderr.split()
        )
        assert "internal error" not in result.stderr


def test_a_misspelt_variable_is_a_usage_error_naming_it(tmp_path):
    result = tocsin("config", "show", cwd=tmp_path, env=_env(tmp_path, {"TOCSIN_SCAN__MIN_LEVL": "high"}))
    assert (
        result.returncode == 2 and "TOCSIN_SCAN__MIN_LEVL: unknown setting [scan] min_levl" in result.stderr
    )
    section = tocsin("config", "show", cwd=tmp_path, env=_env(tmp_path, {"TOCSIN_SCNA__MIN_LEVEL": "high"}))
    assert section.returncode == 2 and "TOCSIN_SCNA__MIN_LEVEL: unknown section [scna]" in section.stderr


def test_section_double_underscore_key_sets_a_setting_and_scan_obeys_it(tmp_path):
    assert shown(tmp_path, TOCSIN_SCAN__MIN_LEVEL="high")["scan"]["min_level"] == "high"
    assert shown(tmp_path, TOCSIN_RESPONSE__PLAYBOOKS="a.yml, b/")["response"]["playbooks"] == ["a.yml", "b/"]
    everything = tocsin("scan", str(EXAMPLE), "--format", "jsonl", cwd=tmp_path, env=_env(tmp_path, {}))
    high = tocsin(
        "scan",
        str(EXAMPLE),
        "--format",
        "jsonl",
        cwd=tmp_path,
        env=_env(tmp_path, {"TOCSIN_SCAN__MIN_LEVEL": "high"}),
    )
    assert (
        len(jsonl(everything.stdout)) == 5 and len(jsonl(high.stdout)) == 4
    )  # the medium alert is below high


def test_the_older_names_are_aliases_and_the_new_scheme_wins(tmp_path):
    assert shown(tmp_path, TOCSIN_SCAN_MIN_LEVEL="low")["scan"]["min_level"] == "low"
    both = shown(tmp_path, TOCSIN_SCAN_MIN_LEVEL="low", TOCSIN_SCAN__MIN_LEVEL="critical")
    assert both["scan"]["min_level"] == "critical"
    elastic = shown(
        tmp_path, TOCSIN_ES_URL="http://127.0.0.1:9", TOCSIN_ELASTICSEARCH_URL="http://127.0.0.1:8"
    )
    assert elastic["elasticsearch"]["url"] == "http://127.0.0.1:9"  # the documented short name wins
    assert shown(tmp_path, TOCSIN_ELASTICSEARCH__CHUNK_SIZE="7")["elasticsearch"]["chunk_size"] == 7


def test_a_variable_overrides_one_key_of_the_file_and_keeps_the_others(tmp_path):
    (tmp_path / "tocsin.toml").write_text(
        '[scan]\nmin_level = "high"\nbatch_size = 100\n\n[sigma.placeholders]\nadmins = ["root"]\n'
    )
    settings = shown(
        tmp_path,
        TOCSIN_SCAN__MIN_LEVEL="low",
        TOCSIN_WEB__FAILURE_STATUSES="403, 429",
        TOCSIN_SIGMA__PLACEHOLDERS='{"operators": ["pi"]}',
    )
    assert settings["scan"]["min_level"] == "low" and settings["scan"]["batch_size"] == 100
    assert settings["web"]["failure_statuses"] == [403, 429]  # a list of integers, read as integers
    assert settings["sigma"]["placeholders"] == {"admins": ["root"], "operators": ["pi"]}  # tables merge
    bad = tocsin(
        "config", "show", cwd=tmp_path, env=_env(tmp_path, {"TOCSIN_WEB__FAILURE_STATUSES": "401,x"})
    )
    assert bad.returncode == 2 and "TOCSIN_WEB__FAILURE_STATUSES='401,x': expected integers" in bad.stderr


def test_a_bad_variable_value_names_the_variable_it_came_from(tmp_path):
    for name in ("TOCSIN_SCAN__BATCH_SIZE", "TOCSIN_SCAN_BATCH_SIZE"):
        result = tocsin("config", "show", cwd=tmp_path, env=_env(tmp_path, {name: "0"}))
        assert (
            result.returncode == 2
            and f"{name}: [scan] batch_size = '0': expected an integer of at least 1" in (result.stderr)
        )


def test_config_show_prints_typed_values_with_secrets_masked(tmp_path):
    config = tmp_path / "tocsin.toml"
    config.write_text(
        '[smtp]\npassword = "hunter2-smtp"\nsecurity = "TLS"\n\n[sigma.placeholders]\nadmins = ["root"]\n'
    )
    config.chmod(0o600)
    settings = shown(tmp_path, TOCSIN_WEBHOOK__TOKEN="hunter2-hook")
    assert settings["smtp"] == {**settings["smtp"], "password": "****", "security": "tls"}
    assert (
        settings["webhook"]["token"] == "****" and settings["scim"]["token"] == ""
    )  # unset secrets stay empty
    assert settings["sigma"]["placeholders"] == {"admins": ["root"]}
    assert isinstance(settings["watch"]["batch_delay"], float) and settings["scan"]["batch_size"] == 50_000


def test_watch_rejects_a_bad_level_as_scan_does(tmp_path):
    for command in ("scan", "watch"):
        result = tocsin(command, str(EXAMPLE), "--min-level", "bogus", cwd=tmp_path, env=_env(tmp_path, {}))
        assert result.returncode == 2, (command, result.stderr)
        assert "Invalid value for '--min-level': unknown level 'bogus'" in result.stderr


def test_the_defaults_taken_as_they_are_equal_the_validated_defaults(tmp_path, monkeypatch) -> None:
    """With nothing configured the defaults are taken without validation: they must be what
    validating them gives."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in [name for name in os.environ if name.startswith("TOCSIN_")]:
        monkeypatch.delenv(name)
    loaded = load_settings()
    assert loaded.source is None
    assert loaded == Settings()
    assert loaded.model_dump() == Settings().model_dump()
