"""Finding 9: a YAML "billion laughs" rule or playbook is refused with its reason, in bounded time and
memory, and the other rules still run."""

from __future__ import annotations

import time

from tests.hostile.conftest import Tocsin


def laughs(levels: int, head: list[str], tail: list[str]) -> str:
    lines = [*head, "    l0: &l0 [lol1, lol2, lol3, lol4, lol5, lol6, lol7, lol8, lol9]"]
    lines += [f"    l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join([*lines, *tail]) + "\n"


RULE_HEAD = ["title: Laughs", "id: 5b0a3e2c-6a2e-4d0b-9a51-3f5b7c0d9e11", "status: test", "level: low",
             "logsource: {product: linux, service: sshd}", "detection:"]  # fmt: skip


def test_billion_laughs_rule_is_rejected_and_the_scan_goes_on(tocsin: Tocsin) -> None:
    rules = tocsin.cwd / "rules"
    rules.mkdir()
    (rules / "laughs.yml").write_text(
        laughs(9, RULE_HEAD, ["    selection: {message|contains: *l8}", "    condition: selection"])
    )
    (tocsin.cwd / "auth.log").write_text("".join(
        f"Dec 10 10:{i:02d}:01 web01 sshd[{i}]: Failed password for root from 203.0.113.9 port {4000 + i} ssh2\n"
        for i in range(12)
    ))  # fmt: skip
    started = time.monotonic()
    result = tocsin.run("scan", "auth.log", "--rules", "rules", "--format", "jsonl")
    assert "laughs.yml: unreadable YAML: YAML document expands to more than 100,000" in result.stderr
    assert "Brute Force From One Source" in result.stdout
    converted = tocsin.run("rules", "convert", "--target", "lucene", "rules")
    assert len(converted.stdout) < 1000
    assert time.monotonic() - started < 60


def test_billion_laughs_playbook_is_invalid(tocsin: Tocsin) -> None:
    playbook = laughs(9, ["id: laughs", "title: Laughs", "trigger: {tags: [attack.t1110]}", "inputs:"],
                      ["steps: [{id: note, action: case.timeline, with: {text: hi}}]"])  # fmt: skip
    (tocsin.cwd / "laughs.yml").write_text(playbook)
    result = tocsin.run("playbooks", "validate", "laughs.yml", check=None)
    assert "expands to more than 100,000" in result.stdout + result.stderr
    assert "0 valid, 1 invalid" in result.stderr


def test_many_small_aliases_are_refused_and_a_bad_rule_file_is_named_as_the_pure_parser_names_it(
    tocsin: Tocsin,
) -> None:
    rules = tocsin.cwd / "rules"
    rules.mkdir()
    aliases = ", ".join(["*word"] * 101)  # expands to only 102 nodes: the alias count refuses it
    (rules / "aliases.yml").write_text(
        "\n".join([*RULE_HEAD, f"    words: &word [x]\n    more: [{aliases}]"])
    )
    (rules / "undefined.yml").write_text("\n".join([*RULE_HEAD, "    selection: {message: *nowhere}"]))
    result = tocsin.run("rules", "check", "rules", check=None)
    reported = " ".join((result.stdout + result.stderr).split())
    assert "aliases.yml: [yaml] unreadable YAML: more than 100 YAML aliases in one document" in reported
    assert "undefined.yml:7:26: found undefined alias 'nowhere'" in reported, reported  # libyaml: no name


def test_a_deeply_nested_rule_is_rejected_and_the_scan_goes_on(tocsin: Tocsin) -> None:
    rules = tocsin.cwd / "rules"
    rules.mkdir()
    for levels in (100, 5000):  # past the limit; past what the parsers' recursion can compose
        nested = "[" * levels + "x" + "]" * levels
        (rules / f"deep{levels}.yml").write_text("\n".join([*RULE_HEAD, f"    sel: {{message: {nested}}}"]))
    # Each anchor nests 40 levels around an alias of the one before: shallow as written, 1,200 levels
    # once expanded, where pySigma ran out of recursion.
    anchors = [f"    a{i}: &a{i} " + "[" * 40 + (f"*a{i - 1}" if i else "x") + "]" * 40 for i in range(30)]
    (rules / "deep-aliases.yml").write_text("\n".join([*RULE_HEAD, *anchors, "    sel: {message: *a29}"]))
    (tocsin.cwd / "auth.log").write_text("".join(
        f"Dec 10 10:{i:02d}:01 web01 sshd[{i}]: Failed password for root from 203.0.113.9 port {4000 + i} ssh2\n"
        for i in range(12)
    ))  # fmt: skip
    result = tocsin.run("scan", "auth.log", "--rules", "rules", "--format", "jsonl")
    for name in ("deep100", "deep5000", "deep-aliases"):
        assert f"{name}.yml: unreadable YAML: YAML nested more than 64 levels deep" in result.stderr
    assert "internal error" not in result.stderr and "Brute Force From One Source" in result.stdout
