"""Opening inputs: files, directories, archives, compressed streams and stdin.

Everything here streams: a line is never longer in memory than the record
size limit, and compressed inputs are decompressed as they are read.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from tocsin.sources.base import InputSource, InputStats, SkippedInput, UnreadableInput

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class _Decompressor(Protocol):
    """What ``_Decompressed`` reads from: gzip, bz2 and lzma files, zip members."""

    def read1(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


def _gzip(raw: _Counting) -> _Decompressor:
    return gzip.GzipFile(fileobj=raw)


def _lzma(raw: _Counting) -> _Decompressor:
    # typeshed asks for IO[bytes]; LZMAFile, like GzipFile and BZ2File, only calls read().
    return lzma.LZMAFile(raw)  # type: ignore[arg-type]


_MAGIC_OPENERS: tuple[tuple[bytes, Callable[[_Counting], _Decompressor]], ...] = (
    (b"\x1f\x8b", _gzip),
    (b"BZh", bz2.BZ2File),
    (b"\xfd7zXZ\x00", _lzma),
)
_ZIP_MAGIC = b"PK\x03\x04"
#: How much of an input format detection looks at (after any blank lines at its start).
HEAD_BYTES = 65536
#: Bytes read at a time by ``line_blocks``.
_BLOCK = 1 << 20
_BLANK = b" \t\r\n"
#: What ``bytes.isspace`` calls white space (``str.isspace`` also counts Unicode spaces).
_BLANK_TEXT = " \t\n\r\x0b\x0c"
#: Errors a truncated or corrupt compressed stream raises mid-read.
STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
#: Decompressed bytes allowed per compressed byte read (logs compress 5-30:1; bombs 1000:1 and more),
#: beyond a first ``_BOMB_ALLOWANCE`` bytes.
MAX_COMPRESSION_RATIO = 100
_BOMB_ALLOWANCE = 4 << 20


class DecompressionLimit(OSError):
    """A compressed input expanding beyond ``MAX_COMPRESSION_RATIO``: the rest of it is not read."""


def stream_error_reason(exc: BaseException) -> str:
    """The skip reason of an error met while reading a (compressed) stream."""
    if isinstance(exc, DecompressionLimit):
        return str(exc)
    return f"truncated or corrupt compressed data ({type(exc).__name__})"


class _Counting(io.RawIOBase):
    """A compressed stream that counts the bytes the decompressor takes from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        view[: len(data)] = data
        self.consumed += len(data)
        return len(data)

    def read(self, size: int = -1, /) -> bytes:
        # RawIOBase.read is None only for a non-blocking stream with no data, which this never is.
        return super().read(size) or b""

    def close(self) -> None:
        self._raw.close()
        super().close()


#: Names skipped when walking a directory: our own outputs and obvious non-logs.
_SKIPPED_SUFFIXES = {".db", ".db-wal", ".db-shm", ".sqlite", ".pyc", ".png", ".jpg", ".pdf"}
#: Files of a folder that no parser recognised and that are known not to be logs, passed over under
#: their own reason rather than "unrecognised format": the name before its first dot (``LICENSE.zeek``)…
_NOT_LOG_NAMES = {
    "license": "licence text",
    "licence": "licence text",
    "copying": "licence text",
    "copyright": "licence text",
    "readme": "documentation",
    "changelog": "documentation",
    "authors": "documentation",
    "contributing": "documentation",
}
#: … or the first bytes (MIT Kerberos keytab versions 1 and 2).
_NOT_LOG_MAGICS = ((b"\x05\x01", "Kerberos keytab"), (b"\x05\x02", "Kerberos keytab"))


class _Decompressed(io.RawIOBase):
    """Raw view of a decompressor that hands out data one ``read1`` at a time.

    Buffering on top of ``read1`` (rather than ``read``) means that when a
    truncated stream raises, only the chunk being decompressed is lost, not
    the lines already decompressed into a buffer.
    """

    def __init__(self, decompressor: _Decompressor, consumed: Callable[[], int]) -> None:
        self._decompressor = decompressor
        self._consumed = consumed
        self._produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self._decompressor.read1(len(view))
        self._produced += len(data)
        if self._produced > MAX_COMPRESSION_RATIO * self._consumed() + _BOMB_ALLOWANCE:
            raise DecompressionLimit(
                f"compressed data expanding more than {MAX_COMPRESSION_RATIO}:1 (a decompression bomb?), rest not read"
            )
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._decompressor.close()
        super().close()


def _decompressing(raw: IO[bytes]) -> IO[bytes]:
    head = raw.peek(8)[:8] if isinstance(raw, io.BufferedReader) else b""
    opener = _decompressor_of(head)
    return raw if opener is None else _decompressed(opener, raw)


def _decompressor_of(head: bytes) -> Callable[[_Counting], _Decompressor] | None:
    """What decompresses a stream that starts with ``head``; None for a plain one."""
    return next((opener for magic, opener in _MAGIC_OPENERS if head.startswith(magic)), None)


def _decompressed(opener: Callable[[_Counting], _Decompressor], raw: IO[bytes]) -> IO[bytes]:
    counting = _Counting(raw)
    return io.BufferedReader(_Decompressed(opener(counting), lambda: counting.consumed))


class ReadMeter:
    """How far a run has read its inputs, for a progress display that polls it from another thread.

    Bytes are counted on disk: a compressed file by the compressed bytes its decompressor took, an
    archive member in proportion of its compressed size. Each input counts up to the furthest point
    read, so format detection reading its head again counts once.
    """

    def __init__(self) -> None:
        #: Bytes of all inputs; None when one has no known size (standard input, a FIFO).
        self.total: int | None = 0
        #: The input being read (or last read); None before the first.
        self.name: str | None = None
        #: Every input has been read (what remains is correlation and the end of the run).
        self.ended = False
        self._finished = 0
        self._offset = 0

    def expect(self, sources: list[InputSource]) -> None:
        sizes = [source.size for source in sources]
        self.total = None if None in sizes else sum(size or 0 for size in sizes)

    def start(self, source: InputSource) -> None:
        self.name, self._offset = source.name, 0

    def reached(self, offset: int) -> None:
        self._offset = max(self._offset, offset)

    def finish(self, source: InputSource) -> None:
        self._finished += source.size if source.size is not None else self._offset
        self._offset = 0

    def end(self) -> None:
        self.ended = True

    @property
    def read(self) -> int:
        done = self._finished + self._offset
        return done if self.total is None else min(done, self.total)


class _Metered(io.RawIOBase):
    """A raw stream that tells a :class:`ReadMeter` how far into its input it has read; ``scale``
    turns the decompressed bytes of an archive member into compressed ones."""

    def __init__(self, raw: io.RawIOBase, meter: ReadMeter, scale: float = 1.0) -> None:
        self._raw = raw
        self._meter = meter
        self._scale = scale
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = self._raw.readinto(buffer) or 0
        self._position += size
        self._meter.reached(int(self._position * self._scale))
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Window(io.RawIOBase):
    """At most ``size`` bytes of a raw stream: a part of a file."""

    def __init__(self, raw: io.RawIOBase, size: int) -> None:
        self._raw = raw
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")[: self._left]
        size = self._raw.readinto(view) or 0
        self._left -= size
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


def plain_size(source: InputSource) -> int | None:
    """The size of ``source`` when it is a plain (not compressed) file on disk, else None."""
    if source.path is None or source.first_line != 1:
        return None
    try:
        with open(source.path, "rb") as handle:
            head = handle.read(8)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return None
    return None if head.startswith(_ZIP_MAGIC) or _decompressor_of(head) else size


def cut_at_lines(source: InputSource, offsets: list[int]) -> list[InputSource]:
    """A plain file (``plain_size``) cut at the first line end at or after each of ``offsets``
    (ascending): parts that hold its lines once each, in order, each numbered from its first line.
    An offset with no line end after it cuts nothing."""
    assert source.path is not None
    path, cuts = source.path, list[int]()
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        for offset in offsets:
            cut = _next_line_start(handle, offset) if offset > (cuts[-1] if cuts else 0) else None
            if cut is not None and cut < size:
                cuts.append(cut)
        parts, line = [], 1
        handle.seek(0)
        for start, end in pairwise([0, *cuts]):
            parts.append(_part(source, start, end, line))
            line += _count_line_ends(handle, end - start)
    return [*parts, _part(source, cuts[-1] if cuts else 0, size, line)]


def _next_line_start(handle: IO[bytes], offset: int) -> int | None:
    """Where the first line starting at or after ``offset`` (above 0) starts, None past the last."""
    position = offset - 1
    handle.seek(position)
    while chunk := handle.read(_BLOCK):
        end = chunk.find(b"\n")
        if end >= 0:
            return position + end + 1
        position += len(chunk)
    return None


def _count_line_ends(handle: IO[bytes], size: int) -> int:
    """Line ends in the next ``size`` bytes of ``handle``."""
    count = 0
    while size > 0 and (chunk := handle.read(min(size, _BLOCK))):
        count += chunk.count(b"\n")
        size -= len(chunk)
    return count


def _part(source: InputSource, start: int, end: int, first_line: int) -> InputSource:
    assert source.path is not None
    path = source.path

    def opener() -> IO[bytes]:
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - the part's stream closes it
        raw.seek(start)
        return io.BufferedReader(_Window(raw, end - start))

    return replace(source, open=opener, size=end - start, first_line=first_line, head=None)


def not_a_log(source: InputSource, head: bytes) -> str | None:
    """Why ``source``, which no parser recognised, is known not to be a log (a licence, a readme, a
    Kerberos keytab); None otherwise. Only asked of files found in a folder or an archive: a file
    named on the command line that cannot be read is an error."""
    stem = source.name.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1].split(".", 1)[0].lower()
    if stem in _NOT_LOG_NAMES:
        return _NOT_LOG_NAMES[stem]
    return next((reason for magic, reason in _NOT_LOG_MAGICS if head.startswith(magic)), None)


def _file_source(path: Path, name: str, meter: ReadMeter | None, walked: bool = False) -> list[InputSource]:
    with open(path, "rb") as handle:
        head = handle.read(4)
    status = path.stat()
    if head == _ZIP_MAGIC:
        return list(_zip_members(path, name, status.st_mtime, meter))

    def opener() -> IO[bytes]:
        if meter is None:
            return _decompressing(open(path, "rb"))
        return _decompressing(io.BufferedReader(_Metered(open(path, "rb", buffering=0), meter)))

    return [
        InputSource(
            name=name, open=opener, path=path, mtime=status.st_mtime, size=status.st_size, walked=walked
        )
    ]


def _zip_members(path: Path, name: str, mtime: float, meter: ReadMeter | None) -> Iterator[InputSource]:
    try:
        archive = zipfile.ZipFile(path)
        members = [info for info in archive.infolist() if not info.is_dir()]
    except STREAM_ERRORS as exc:
        raise UnreadableInput(f"{name}: corrupt zip archive ({exc})") from exc
    for info in members:

        def opener(member: zipfile.ZipInfo = info) -> IO[bytes]:
            extracted = zipfile.ZipFile(path).open(member)  # noqa: SIM115 - closed with the stream
            if not isinstance(extracted, zipfile.ZipExtFile):  # typeshed: IO[bytes]; read1 is ZipExtFile's
                raise TypeError(f"unexpected zip member stream {type(extracted).__name__}")
            raw: io.RawIOBase = _Decompressed(extracted, lambda: member.compress_size)
            if meter is not None:
                raw = _Metered(raw, meter, member.compress_size / max(member.file_size, 1))
            return _decompressing(io.BufferedReader(raw))

        # Found in an archive, not named: a README member is passed over like a README in a folder.
        yield InputSource(
            name=f"{name}!{info.filename}", open=opener, mtime=mtime, size=info.compress_size, walked=True
        )


class _Replay(io.RawIOBase):
    """A stream that replays ``blank_lines`` empty lines and an already-read head, then continues
    with the rest."""

    def __init__(self, head: bytes, rest: IO[bytes], blank_lines: int = 0) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._blank_lines = blank_lines

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        if self._blank_lines:
            size = min(len(view), self._blank_lines)
            view[:size] = b"\n" * size
            self._blank_lines -= size
            return size
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def _stream_source(stream: IO[bytes], name: str) -> InputSource:
    """A stream read once (standard input, a FIFO, a device, ``<(command)``), its head read ahead for
    detection; blank lines at its start are counted, not kept, so detection sees the first content
    however many blank lines come before it."""
    stdin = stream
    blank_lines = 0
    head = stdin.read(HEAD_BYTES)
    while head and not head.strip(_BLANK):
        blank_lines += head.count(b"\n")
        tail = head[head.rfind(b"\n") + 1 :]
        head = (tail if len(tail) < HEAD_BYTES else b"") + stdin.read(HEAD_BYTES)

    def opener() -> IO[bytes]:
        return _decompressing(io.BufferedReader(_Replay(head, stdin, blank_lines)))

    return InputSource(name=name, open=opener, mtime=None, head=head)


_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                  (stat.S_ISSOCK, "a socket"))  # fmt: skip


def _kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), "not a regular file")


def resolve_inputs(
    paths: list[str], meter: ReadMeter | None = None
) -> Iterator[InputSource | UnreadableInput]:
    """Expand command-line paths into readable sources, in a stable order.

    Directories are walked recursively (sorted, hidden entries skipped);
    ``-`` is standard input. Problems are yielded, not raised, so that one
    unreadable path never stops the others. Files and archive members tell
    ``meter`` how far they have been read.
    """
    for given in paths:
        if given == "-":
            yield _stream_source(sys.stdin.buffer, "<stdin>")
            continue
        path = Path(given)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            yield UnreadableInput(f"{given}: {exc.strerror or exc}")
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):  # named on purpose: read as a stream
            try:
                yield _stream_source(open(path, "rb"), str(path.absolute()))  # noqa: SIM115 - read later
            except OSError as exc:
                yield UnreadableInput(f"{given}: {exc.strerror or exc}")
            continue
        for file in [path] if stat.S_ISREG(mode) else _walk(path):
            if isinstance(file, UnreadableInput):
                yield file
                continue
            try:
                yield from _file_source(file, str(file.absolute()), meter, walked=file is not path)
            except UnreadableInput as exc:
                yield exc
            except OSError as exc:
                yield UnreadableInput(f"{file}: {exc.strerror or exc}")


def _walk(root: Path) -> Iterator[Path | UnreadableInput]:
    """Regular files under ``root``; folders that cannot be listed are reported, and special files
    (FIFOs, devices, sockets), which could block or never end, are skipped with their kind."""
    problems: list[OSError] = []
    for directory, subdirs, files in os.walk(root, onerror=problems.append):
        while problems:
            error = problems.pop()
            yield UnreadableInput(f"{error.filename}: {error.strerror or error}")
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for file in sorted(files):
            if file.startswith(".") or Path(file).suffix.lower() in _SKIPPED_SUFFIXES:
                continue
            path = Path(directory) / file
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                yield UnreadableInput(f"{path}: {exc.strerror or exc}")
                continue
            if stat.S_ISREG(mode):
                yield path
            else:
                yield SkippedInput(f"{path}: {_kind(mode)}, skipped (name it to read it as a stream)")
    for error in problems:
        yield UnreadableInput(f"{error.filename}: {error.strerror or error}")


def line_blocks(
    stream: IO[bytes], stats: InputStats, max_bytes: int, first_line: int = 1
) -> Iterator[tuple[int, bytes]]:
    """The stream's complete lines a block at a time: ``(number of the block's first line, bytes)``,
    the stream's first line being number ``first_line``.

    A block ends with a line end (the last block of an input may not). A line that grows past
    ``max_bytes`` with no end in sight is counted and dropped without being held whole; its number
    is still counted. A truncated compressed stream ends the input with a count, not an exception.
    The stream is read with ``read1`` (one decompressed chunk), so a truncated stream loses only
    the chunk being decompressed.
    """
    number = first_line
    read = getattr(stream, "read1", stream.read)
    pending = b""  # the start of a line no block read so far has finished
    dropping = False  # the pending line is longer than max_bytes: its rest is dropped
    try:
        while chunk := read(_BLOCK):
            if dropping:
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                chunk, dropping, number = chunk[end + 1 :], False, number + 1
            data = pending + chunk if pending else chunk
            end = data.rfind(b"\n")
            if end >= 0:
                block, pending = data[: end + 1], data[end + 1 :]
                yield number, block
                number += block.count(b"\n")
            else:
                pending = data
            if len(pending) > max_bytes:
                stats.skip(f"record longer than {max_bytes} bytes")
                pending, dropping = b"", True
    except STREAM_ERRORS as exc:
        stats.skip(stream_error_reason(exc))
        return
    if pending:
        yield number, pending


def decode_lines(
    stream: IO[bytes], stats: InputStats, max_bytes: int, first_line: int = 1
) -> Iterator[tuple[int, str]]:
    """Decoded text lines with their line numbers, the stream's first line being number ``first_line``.

    Lines that are not UTF-8 are decoded as Latin-1 and counted; lines with NUL bytes are counted
    as binary and skipped; lines longer than ``max_bytes`` are skipped (see ``line_blocks``).
    """
    for first, block in line_blocks(stream, stats, max_bytes, first_line):
        yield from numbered_lines(first, block, stats, max_bytes)


def numbered_lines(first: int, block: bytes, stats: InputStats, max_bytes: int) -> Iterator[tuple[int, str]]:
    """The readable lines of a block of ``line_blocks``, decoded, with their numbers."""
    if b"\x00" not in block:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # the usual block, decoded at once: the same lines the loop below gives
            short = max_bytes // 4  # characters: a line this short is within max_bytes bytes
            for number, text_line in enumerate(text.split("\n"), first):
                if len(text_line) > short and len(text_line.encode()) > max_bytes:
                    stats.skip(f"record longer than {max_bytes} bytes")
                elif text_line.strip(_BLANK_TEXT):  # not only blanks, as bytes.isspace() sees them
                    yield number, text_line.rstrip("\r\n")
            return
    for number, line in enumerate(block.split(b"\n"), first):
        if len(line) > max_bytes:
            stats.skip(f"record longer than {max_bytes} bytes")
        elif (decoded := _decoded(line, stats)) is not None:
            yield number, decoded


def _decoded(line: bytes, stats: InputStats) -> str | None:
    """A line without its line end, as text; None (counted when it is binary) for nothing to read."""
    line = line.rstrip(b"\r\n")
    if not line or line.isspace():
        return None
    if b"\x00" in line:
        stats.skip("binary data (NUL bytes)")
        return None
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        stats.warn("not UTF-8, read as Latin-1")
        return line.decode("latin-1")


def read_head(source: InputSource, after_blank_lines: bool = False) -> bytes:
    """The first decompressed bytes of a source, for format detection; with ``after_blank_lines``,
    from its first line that is not blank, however many blank lines come before it."""
    if source.head is not None:
        stream = _decompressing(io.BufferedReader(io.BytesIO(source.head)))
    else:
        stream = source.open()
    head = bytearray()
    with stream:
        try:
            while len(head) < HEAD_BYTES and (chunk := stream.read(4096)):
                head += chunk
                if after_blank_lines:
                    content = len(head) - len(head.lstrip(_BLANK))  # where the first non-blank byte is
                    del head[: head.rfind(b"\n", 0, content) + 1]  # the blank lines before it
        except STREAM_ERRORS as exc:
            if not head.strip(_BLANK):  # nothing readable before the damage: not "empty"
                raise OSError(stream_error_reason(exc)) from exc
            # a truncated stream still has a readable beginning
    return bytes(head[:HEAD_BYTES])
