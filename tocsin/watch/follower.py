"""Following files like a log shipper: new lines, new files, rotation, deletion.

A followed file is known by its *identity*: device, inode and a fingerprint
(hash of its first bytes, up to ``FINGERPRINT_BYTES``). The fingerprint tells
a file apart from a new one that reused its inode, and recognises a copy.

* Rotation by rename: the inode is the same, so reading goes on through the
  open descriptor under the new name, then the new file is read from its start.
* Rotation by copy-truncate: the original's size drops below what was read
  (or its first bytes change): it is read again from the start. The copy is a
  new inode whose first bytes are those of the original: it is read only from
  where the original had been read to, so the lines written between the last
  read and the copy are not lost, and nothing is read twice.
* Deleted while open: read to the end through the descriptor, then dropped.
* Compressed rotated files (``.gz``, ...) are ignored: their lines were read
  while the file was live.

Only complete lines are returned; a partial last line waits for its newline.
Offsets advance in memory as lines are read (``read_offset``); the service
stores them (``Checkpoint``) in the same transaction as the events, so a crash
resumes exactly after the last committed line.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import stat
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: How many first bytes identify a file.
FINGERPRINT_BYTES = 1024
#: A copy is only recognised from a fingerprint at least this long (short heads collide).
MIN_COPY_FINGERPRINT = 64
#: Rotated, compressed files: never followed.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".z", ".7z")
#: A file that left the watched patterns (renamed away) is closed after this long without growth.
CLOSE_INACTIVE = 300.0


def fingerprint(head: bytes) -> str:
    return hashlib.blake2b(head, digest_size=16).hexdigest()


@dataclass
class Checkpoint:
    """What is persisted per file identity."""

    key: str
    path: str
    dev: int
    ino: int
    fp_len: int
    fp_hash: str
    offset: int
    format: str | None = None


@dataclass
class Chunk:
    """Complete lines read from one file: ``data`` spans bytes ``start`` to ``end``."""

    followed: Followed
    start: int
    data: bytes


@dataclass
class Followed:
    """A file being followed, with its open descriptor."""

    key: str
    path: str
    dev: int
    ino: int
    fp_len: int
    fp_hash: str
    read_offset: int
    fd: int
    format: str | None = None
    unsupported: str | None = None
    size: int = 0
    last_growth: float = field(default_factory=time.monotonic)
    in_patterns: bool = True

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            self.key, self.path, self.dev, self.ino, self.fp_len, self.fp_hash, self.read_offset, self.format
        )

    def head(self, length: int = FINGERPRINT_BYTES) -> bytes:
        return os.pread(self.fd, length, 0)


def _expand(patterns: list[str]) -> Iterator[str]:
    """Files named by paths, directories (every file in them) and glob patterns."""
    for pattern in patterns:
        if os.path.isdir(pattern):
            candidates = sorted(str(path) for path in Path(pattern).iterdir())
        elif glob.has_magic(pattern):
            candidates = sorted(glob.glob(pattern))
        else:
            candidates = [pattern]
        for candidate in candidates:
            if candidate.lower().endswith(COMPRESSED_SUFFIXES):
                continue
            yield os.path.abspath(candidate)


class Follower:
    """Follows the files named by ``patterns`` (see module doc)."""

    def __init__(self, patterns: list[str], checkpoints: list[Checkpoint], max_line: int = 1 << 20) -> None:
        self.patterns = patterns
        self.max_line = max_line
        self.files: dict[str, Followed] = {}
        self.dropped: list[str] = []  # keys of files gone for good, to forget in the checkpoint store
        self._saved = {(c.dev, c.ino): c for c in checkpoints}
        # Fingerprints of what was read before a truncation (or before a restart): copies resume there.
        self._history: deque[tuple[int, str, int]] = deque(maxlen=256)
        for saved in checkpoints:
            self._history.append((saved.fp_len, saved.fp_hash, saved.offset))

    # -- discovery -------------------------------------------------------------------

    def discover(self) -> None:
        """Open files that appeared, and notice renames (same inode under another name)."""
        by_inode = {(f.dev, f.ino): f for f in self.files.values()}
        seen: set[str] = set()
        for path in _expand(self.patterns):
            try:
                info = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            known = by_inode.get((info.st_dev, info.st_ino))
            if known is not None:
                known.path = path
                seen.add(known.key)
                continue
            followed = self._open(path, info)
            if followed is not None:
                self.files[followed.key] = followed
                by_inode[(followed.dev, followed.ino)] = followed
                seen.add(followed.key)
        for followed in self.files.values():
            followed.in_patterns = followed.key in seen

    def _open(self, path: str, info: os.stat_result) -> Followed | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        head = os.pread(fd, FINGERPRINT_BYTES, 0)
        saved = self._saved.pop((info.st_dev, info.st_ino), None)
        if (
            saved is not None
            and len(head) >= saved.fp_len
            and fingerprint(head[: saved.fp_len]) == saved.fp_hash
        ):
            offset = saved.offset if saved.offset <= info.st_size else 0
            return Followed(
                saved.key,
                path,
                info.st_dev,
                info.st_ino,
                saved.fp_len,
                saved.fp_hash,
                offset,
                fd,
                saved.format,
            )
        key = f"{info.st_dev}:{info.st_ino}:{fingerprint(head)[:12]}:{time.time_ns()}"
        offset = self._copied_offset(head, info.st_size)
        return Followed(key, path, info.st_dev, info.st_ino, len(head), fingerprint(head), offset, fd)

    def _copied_offset(self, head: bytes, size: int) -> int:
        """Where to start a new file: after what was already read if it is a copy of a followed file.

        While the original is not yet truncated, the copy's bytes are also the original's: they
        are read from the copy, and the original skips them, so nothing is read twice."""
        best = 0
        for followed in list(self.files.values()):
            if not self._is_copy(head, followed.fp_len, followed.fp_hash):
                continue
            best = max(best, min(followed.read_offset, size))
            try:
                original = os.fstat(followed.fd).st_size
            except OSError:
                continue
            if original >= size and os.pread(followed.fd, len(head), 0) == head:
                followed.read_offset = max(followed.read_offset, size)
        for fp_len, fp_hash, offset in self._history:
            if self._is_copy(head, fp_len, fp_hash):
                best = max(best, min(offset, size))
        return best

    @staticmethod
    def _is_copy(head: bytes, fp_len: int, fp_hash: str) -> bool:
        return MIN_COPY_FINGERPRINT <= fp_len <= len(head) and fingerprint(head[:fp_len]) == fp_hash

    # -- reading ---------------------------------------------------------------------

    def read(self, budget: int) -> list[Chunk]:
        """Complete new lines of every file, at most about ``budget`` bytes in all."""
        chunks: list[Chunk] = []
        now = time.monotonic()
        for followed in list(self.files.values()):
            if budget <= 0:
                break
            try:
                info = os.fstat(followed.fd)
            except OSError:
                self._drop(followed)
                continue
            self._check_truncation(followed, info.st_size)
            if info.st_size > followed.read_offset and not followed.unsupported:
                chunk = self._read_lines(followed, min(budget, info.st_size - followed.read_offset))
                if chunk is not None:
                    chunks.append(chunk)
                    budget -= len(chunk.data)
                    followed.last_growth = now
            followed.size = info.st_size
            at_end = followed.read_offset >= info.st_size or followed.unsupported
            if at_end and info.st_nlink == 0:
                self._drop(followed)  # deleted while open, and read to its end
            elif at_end and not followed.in_patterns and now - followed.last_growth > CLOSE_INACTIVE:
                self._drop(followed)  # renamed out of the watched patterns and quiet
        return chunks

    def _check_truncation(self, followed: Followed, size: int) -> None:
        if size >= followed.read_offset and followed.fp_len == FINGERPRINT_BYTES and size == followed.size:
            return  # unchanged and fully fingerprinted: nothing to check
        head = followed.head()
        same_start = len(head) >= followed.fp_len and fingerprint(head[: followed.fp_len]) == followed.fp_hash
        if size < followed.read_offset or not same_start:
            # Truncated (copy-truncate) or rewritten in place: read it again from the start.
            self._history.append((followed.fp_len, followed.fp_hash, followed.read_offset))
            followed.read_offset = 0
        if len(head) != followed.fp_len or not same_start:
            followed.fp_len, followed.fp_hash = len(head), fingerprint(head)

    def _read_lines(self, followed: Followed, want: int) -> Chunk | None:
        start = followed.read_offset
        data = os.pread(followed.fd, max(want, 1), start)
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) >= self.max_line:  # one over-long line: pass it whole to be skipped and counted
                end = len(data) - 1
            else:
                return None
        data = data[: end + 1]
        followed.read_offset = start + len(data)
        return Chunk(followed, start, data)

    def _drop(self, followed: Followed) -> None:
        with contextlib.suppress(OSError):
            os.close(followed.fd)
        self.files.pop(followed.key, None)
        self.dropped.append(followed.key)

    def close(self) -> None:
        for followed in self.files.values():
            with contextlib.suppress(OSError):
                os.close(followed.fd)
        self.files.clear()
