"""Community rule packs: `tocsin rules install|update|remove|disable|enable`, and plain `tocsin scan`
loading the installed packs through the status, level and tag filters."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.conftest import SHARED
from tests.test_cli import EXAMPLE, jsonl, tocsin

#: The id of a built-in rule (API Token Or Access Key Created) that a pack may redefine.
BUILTIN_ID = "7b3f9e21-5c6d-4a8e-b0f2-3d4c5e6f7a82"


def rule(
    rule_id: str, title: str, status: str | None = "stable", level: str = "medium", tag: str = ""
) -> str:
    """A Sigma rule matching sshd failures in tocsin/examples/auth.log."""
    lines = [
        f"title: {title}",
        f"id: {rule_id}",
        *([f"status: {status}"] if status else []),
        "description: sshd failures",
        "author: tocsin tests",
        "date: 2026-12-03",
        *([f"tags: [{tag}]"] if tag else []),
        "logsource: {product: linux, service: sshd}",
        "detection:",
        "    selection:",
        "        event.outcome: failure",
        "    condition: selection",
        f"level: {level}",
    ]
    return "\n".join(lines) + "\n"


def make_pack(root: Path) -> Path:
    """A folder in SigmaHQ's shape: rules of several statuses, a test case, other files."""
    (root / "rules" / "linux").mkdir(parents=True)
    (root / ".github").mkdir()
    files = {
        "rules/linux/stable.yml": rule("00000000-0000-4000-8000-000000000001", "Pack Stable", "stable"),
        "rules/linux/test.yml": rule("00000000-0000-4000-8000-000000000002", "Pack Test", "test", "low"),
        "rules/linux/experimental.yml": rule(
            "00000000-0000-4000-8000-000000000003", "Pack Experimental", "experimental"
        ),
        "rules/linux/no_status.yml": rule("00000000-0000-4000-8000-000000000004", "Pack No Status", None),
        "rules/linux/info.yml": "id: 1\nregression_tests_info: []\n",
        "rules/linux/config.yml": "just: settings\n",
        ".github/workflow.yml": rule("00000000-0000-4000-8000-000000000005", "Hidden", "stable"),
        "README.md": "# rules\n",
        "LICENSE.DRL": "Detection Rule License\n",
    }
    for relative, text in files.items():
        (root / relative).write_text(text)
    return root


def titles(result) -> Counter[str]:
    return Counter(alert["rule"]["title"] for alert in jsonl(result.stdout))


def packs_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "tocsin" / "rules"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_DATA_HOME": str(tmp_path / "data")}


def test_install_copies_a_private_snapshot_that_scan_loads_through_the_status_filter(tmp_path, env):
    source = make_pack(tmp_path / "sigma")
    installed = tocsin("rules", "install", str(source), env=env)
    assert installed.returncode == 0, installed.stderr
    assert "installed pack sigma: 4 rule(s) from" in installed.stderr
    pack = packs_dir(env) / "sigma"
    copied = sorted(
        p.relative_to(pack / "rules").as_posix() for p in (pack / "rules").rglob("*") if p.is_file()
    )
    assert copied == [
        "LICENSE.DRL",
        "rules/linux/experimental.yml",
        "rules/linux/no_status.yml",
        "rules/linux/stable.yml",
        "rules/linux/test.yml",
    ]
    for path in [packs_dir(env), pack, *pack.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    manifest = json.loads((pack / "pack.json").read_text())
    assert manifest["name"] == "sigma" and manifest["source"] == str(source.resolve())
    assert manifest["rule_count"] == 4 and manifest["installed"]
    assert set(manifest["rules"]) == {f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 4)}
    assert all(len(digest) == 64 for digest in manifest["rules"].values())

    # A snapshot: the source may go away.
    for file in source.rglob("*.yml"):
        file.unlink()
    scanned = tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=env)
    assert scanned.returncode == 0, scanned.stderr
    found = titles(scanned)
    assert found["Pack Stable"] > 0 and found["Pack Test"] == found["Pack Stable"]
    assert "Pack Experimental" not in found and "Pack No Status" not in found
    assert (
        "  2 rule(s) left out by the rule-pack filters: status experimental (2)"
        in scanned.stderr.splitlines()
    )
    without = tocsin("scan", str(EXAMPLE), "--format", "jsonl", "--no-installed-rules", env=env)
    assert not {"Pack Stable", "Pack Test"} & set(titles(without)) and "left out" not in without.stderr


def test_status_level_and_tag_filters_are_settings(tmp_path, env):
    source = tmp_path / "tagged"
    source.mkdir()
    (source / "a.yml").write_text(
        rule(
            "00000000-0000-4000-8000-0000000000a1", "Tagged High", "experimental", "high", "attack.t1110.001"
        )
    )
    (source / "b.yml").write_text(
        rule("00000000-0000-4000-8000-0000000000b1", "Untagged Low", "experimental", "low")
    )
    assert tocsin("rules", "install", str(source), env=env).returncode == 0
    every_status = {**env, "TOCSIN_RULE_PACKS__STATUS": "stable,test,experimental"}
    assert set(titles(tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=every_status))) >= {
        "Tagged High",
        "Untagged Low",
    }
    high = tocsin(
        "scan",
        str(EXAMPLE),
        "--format",
        "jsonl",
        env={**every_status, "TOCSIN_RULE_PACKS__MIN_LEVEL": "medium"},
    )
    assert "Tagged High" in titles(high) and "Untagged Low" not in titles(high)
    assert "level below medium (1)" in high.stderr
    tagged = tocsin(
        "scan",
        str(EXAMPLE),
        "--format",
        "jsonl",
        env={**every_status, "TOCSIN_RULE_PACKS__TAGS": "attack.t1110*"},
    )
    assert "Tagged High" in titles(tagged) and "Untagged Low" not in titles(tagged)
    assert "none of the selected tags (1)" in tagged.stderr


def test_disable_and_enable_a_rule_and_the_last_installed_id_wins(tmp_path, env):
    source = make_pack(tmp_path / "sigma")
    (source / "rules" / "linux" / "override.yml").write_text(rule(BUILTIN_ID, "Pack Override"))
    assert tocsin("rules", "install", str(source), env=env).returncode == 0
    scanned = tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=env)
    assert titles(scanned)["Pack Override"] > 0
    assert {a["rule"]["id"] for a in jsonl(scanned.stdout) if a["rule"]["title"] == "Pack Override"} == {
        BUILTIN_ID
    }
    notes = [line for line in scanned.stderr.splitlines() if "loaded more than once" in line]
    assert notes == [
        f"  1 rule id(s) loaded more than once, the last loaded wins: e.g. {BUILTIN_ID} (Pack Override) "
        "from pack sigma over the built-in pack"
    ]

    disabled = tocsin("rules", "disable", "00000000-0000-4000-8000-000000000001", BUILTIN_ID, env=env)
    assert disabled.returncode == 0, disabled.stderr
    after = tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=env)
    assert "Pack Stable" not in titles(after) and "Pack Override" not in titles(after)
    assert "disabled (3)" in after.stderr  # the id's built-in rule and the pack's, and Pack Stable
    listed = tocsin("rules", "list", env={**env, "COLUMNS": "400"})
    assert "disabled rule ids: 00000000-0000-4000-8000-000000000001, " + BUILTIN_ID in listed.stdout
    assert tocsin("rules", "enable", "00000000-0000-4000-8000-000000000001", env=env).returncode == 0
    again = tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=env)
    assert "Pack Stable" in titles(again) and "Pack Override" not in titles(again)
    # The configuration's list applies too, whatever `rules enable` says.
    configured = tocsin(
        "scan",
        str(EXAMPLE),
        "--format",
        "jsonl",
        env={**env, "TOCSIN_RULE_PACKS__DISABLED": "00000000-0000-4000-8000-000000000002"},
    )
    assert "Pack Test" not in titles(configured)
    enabled = tocsin(
        "rules",
        "enable",
        "00000000-0000-4000-8000-000000000002",
        env={**env, "TOCSIN_RULE_PACKS__DISABLED": "00000000-0000-4000-8000-000000000002"},
    )
    assert enabled.stderr.splitlines()[1:] == [
        "  were not disabled: 00000000-0000-4000-8000-000000000002",
        "  still disabled by [rule_packs] disabled in the configuration",
    ]


def test_rules_list_shows_packs_counts_per_log_source_and_filters(tmp_path, env):
    assert (
        tocsin(
            "rules", "install", str(make_pack(tmp_path / "sigma")), "--name", "community", env=env
        ).returncode
        == 0
    )
    listed = tocsin("rules", "list", env={**env, "COLUMNS": "400"})
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "│ community" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[2:5] == ["4", "2", "linux/sshd (2)"]
    assert "installed rules load with status stable, test, level ≥ informational" in listed.stdout
    assert "  left out: 2 rule(s): status experimental" in listed.stdout
    assert "Pack Stable" in listed.stdout and "Pack Experimental" not in listed.stdout


def test_update_reports_added_removed_and_changed_rules_and_remove_deletes(tmp_path, env):
    source = make_pack(tmp_path / "sigma")
    assert tocsin("rules", "install", str(source), env=env).returncode == 0
    (source / "rules" / "linux" / "test.yml").unlink()
    stable = source / "rules" / "linux" / "stable.yml"
    stable.write_text(stable.read_text().replace("level: medium", "level: high"))
    (source / "rules" / "linux" / "new.yml").write_text(
        rule("00000000-0000-4000-8000-000000000009", "Pack New")
    )
    updated = tocsin("rules", "update", str(source), env=env)
    assert updated.returncode == 0, updated.stderr
    lines = updated.stderr.splitlines()
    assert lines[0] == "updated pack sigma: 4 rule(s); 1 added, 1 removed, 1 changed"
    assert lines[1:4] == [
        "  added 00000000-0000-4000-8000-000000000009",
        "  removed 00000000-0000-4000-8000-000000000002",
        "  changed 00000000-0000-4000-8000-000000000001",
    ]
    assert "Pack New" in titles(tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=env))
    again = tocsin("rules", "install", str(source), env=env)
    assert again.returncode == 2 and f"tocsin rules update {source} --pack sigma" in again.stderr
    removed = tocsin("rules", "remove", "sigma", env=env)
    assert removed.returncode == 0 and "removed pack sigma (4 rule(s))" in removed.stderr
    assert not (packs_dir(env) / "sigma").exists()
    assert "Pack New" not in titles(tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=env))
    for args in (("remove", "sigma"), ("remove", "../etc"), ("update", str(source), "--pack", "nope")):
        refused = tocsin("rules", *args, env=env)
        assert refused.returncode == 2 and refused.stderr.startswith("tocsin: error: ")
        assert "Traceback" not in refused.stderr


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def _tar(path: Path, members: dict[str, bytes], kinds: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, kind in (kinds or {}).items():
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd"
            archive.addfile(info)
    return path


GOOD = rule("00000000-0000-4000-8000-000000000001", "Pack Stable").encode()


def test_release_archives_install_like_folders(tmp_path, env):
    for archive in (
        _zip(tmp_path / "sigma_all_rules.zip", {"rules/linux/a.yml": GOOD, "LICENSE": b"DRL"}),
        _tar(tmp_path / "sigma_core.tar.gz", {"sigma/rules/linux/a.yml": GOOD}),
    ):
        installed = tocsin("rules", "install", str(archive), env=env)
        assert installed.returncode == 0, installed.stderr
    assert sorted(p.name for p in packs_dir(env).iterdir()) == ["sigma_all_rules", "sigma_core"]
    scanned = tocsin("scan", str(EXAMPLE), "--format", "jsonl", env=env)
    assert "1 rule id(s) loaded more than once" in scanned.stderr


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        (
            "traversal.zip",
            lambda p: _zip(p, {"rules/a.yml": GOOD, "../../escape.yml": GOOD}),
            "path traversal",
        ),
        ("absolute.tar.gz", lambda p: _tar(p, {"/tmp/escape.yml": GOOD}), "path traversal"),
        (
            "link.zip",
            lambda p: _zip(p, {"rules/a.yml": GOOD}, links=("rules/passwd.yml",)),
            "link or special file",
        ),
        (
            "link.tar.gz",
            lambda p: _tar(p, {"rules/a.yml": GOOD}, {"rules/b.yml": tarfile.SYMTYPE}),
            "link or special file",
        ),
        (
            "hard.tar.gz",
            lambda p: _tar(p, {"rules/a.yml": GOOD}, {"rules/b.yml": tarfile.LNKTYPE}),
            "link or special file",
        ),
        (
            "bomb.zip",
            lambda p: _zip(p, {"rules/a.yml": GOOD, "rules/zeros.bin": bytes(64 << 20)}),
            "decompression bomb",
        ),
        (
            "bomb.tar.gz",
            lambda p: _tar(p, {"rules/a.yml": GOOD, "rules/zeros.bin": bytes(64 << 20)}),
            "decompression bomb",
        ),
        (
            "truncated.zip",
            lambda p: p.write_bytes(_zip(p, {"rules/a.yml": GOOD * 50}).read_bytes()[:300]) and p,
            "corrupt",
        ),
        ("notes.txt", lambda p: p.write_text("not an archive") and p, "neither a folder nor"),
        ("empty.zip", lambda p: _zip(p, {"README.md": b"# nothing"}), "no Sigma rule found"),
    ],
)
def test_hostile_archives_are_refused_whole(tmp_path, env, name, make, reason):
    archive = make(tmp_path / name)
    refused = tocsin("rules", "install", str(archive), env=env)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("tocsin: error: ") and reason in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    root = packs_dir(env)
    assert not root.exists() or not [p for p in root.iterdir() if p.is_dir()]
    assert not (tmp_path / "escape.yml").exists() and not Path("/tmp/escape.yml").exists()


def test_a_folder_s_links_are_not_followed(tmp_path, env):
    source = tmp_path / "linked"
    source.mkdir()
    (source / "a.yml").write_bytes(GOOD)
    secret = tmp_path / "secret.yml"
    secret.write_text(rule("00000000-0000-4000-8000-00000000000f", "Outside"))
    os.symlink(secret, source / "b.yml")
    os.symlink(tmp_path, source / "outside")
    installed = tocsin("rules", "install", str(source), env=env)
    assert installed.returncode == 0, installed.stderr
    assert "  not copied: 2 file(s): a link or special file" in installed.stderr.splitlines()
    copied = packs_dir(env) / "linked" / "rules"
    assert [p.name for p in copied.iterdir()] == ["a.yml"]


def _statuses(folder: Path) -> dict[str, str]:
    """Rule id -> status of every rule under ``folder`` (no status: experimental)."""
    found = {}
    for path in folder.rglob("*.yml"):
        document = yaml.safe_load(path.read_text())
        found[str(document["id"])] = str(document.get("status") or "experimental")
    return found


def _alert_counts(result) -> Counter[str]:
    assert result.returncode in (0, 1), result.stderr
    return Counter(alert["rule"]["id"] for alert in jsonl(result.stdout))


@pytest.mark.skipif(
    not (SHARED / "sigma" / "sigmahq").exists(), reason="../shared/data/sigma/sigmahq is absent"
)
def test_installed_sigmahq_raises_what_rules_sigmahq_raises(env):
    """Done when: with SigmaHQ installed, plain `tocsin scan` raises what `--rules` raises.

    `--rules` loads every status (naming a folder is choosing its rules); installed packs default to
    stable and test. So: with the installed filter opened to every status the two runs raise exactly
    the same alerts (rule ids and counts), and with the default filter the installed run raises
    exactly the `--rules` alerts of the built-in rules and the stable and test SigmaHQ rules.
    """
    sigmahq, cloud = SHARED / "sigma" / "sigmahq", SHARED / "cloud"
    assert tocsin("rules", "install", str(sigmahq), env=env).returncode == 0
    named = _alert_counts(
        tocsin(
            "scan", str(cloud), "--format", "jsonl", "--no-installed-rules", "--rules", str(sigmahq), env=env
        )
    )
    every = {**env, "TOCSIN_RULE_PACKS__STATUS": "stable,test,experimental,deprecated,unsupported"}
    assert _alert_counts(tocsin("scan", str(cloud), "--format", "jsonl", env=every)) == named
    statuses = _statuses(sigmahq)
    default = _alert_counts(tocsin("scan", str(cloud), "--format", "jsonl", env=env))
    assert default == Counter(
        {rule_id: n for rule_id, n in named.items() if statuses.get(rule_id, "stable") in ("stable", "test")}
    )
    assert default != named  # experimental SigmaHQ rules do fire on these samples: the filter is visible
    okta = _alert_counts(tocsin("scan", str(cloud / "okta.jsonl"), "--format", "jsonl", env=env))
    okta_named = _alert_counts(
        tocsin(
            "scan",
            str(cloud / "okta.jsonl"),
            "--format",
            "jsonl",
            "--no-installed-rules",
            "--rules",
            str(sigmahq),
            env=env,
        )
    )
    # 17 built-in + 31 from SigmaHQ's Okta rules (3 read target.displayName through Okta's list of targets)
    assert okta == okta_named and sum(okta.values()) == 48
