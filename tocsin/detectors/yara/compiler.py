"""Compiling YARA rule files once: per-file errors reported, compiled rules cached by content hash."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yara

RULE_SUFFIXES = {".yar", ".yara"}
#: External variables signature-base (and LOKI/THOR-style rules) expect; set per scanned target.
EXTERNALS = {"filename": "", "filepath": "", "extension": "", "filetype": "", "owner": ""}


@dataclass
class YaraLoadError:
    """A rule file that did not compile, and why."""

    source: str
    reason: str


@dataclass
class CompiledYara:
    """The rules that compiled (None when none did) and the files that did not."""

    rules: yara.Rules | None
    files: int
    errors: list[YaraLoadError] = field(default_factory=list)
    cached: bool = False

    @property
    def compiled_files(self) -> int:
        return self.files - len(self.errors)


def builtin_yara_path() -> Path:
    return Path(str(resources.files("tocsin") / "rules" / "yara"))


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tocsin" / "yara"


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Rule files under the given files and directories, sorted, hidden entries skipped."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(
                file
                for file in path.rglob("*")
                if file.suffix.lower() in RULE_SUFFIXES
                and file.is_file()
                and not any(part.startswith(".") for part in file.relative_to(path).parts)
            )
    return found


def compile_rules(paths: Iterable[Path], use_cache: bool = True) -> CompiledYara:
    """Compile every rule file; a file that fails is reported with its reason and left out."""
    files = rule_files(paths)
    if not files:
        return CompiledYara(None, 0)
    contents = {file: file.read_bytes() for file in files}
    key = _cache_key(contents)
    cache = cache_dir()
    if use_cache and (cached := _load_cached(cache, key)) is not None:
        return cached
    namespaces = _namespaces(files)
    errors: list[YaraLoadError] = []
    try:
        rules = yara.compile(filepaths=namespaces, externals=EXTERNALS)
    except yara.Error:
        good: dict[str, str] = {}
        for namespace, file in namespaces.items():
            try:
                yara.compile(filepath=file, externals=EXTERNALS)
                good[namespace] = file
            except yara.Error as exc:
                errors.append(YaraLoadError(file, str(exc).removeprefix(f"{file}")))
        rules = yara.compile(filepaths=good, externals=EXTERNALS) if good else None
    result = CompiledYara(rules, len(files), errors)
    if use_cache:
        _store(cache, key, result)
    return result


def _namespaces(files: list[Path]) -> dict[str, str]:
    """One namespace per file, so equal rule names in different files do not collide."""
    namespaces: dict[str, str] = {}
    for file in files:
        name = file.stem
        while name in namespaces:
            name += "_"
        namespaces[name] = str(file)
    return namespaces


def _cache_key(contents: dict[Path, bytes]) -> str:
    digest = hashlib.sha256(f"{yara.__version__}\0{sorted(EXTERNALS)}".encode())
    for file, data in contents.items():
        digest.update(f"\0{file}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:32]


def _load_cached(cache: Path, key: str) -> CompiledYara | None:
    meta = cache / f"{key}.json"
    compiled = cache / f"{key}.yarc"
    try:
        info = json.loads(meta.read_text())
        rules = yara.load(str(compiled)) if info["compiled"] else None
    except (OSError, ValueError, KeyError, yara.Error):
        return None
    errors = [YaraLoadError(**error) for error in info["errors"]]
    return CompiledYara(rules, info["files"], errors, cached=True)


def _store(cache: Path, key: str, result: CompiledYara) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        if result.rules is not None:
            temporary = cache / f"{key}.yarc.tmp{os.getpid()}"
            result.rules.save(str(temporary))
            temporary.replace(cache / f"{key}.yarc")
        info = {
            "files": result.files,
            "compiled": result.rules is not None,
            "errors": [{"source": e.source, "reason": e.reason} for e in result.errors],
        }
        (cache / f"{key}.json").write_text(json.dumps(info))
    except (OSError, yara.Error):
        pass  # an unwritable cache only costs the next run a compile
