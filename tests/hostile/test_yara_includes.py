"""Finding 13: the YARA cache follows changes to included files, and includes outside the rule folder
are refused with their reason."""

from __future__ import annotations

import json

from tests.hostile.conftest import Tocsin


def _rule(marker: str) -> str:
    return f'rule planted_marker {{ strings: $a = "{marker}" condition: $a }}\n'


def _yara_rules(stdout: str) -> list[str]:
    return [json.loads(line)["rule"]["title"] for line in stdout.splitlines() if line.strip()]


def test_yara_cache_follows_included_files(tocsin: Tocsin) -> None:
    rules = tocsin.cwd / "yara"
    (rules / "parts").mkdir(parents=True)
    (rules / "main.yar").write_text('include "parts/strings.inc"\n')
    (rules / "parts" / "strings.inc").write_text(_rule("MARKER_ONE"))
    (tocsin.cwd / "note.txt").write_text("hello MARKER_ONE world\n")
    first = tocsin.run("scan", "note.txt", "--yara", "yara", "--format", "jsonl")
    assert any("planted_marker" in title for title in _yara_rules(first.stdout)), first.stdout + first.stderr
    (rules / "parts" / "strings.inc").write_text(_rule("MARKER_TWO"))
    second = tocsin.run("scan", "note.txt", "--yara", "yara", "--format", "jsonl")
    assert not any("planted_marker" in title for title in _yara_rules(second.stdout))


def test_include_outside_the_rule_folder_is_refused(tocsin: Tocsin) -> None:
    secret = tocsin.cwd / "secret.txt"
    secret.write_text("rule from_outside { condition: true }\n")
    rules = tocsin.cwd / "yara"
    rules.mkdir()
    (rules / "steal.yar").write_text(f'include "{secret}"\ninclude "../secret.txt"\n')
    (rules / "fine.yar").write_text(_rule("MARKER_ONE"))
    (tocsin.cwd / "note.txt").write_text("MARKER_ONE\n")
    result = tocsin.run("scan", "note.txt", "--yara", "yara", "--format", "jsonl")
    assert "steal.yar" in result.stderr and "refused: outside the rule folder" in result.stderr
    titles = _yara_rules(result.stdout)
    assert any("planted_marker" in title for title in titles) and not any("from_outside" in t for t in titles)
