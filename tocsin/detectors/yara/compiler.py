"""Compiling YARA rule files once: per-file errors reported, compiled rules cached by content hash.

``include`` statements are resolved by tocsin, not by libyara: only files in the including file's
folder or below are read (``include "/etc/shadow"`` is refused with its reason), and the content of
every included file is part of the cache key, so editing one recompiles.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yara

from tocsin.storage.cache import private_cache_dir, write_private

RULE_SUFFIXES = {".yar", ".yara"}
#: External variables signature-base (and LOKI/THOR-style rules) expect; set per scanned target.
EXTERNALS = {"filename": "", "filepath": "", "extension": "", "filetype": "", "owner": ""}
_INCLUDE = re.compile(rb'^[ \t]*include[ \t]+"([^"\n]+)"', re.MULTILINE)
#: Nested includes followed at most this deep.
_MAX_INCLUDE_DEPTH = 8


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
    errors: list[YaraLoadError] = []
    contents: dict[Path, bytes] = {}
    for file in files:
        try:
            contents.update(_with_includes(file, file.resolve().parent, 0))
        except (OSError, ValueError) as exc:
            errors.append(YaraLoadError(str(file), str(exc)))
    key = _cache_key(contents, errors)
    cache = private_cache_dir("yara") if use_cache else None
    if cache and (cached := _load_cached(cache, key)) is not None:
        return cached
    refused = {error.source for error in errors}
    namespaces = _namespaces([file for file in files if str(file) not in refused])
    rules = None
    try:
        rules = _compile(namespaces) if namespaces else None
    except yara.Error:
        good: dict[str, str] = {}
        for namespace, source in namespaces.items():
            try:
                _compile({namespace: source})
                good[namespace] = source
            except yara.Error as exc:
                errors.append(YaraLoadError(source, str(exc).removeprefix(f"{source}")))
        rules = _compile(good) if good else None
    result = CompiledYara(rules, len(files), errors)
    if cache:
        _store(cache, key, result)
    return result


def _compile(namespaces: dict[str, str]) -> yara.Rules:
    return yara.compile(filepaths=namespaces, externals=EXTERNALS, include_callback=_include)


def _include(requested: str, including: str | None, namespace: str) -> str | None:
    """libyara's include callback: the file's text when it lies in the including file's folder."""
    if not including:
        return None
    try:
        return _resolve_include(requested.encode(), Path(including).resolve().parent).read_text(
            encoding="utf-8"
        )
    except (OSError, ValueError, UnicodeDecodeError):
        return None  # libyara reports the include as failed, naming it


def _resolve_include(requested: bytes, folder: Path) -> Path:
    target = (folder / os.fsdecode(requested)).resolve()
    if not target.is_relative_to(folder):
        raise ValueError(f"include {os.fsdecode(requested)!r} refused: outside the rule folder {folder}")
    return target


def _with_includes(file: Path, folder: Path, depth: int) -> dict[Path, bytes]:
    """``file`` and every file it includes (checked to lie under ``folder``), with their contents."""
    if depth > _MAX_INCLUDE_DEPTH:
        raise ValueError(f"includes nested deeper than {_MAX_INCLUDE_DEPTH} levels")
    data = file.read_bytes()
    found = {file: data}
    for match in _INCLUDE.finditer(data):
        included = _resolve_include(match[1], file.resolve().parent)
        if not included.resolve().is_relative_to(folder):
            raise ValueError(f"include {os.fsdecode(match[1])!r} refused: outside the rule folder {folder}")
        found.update(_with_includes(included, folder, depth + 1))
    return found


def _namespaces(files: list[Path]) -> dict[str, str]:
    """One namespace per file, so equal rule names in different files do not collide."""
    namespaces: dict[str, str] = {}
    for file in files:
        name = file.stem
        while name in namespaces:
            name += "_"
        namespaces[name] = str(file)
    return namespaces


def _cache_key(contents: dict[Path, bytes], errors: list[YaraLoadError]) -> str:
    """Of every rule file and every file they include, and of the files refused before compiling."""
    digest = hashlib.sha256(f"{yara.__version__}\0{sorted(EXTERNALS)}".encode())
    for file, data in contents.items():
        digest.update(f"\0{file}\0".encode())
        digest.update(hashlib.sha256(data).digest())
    for error in errors:
        digest.update(f"\0refused\0{error.source}\0{error.reason}".encode())
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
        if result.rules is not None:
            compiled = io.BytesIO()
            result.rules.save(file=compiled)
            write_private(cache / f"{key}.yarc", compiled.getvalue())
        info = {
            "files": result.files,
            "compiled": result.rules is not None,
            "errors": [{"source": e.source, "reason": e.reason} for e in result.errors],
        }
        write_private(cache / f"{key}.json", json.dumps(info).encode())
    except (OSError, yara.Error):
        pass  # an unwritable cache only costs the next run a compile
