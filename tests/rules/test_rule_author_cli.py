"""Done when: rule authors get errors that name the file and line, conditions are checked, the
SigmaHQ naming check is opt-in, convert takes paths, and list speaks JSON and ATT&CK Navigator."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import EXAMPLE, tocsin

RULE = """title: Failed SSH Logins
id: 11111111-2222-4333-8444-{suffix}
status: test
description: failed logins
author: tocsin tests
date: 2025-01-01
tags: [attack.credential-access, attack.t1110.001]
logsource: {{product: linux, service: sshd}}
detection:
    selection_fail:
        event.outcome: failure
    filter_local:
        source.ip: 127.0.0.1
    condition: {condition}
level: medium
"""


def _rule(folder: Path, name: str, condition: str, suffix: str) -> Path:
    path = folder / name
    path.write_text(RULE.format(condition=condition, suffix=suffix))
    return path


def test_undefined_identifier_in_condition_is_an_error(tmp_path):
    bad = _rule(tmp_path, "bad.yml", "selection_fail and not filtr_local", "555555555555")
    result = tocsin("rules", "check", str(bad))
    assert result.returncode == 1
    line = next(
        line for line in result.stdout.splitlines() if "filtr_local" in line and "[condition]" in line
    )
    assert line.startswith("error") and "condition names 'filtr_local'" in line
    good = _rule(tmp_path, "good.yml", "1 of selection_* and not filter_*", "555555555556")
    checked = tocsin("rules", "check", str(good))
    assert "[condition]" not in checked.stdout, checked.stdout


def test_yaml_errors_name_file_line_and_column(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("title: Broken\nid: 1\ndetection:\n  selection: [a, b\n  condition: selection\n")
    checked = tocsin("rules", "check", str(broken))
    assert (
        f"{broken}:5:12: expected ',' or ']'" in checked.stdout and "<unicode string>" not in checked.stdout
    )
    scanned = tocsin("scan", str(EXAMPLE), "--rules", str(broken), "--format", "jsonl")
    rejected = next(
        line for line in scanned.stderr.splitlines() if "rejected" in line and "broken.yml" in line
    )
    assert f"{broken}:5:12:" in rejected and "<unicode string>" not in scanned.stderr


def test_sigmahq_file_naming_only_with_the_layout_option(tmp_path):
    name = "a_file_name_much_longer_than_what_sigmahq_accepts_for_its_rules_and_then_some_more_words.yml"
    rule = _rule(tmp_path, name, "selection_fail and not filter_local", "555555555557")
    default = tocsin("rules", "check", str(rule))
    assert "filename" not in default.stdout.lower() and default.returncode == 0, default.stdout
    assert (
        "filename_length: SigmaHQ repository file-naming convention (use --sigmahq-layout)" in default.stderr
    )
    layout = tocsin("rules", "check", str(rule), "--sigmahq-layout")
    assert "filename is too short or long" in layout.stdout and layout.returncode == 1


def test_convert_takes_paths_as_arguments(tmp_path):
    rule = _rule(tmp_path, "rule.yml", "selection_fail and not filter_local", "555555555558")
    result = tocsin("rules", "convert", str(rule), "--target", "lucene")
    assert result.returncode == 0, result.stderr
    assert "# Failed SSH Logins" in result.stdout and "event.outcome:failure" in result.stdout


def test_list_as_json_with_yara_rules_and_as_a_navigator_layer(tmp_path):
    listed = json.loads(tocsin("rules", "list", "--format", "json").stdout)
    by_title = {rule["title"]: rule for rule in listed["rules"]}
    assert by_title["Brute Force From One Source"]["techniques"] == ["T1110.001"]
    yara = [rule for rule in listed["rules"] if rule["kind"] == "yara"]
    assert len(yara) >= 10 and by_title["Private Key In Clear"]["level"] in ("high", "critical")
    assert by_title["Bulk E-mail Addresses In A Payload"]["level"] == "medium"
    assert listed["coverage"]["techniques"]["T1110.001"] >= 2 and not listed["errors"]
    layer_file = tmp_path / "layer.json"
    assert tocsin("rules", "list", "--format", "navigator", "-o", str(layer_file)).returncode == 0
    layer = json.loads(layer_file.read_text())
    assert layer["domain"] == "enterprise-attack" and layer["versions"]["layer"] == "4.5"
    scores = {t["techniqueID"]: t for t in layer["techniques"]}
    assert scores["T1110.001"]["score"] == listed["coverage"]["techniques"]["T1110.001"]
    assert "Brute Force From One Source" in scores["T1110.001"]["comment"]
