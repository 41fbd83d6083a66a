"""The compiled-rule cache: what it gives back is what compiling gives, and it is compiled again
whenever a rule file, an option or the folder's safety says so."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared
from tocsin.detectors.sigma.compiler import compile_rules
from tocsin.detectors.sigma.rulecache import RuleCache
from tocsin.detectors.sigma.ruleset import RuleSelection, builtin_rules_path, load_rules
from tocsin.model.alert import Level


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("TOCSIN_RULE_CACHE", raising=False)
    return home


def _entries(home: Path) -> list[Path]:
    return sorted((home / "tocsin" / "sigma").glob("*.json"))


def test_the_built_in_pack_reads_back_as_it_compiles(cache_home: Path) -> None:
    compiled = compile_rules([builtin_rules_path()])
    assert compiled.correlations and compiled.stateful and compiled.detections  # every kind is carried
    assert any(ref.child is not None for rule in compiled.correlations for ref in rule.references)
    first = load_rules([builtin_rules_path()])  # compiles, writes the entry
    assert len(_entries(cache_home)) == 1
    again = load_rules([builtin_rules_path()])
    assert first == compiled
    assert again == compiled
    assert again is not first


def test_community_rules_read_back_as_they_compile(cache_home: Path) -> None:
    rules = shared("sigma/sigmahq")  # Windows rules among them: pySigma's Windows pipelines applied
    compiled = compile_rules([rules])
    load_rules([rules])
    assert _entries(cache_home)
    assert load_rules([rules]) == compiled
    assert compiled.errors == load_rules([rules]).errors  # rejected rules are reported on every run


def test_an_edited_rule_file_compiles_again(cache_home: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(builtin_rules_path() / "authentication", rules)
    rule = next(path for path in sorted(rules.glob("*.yml")) if "level: high" in path.read_text())
    load_rules([rules])
    rule.write_text(rule.read_text().replace("level: high", "level: low", 1))
    edited = load_rules([rules])
    assert len(_entries(cache_home)) == 2
    assert edited == compile_rules([rules])
    assert any(
        loaded.info.level is Level.low and loaded.info.source == str(rule)
        for loaded in [*edited.detections, *edited.correlations]
    )


def test_other_options_are_another_entry(cache_home: Path) -> None:
    load_rules([builtin_rules_path()])
    selected = load_rules(
        [builtin_rules_path()], selection=RuleSelection(disabled=frozenset({"tocsin-ssh-brute-force"}))
    )
    assert len(_entries(cache_home)) == 2
    assert selected == compile_rules(
        [builtin_rules_path()], selection=RuleSelection(disabled=frozenset({"tocsin-ssh-brute-force"}))
    )


def test_an_unreadable_entry_is_compiled_again_and_replaced(cache_home: Path) -> None:
    compiled = compile_rules([builtin_rules_path()])
    load_rules([builtin_rules_path()])
    (entry,) = _entries(cache_home)
    cache = RuleCache(entry.parent)
    for damage in (b'{"format": 1, "ruleset": {"detections": [{"info": 3}]}}', b"\xff not JSON", b"[]"):
        entry.write_bytes(damage)
        assert cache.get(entry.stem) is None
        assert load_rules([builtin_rules_path()]) == compiled
        assert cache.get(entry.stem) == compiled  # replaced


def test_the_folder_and_entries_are_private(cache_home: Path) -> None:
    load_rules([builtin_rules_path()])
    folder = cache_home / "tocsin" / "sigma"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [stat.S_IMODE(entry.stat().st_mode) for entry in _entries(cache_home)] == [0o600]


def test_a_folder_others_may_write_to_is_not_used(cache_home: Path) -> None:
    folder = cache_home / "tocsin" / "sigma"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert RuleCache.open() is None
    load_rules([builtin_rules_path()])
    assert _entries(cache_home) == []


def test_the_cache_can_be_turned_off(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_RULE_CACHE", "off")
    assert load_rules([builtin_rules_path()]) == compile_rules([builtin_rules_path()])
    assert _entries(cache_home) == []


def test_a_run_with_a_warm_cache_does_not_import_pysigma(cache_home: Path) -> None:
    program = (
        "import sys; from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules; "
        "load_rules([builtin_rules_path()]); print(sorted(m for m in sys.modules if m.startswith('sigma')))"
    )
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    cold = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=environment, check=True
    )
    warm = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=environment, check=True
    )
    assert "sigma.collection" in cold.stdout
    assert warm.stdout.strip() == "[]"


def test_an_entry_that_cannot_be_touched_is_still_read(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache on a read-only mount (or an entry another process just pruned) costs no error: marking
    the entry as recently used is best effort."""
    compiled = load_rules([builtin_rules_path()])

    def refuse(*args: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(os, "utime", refuse)
    assert load_rules([builtin_rules_path()]) == compiled
