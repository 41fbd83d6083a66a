"""Installed rule packs: community Sigma rules copied into the user's rule directory.

A pack is a snapshot (``<directory>/<name>/rules/``) of a local SigmaHQ checkout, a folder of Sigma rules
or a release archive (.zip, .tar.gz), with a manifest (``pack.json``: source, installation time, a
content hash per rule id). Archives are hostile: members that would land outside the pack (absolute
paths, ``..``), links and special files refuse the whole archive, and member count, sizes and the
decompression ratio are bounded. Nothing is fetched from a network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from tocsin.detectors.sigma.ruleset import RULE_SUFFIXES, RuleLoadError, RuleSelection, builtin_rules_path
from tocsin.settings import RulePackSettings
from tocsin.sources.inputs import MAX_COMPRESSION_RATIO, STREAM_ERRORS

MANIFEST = "pack.json"
DISABLED = "disabled.json"
RULES = "rules"
#: A pack name: a file name of letters, digits, ``.``, ``_`` and ``-`` that does not start with a dot.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
#: A rule file larger than this is not copied (SigmaHQ's largest is about 40 kB).
MAX_RULE_BYTES = 1 << 20
#: Files (or archive members) a source may hold, and bytes of rules a pack may hold.
MAX_MEMBERS = 100_000
MAX_PACK_BYTES = 256 << 20
#: Decompressed bytes allowed beyond ``MAX_COMPRESSION_RATIO`` times the archive's size.
_RATIO_ALLOWANCE = 4 << 20
_LICENCE = re.compile(r"(licen[cs]e|copying|notice)(\.[\w.-]*)?", re.IGNORECASE)
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


class PackError(Exception):
    """A pack that cannot be installed, updated or removed, and why (shown to the user as is)."""


@dataclass
class Pack:
    """An installed pack, as its manifest describes it."""

    name: str
    path: Path
    source: str
    installed: str
    #: Content hash (sha256 of the rule file) per rule id; rules without an id are keyed by file.
    rules: dict[str, str]
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def rules_path(self) -> Path:
        return self.path / RULES


@dataclass
class Changes:
    """What ``update`` changed in a pack, by rule id."""

    added: list[str]
    removed: list[str]
    changed: list[str]


@dataclass
class _Snapshot:
    """Rule files read from a source: relative path -> content, plus what was left out and why."""

    files: dict[str, bytes] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    size: int = 0

    def add(self, relative: str, data: bytes) -> None:
        self.size += len(data)
        if self.size > MAX_PACK_BYTES:
            raise PackError(f"more than {MAX_PACK_BYTES >> 20} MiB of rules: not installed")
        self.files[relative] = data


def default_name(source: Path) -> str:
    """A pack name from its source: the folder's or the archive's name without its suffixes."""
    name = source.resolve().name
    for suffix in _ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).lstrip(".-") or "pack"
    return name[:64]


class PackStore:
    """The rule directory: one folder per pack, and the ids ``rules disable`` turned off."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def packs(self) -> tuple[list[Pack], list[RuleLoadError]]:
        """Installed packs, oldest first (a later pack's rule wins an id both hold), and the folders
        whose manifest could not be read."""
        packs, problems = [], []
        if not self.root.is_dir():
            return [], []
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            try:
                packs.append(_read_manifest(entry))
            except PackError as exc:
                problems.append(RuleLoadError(str(entry), f"rule pack not loaded: {exc}"))
        packs.sort(key=lambda pack: (pack.installed, pack.name))
        return packs, problems

    def pack(self, name: str) -> Pack:
        _check_name(name)
        path = self.root / name
        if not path.is_dir():
            raise PackError(f"no pack named {name!r} is installed (tocsin rules list shows them)")
        return _read_manifest(path)

    def install(self, source: Path, name: str | None = None) -> Pack:
        """Copy the rules of ``source`` into a new pack."""
        name = name or default_name(source)
        _check_name(name)
        if (self.root / name).exists():
            raise PackError(f"a pack named {name!r} is installed: tocsin rules update {source} --pack {name}")
        return self._store(name, source, read_source(source))

    def update(self, source: Path, name: str | None = None) -> tuple[Pack, Changes]:
        """Replace a pack's rules with those of ``source``; what was added, removed or changed."""
        old = self.pack(name or self._installed_from(source) or default_name(source))
        snapshot = read_source(source)
        staged = self._stage(old.name, source, snapshot)
        retired = self.root / f".retired-{old.name}-{os.getpid()}"
        os.replace(old.path, retired)
        os.replace(staged, old.path)
        shutil.rmtree(retired, ignore_errors=True)
        new = _read_manifest(old.path)
        before, after = old.rules, new.rules
        return new, Changes(
            added=sorted(set(after) - set(before)),
            removed=sorted(set(before) - set(after)),
            changed=sorted(key for key in set(before) & set(after) if before[key] != after[key]),
        )

    def remove(self, name: str) -> Pack:
        pack = self.pack(name)
        retired = self.root / f".retired-{name}-{os.getpid()}"
        os.replace(pack.path, retired)
        shutil.rmtree(retired)
        return pack

    def disabled(self) -> list[str]:
        """Rule ids turned off with ``tocsin rules disable``."""
        path = self.root / DISABLED
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise PackError(f"unreadable ({exc})") from None
        if not isinstance(document, list) or not all(isinstance(item, str) for item in document):
            raise PackError("not a list of rule ids")
        return document

    def set_disabled(self, ids: list[str]) -> None:
        self._make_root()
        _write_private(self.root / DISABLED, json.dumps(sorted(set(ids)), indent=1).encode())

    def selection(
        self, status: list[str], min_level: str, tags: list[str], disabled: list[str]
    ) -> tuple[list[Path], RuleSelection]:
        """The rule folders of the installed packs (oldest first) and the filters their rules pass;
        unreadable manifests are the selection's problems."""
        packs, problems = self.packs()
        try:
            turned_off = self.disabled()
        except PackError as exc:
            problems.append(RuleLoadError(str(self.root / DISABLED), str(exc)))
            turned_off = []
        selection = RuleSelection(
            roots=tuple(pack.rules_path.resolve() for pack in packs),
            statuses=frozenset(item.lower() for item in status),
            min_level=min_level,
            tags=tuple(tag.lower() for tag in tags),
            disabled=frozenset(item.lower() for item in [*disabled, *turned_off]),
            names={str(pack.rules_path.resolve()): f"pack {pack.name}" for pack in packs},
            problems=problems,
        )
        return [pack.rules_path for pack in packs], selection

    def _installed_from(self, source: Path) -> str | None:
        """The pack installed from ``source``, if one was."""
        resolved = str(source.resolve())
        packs, _ = self.packs()
        return next((pack.name for pack in packs if pack.source == resolved), None)

    def _make_root(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root.chmod(0o700)

    def _stage(self, name: str, source: Path, snapshot: _Snapshot) -> Path:
        """The pack written in a hidden folder beside its final place, to be renamed into it."""
        if not any(_is_rule_name(relative) for relative in snapshot.files):
            raise PackError(f"{source}: no Sigma rule found (.yml files with a detection or correlation)")
        self._make_root()
        staged = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=self.root))
        hashes: dict[str, str] = {}
        for relative, data in sorted(snapshot.files.items()):
            target = staged.joinpath(RULES, *PurePosixPath(relative).parts)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_private(target, data)
            if _is_rule_name(relative):
                digest = hashlib.sha256(data).hexdigest()
                for rule_id in _rule_ids(data) or [f"file:{relative}"]:
                    hashes[rule_id] = digest
        manifest = {
            "name": name,
            "source": str(source.resolve()),
            "installed": datetime.now(UTC).isoformat(timespec="microseconds"),
            "rule_count": len(hashes),
            "rules": hashes,
            "skipped": dict(snapshot.skipped),
        }
        _write_private(staged / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        return staged

    def _store(self, name: str, source: Path, snapshot: _Snapshot) -> Pack:
        staged = self._stage(name, source, snapshot)
        try:
            os.rename(staged, self.root / name)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise PackError(f"cannot install {name!r}: {exc.strerror or exc}") from None
        return _read_manifest(self.root / name)


def read_source(source: Path) -> _Snapshot:
    """The rule files (and licence files) of a folder or an archive."""
    try:
        if source.is_dir():
            return _read_folder(source)
        if source.is_file():
            with open(source, "rb") as handle:
                magic = handle.read(4)
            if magic == b"PK\x03\x04":
                return _read_zip(source)
            if tarfile.is_tarfile(source):
                return _read_tar(source)
            raise PackError(f"{source}: neither a folder nor a .zip or .tar(.gz/.bz2/.xz) archive")
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise PackError(f"{exc.filename or source}: {exc.strerror or exc}") from None
    except (*STREAM_ERRORS, tarfile.TarError) as exc:
        raise PackError(f"{source}: corrupt or unreadable archive ({type(exc).__name__}: {exc})") from None
    raise PackError(f"{source}: no such file or folder")


def _wanted(relative: str, snapshot: _Snapshot) -> bool:
    """Whether a file of the source belongs in the pack: rule files (not test-case ``info.yml``) and
    licences; anything in a hidden folder (``.git``, ``.github``) is left out."""
    parts = PurePosixPath(relative).parts
    if any(part.startswith(".") for part in parts):
        return False
    if _LICENCE.fullmatch(parts[-1]) and len(parts) <= 2:
        return True
    if _is_rule_name(relative):
        return True
    snapshot.skipped["not a rule file"] += 1
    return False


def _is_rule_name(relative: str) -> bool:
    name = PurePosixPath(relative).name
    return PurePosixPath(name).suffix.lower() in RULE_SUFFIXES and name != "info.yml"


def _accept(relative: str, data: bytes, snapshot: _Snapshot) -> None:
    """Keep a licence as is and a rule file if it holds a Sigma rule."""
    if not _is_rule_name(relative) or _is_sigma(data):
        snapshot.add(relative, data)
    else:
        snapshot.skipped["YAML that is not a Sigma rule"] += 1


def _read_folder(root: Path) -> _Snapshot:
    snapshot = _Snapshot()
    seen = 0
    for directory, subdirs, files in os.walk(root):
        links = [d for d in subdirs if os.path.islink(os.path.join(directory, d))]
        if links:
            snapshot.skipped["a link or special file"] += len(links)
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in links)
        for file in sorted(files):
            seen += 1
            if seen > MAX_MEMBERS:
                raise PackError(f"{root}: more than {MAX_MEMBERS} files: not installed")
            path = Path(directory, file)
            relative = path.relative_to(root).as_posix()
            if not _wanted(relative, snapshot):
                continue
            mode = path.lstat().st_mode
            if not stat.S_ISREG(mode):
                snapshot.skipped["a link or special file"] += 1
                continue
            if path.stat().st_size > MAX_RULE_BYTES:
                snapshot.skipped[f"larger than {MAX_RULE_BYTES >> 10} KiB"] += 1
                continue
            _accept(relative, path.read_bytes(), snapshot)
    return snapshot


def _member_path(name: str, archive: Path) -> str:
    """A member's path inside the pack; PackError for one that would land outside it."""
    normalised = name.replace("\\", "/")
    parts = PurePosixPath(normalised).parts
    if normalised.startswith("/") or re.match(r"[A-Za-z]:", normalised) or ".." in parts:
        raise PackError(f"{archive}: member {name!r} points outside the archive (path traversal): refused")
    return "/".join(part for part in parts if part not in ("", "."))


def _bounded_read(stream: IO[bytes], declared: int, archive: Path, name: str) -> bytes:
    """A member's bytes, refusing one that holds more than it declared."""
    data = stream.read(declared + 1)
    if len(data) > declared:
        raise PackError(f"{archive}: member {name!r} is larger than its header says: refused")
    return data


def _check_ratio(total: int, archive: Path) -> None:
    if total > MAX_COMPRESSION_RATIO * archive.stat().st_size + _RATIO_ALLOWANCE:
        raise PackError(
            f"{archive}: expands more than {MAX_COMPRESSION_RATIO}:1 (a decompression bomb?): refused"
        )


def _read_zip(archive: Path) -> _Snapshot:
    snapshot = _Snapshot()
    with zipfile.ZipFile(archive) as opened:
        members = opened.infolist()
        if len(members) > MAX_MEMBERS:
            raise PackError(f"{archive}: more than {MAX_MEMBERS} members: refused")
        _check_ratio(sum(member.file_size for member in members), archive)
        for member in members:
            relative = _member_path(member.filename, archive)
            kind = stat.S_IFMT(member.external_attr >> 16)
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise PackError(f"{archive}: member {member.filename!r} is a link or special file: refused")
            if member.is_dir() or not relative or not _wanted(relative, snapshot):
                continue
            if member.file_size > MAX_RULE_BYTES:
                snapshot.skipped[f"larger than {MAX_RULE_BYTES >> 10} KiB"] += 1
                continue
            with opened.open(member) as stream:
                _accept(relative, _bounded_read(stream, member.file_size, archive, member.filename), snapshot)
    return snapshot


def _read_tar(archive: Path) -> _Snapshot:
    snapshot = _Snapshot()
    total = count = 0
    with tarfile.open(archive, "r|*") as opened:
        for member in _tar_members(opened, archive):
            count += 1
            total += member.size
            if count > MAX_MEMBERS:
                raise PackError(f"{archive}: more than {MAX_MEMBERS} members: refused")
            _check_ratio(total, archive)
            relative = _member_path(member.name, archive)
            if not member.isfile() or not relative or not _wanted(relative, snapshot):
                continue
            if member.size > MAX_RULE_BYTES:
                snapshot.skipped[f"larger than {MAX_RULE_BYTES >> 10} KiB"] += 1
                continue
            stream = opened.extractfile(member)
            if stream is not None:
                _accept(relative, _bounded_read(stream, member.size, archive, member.name), snapshot)
    return snapshot


def _tar_members(opened: tarfile.TarFile, archive: Path) -> Iterator[tarfile.TarInfo]:
    for member in opened:
        if not (member.isfile() or member.isdir()):
            raise PackError(f"{archive}: member {member.name!r} is a link or special file: refused")
        yield member


def _is_sigma(data: bytes) -> bool:
    """Whether ``data`` is YAML holding a Sigma rule, correlation or filter (tocsin's stateful rules too)."""
    return bool(_documents(data))


def _documents(data: bytes) -> list[dict[str, Any]]:
    import yaml  # only when a pack is installed or updated: a scan's start-up does without it

    from tocsin import yamlsafe

    try:
        documents = [doc for doc in yamlsafe.load_all(data.decode("utf-8")) if isinstance(doc, dict)]
    except (UnicodeDecodeError, yaml.YAMLError, ValueError):
        return []
    keys = ("detection", "correlation", "filter", "stateful")
    return documents if any(key in doc for doc in documents for key in keys) else []


def _rule_ids(data: bytes) -> list[str]:
    return [str(doc["id"]) for doc in _documents(data) if isinstance(doc.get("id"), str | int)]


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or name in (".", ".."):
        raise PackError(
            f"{name!r} is not a pack name (letters, digits, '.', '_' and '-', at most 64, not starting with '.')"
        )


def _read_manifest(path: Path) -> Pack:
    try:
        document = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        rules = document["rules"]
        if not isinstance(rules, dict):
            raise TypeError("rules is not a mapping")
        return Pack(
            name=str(document["name"]),
            path=path,
            source=str(document["source"]),
            installed=str(document["installed"]),
            rules={str(key): str(value) for key, value in rules.items()},
            skipped={str(key): int(value) for key, value in dict(document.get("skipped") or {}).items()},
        )
    except FileNotFoundError:
        raise PackError(f"no {MANIFEST}: not a pack") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PackError(f"unreadable {MANIFEST} ({type(exc).__name__}: {exc})") from None


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def rule_selection(settings: RulePackSettings, installed: bool = True) -> tuple[list[Path], RuleSelection]:
    """The installed packs' rule folders (none when ``installed`` or the ``enabled`` setting is off) and the
    selection their rules pass, from the ``[rule_packs]`` settings; disabled ids apply to every rule."""
    paths, selection = PackStore(settings.directory).selection(
        settings.status, settings.min_level, settings.tags, settings.disabled
    )
    selection.names[str(builtin_rules_path().resolve())] = "the built-in pack"
    if not (installed and settings.enabled):
        return [], replace(selection, roots=(), problems=[])
    return paths, selection
