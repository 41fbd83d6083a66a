"""Streaming JSON records out of JSON Lines, JSON arrays and concatenated objects.

Accepted shapes, detected from the first bytes:

* JSON Lines: one object per line (the fast path);
* a JSON array of objects, possibly pretty-printed over many lines;
* an object wrapping the array under ``Records``/``records``/``value``/``events``
  (CloudTrail files, Azure exports, Graph API pages);
* concatenated, possibly pretty-printed objects, with stray lines between them
  (``evtx_dump -o json`` writes ``Record N`` before each one).

Memory is bounded by the record size limit: a record larger than that is
skipped and counted, never accumulated. Nesting is bounded too: a record nested
deeper than ``MAX_JSON_DEPTH`` is skipped and counted, so neither the decoder nor
any walk over the value can exhaust the stack.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from tocsin.sources.base import InputStats
from tocsin.sources.inputs import (
    STREAM_ERRORS,
    decode_lines,
    line_blocks,
    numbered_lines,
    stream_error_reason,
)

_WRAPPED_ARRAY = re.compile(rb'\A\s*\{\s*"(?:Records|records|value|events)"\s*:\s*\[')


def _finite(text: str) -> float | str:
    """A JSON number as a float, or as its text when it overflows (``1e999``): output stays valid JSON."""
    value = float(text)
    return value if math.isfinite(value) else text


# NaN, Infinity and -Infinity (not JSON, but Python's decoder accepts them) stay text too.
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=str)
_NEXT_OBJECT_LINE = re.compile(r"\n\s*\{")
_CHUNK = 1 << 16
#: No log record nests deeper; deeper values are skipped (and counted) as hostile.
MAX_JSON_DEPTH = 64
TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"

Record = tuple[str, str, Any]


def too_deep(raw: str, value: Any) -> bool:
    """Whether ``value`` (decoded from ``raw``) nests deeper than ``MAX_JSON_DEPTH``; walked without
    recursion, and only when ``raw`` holds enough brackets to nest that deep."""
    if raw.count("[") + raw.count("{") <= MAX_JSON_DEPTH:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class TooDeep(ValueError):
    """A JSON value nested deeper than ``MAX_JSON_DEPTH``."""


#: A UTF-16 surrogate code point: a \uXXXX escape can spell one alone, which no UTF-8 output holds.
_SURROGATE = re.compile("[\ud800-\udfff]")
UNPAIRED_SURROGATE = "JSON string with an unpaired surrogate escape, read with U+FFFD in its place"


def without_surrogates(text: str, value: Any) -> tuple[Any, bool]:
    """``value``, decoded from ``text`` by Python's decoder (orjson refuses what follows), with every
    unpaired surrogate of its strings and keys replaced by U+FFFD; and whether there was one. Left in,
    one stops every later step that writes UTF-8 (Arrow columns, JSON output); ``value`` is at most
    ``MAX_JSON_DEPTH`` deep (checked before)."""
    if "\\ud" not in text and "\\uD" not in text:  # an escaped pair decodes to one character
        return value, False
    repaired = _replace_surrogates(value)
    return repaired, repaired != value


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_SURROGATE.sub("\ufffd", key): _replace_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    return value


def loads(text: str, stats: InputStats | None = None) -> Any:
    """One JSON value: decoded by orjson when it can, else by Python's decoder (integers beyond 64 bits;
    numbers that overflow, NaN and Infinity kept as text; unpaired surrogates as U+FFFD, counted in
    ``stats``); raises ``TooDeep`` beyond ``MAX_JSON_DEPTH`` and ``ValueError`` when malformed."""
    try:
        return _checked(text, orjson.loads(text))
    except orjson.JSONDecodeError:
        try:
            value = _checked(text, _DECODER.decode(text))
        except RecursionError:
            raise TooDeep(TOO_DEEP) from None
    value, replaced = without_surrogates(text, value)
    if replaced and stats is not None:
        stats.warn(UNPAIRED_SURROGATE)
    return value


def _checked(text: str, value: Any) -> Any:
    """``value``, decoded from ``text``, unless it nests deeper than ``MAX_JSON_DEPTH`` (``TooDeep``)."""
    if too_deep(text, value):
        raise TooDeep(TOO_DEEP)
    return value


def iter_json_records(
    stream: IO[bytes], stats: InputStats, max_bytes: int, first_line: int = 1
) -> Iterator[Record]:
    """Yield ``(offset, raw_text, value)`` for each JSON record of the stream (its first line is
    number ``first_line``)."""
    head = stream.peek(_CHUNK)[:_CHUNK] if hasattr(stream, "peek") else b""
    if is_json_lines(head, first_line):
        yield from iter_json_lines(stream, stats, max_bytes, first_line)
    else:
        yield from _iter_buffered(stream, stats, max_bytes, array=_is_array(head))


def is_json_lines(head: bytes, first_line: int = 1) -> bool:
    """True when a stream starting with ``head`` holds one JSON object per line. A part of a file
    (``first_line`` above 1, cut only from JSON Lines files) always does, whatever its first line
    holds."""
    return first_line > 1 or (not _is_array(head) and _first_line_is_object(_unpadded(head)))


def _unpadded(head: bytes) -> bytes:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


def _is_array(head: bytes) -> bool:
    stripped = _unpadded(head)
    return stripped.startswith(b"[") or _WRAPPED_ARRAY.match(stripped) is not None


def _first_line_is_object(head: bytes) -> bool:
    line = head.split(b"\n", 1)[0].strip()
    if not line.startswith(b"{"):
        return False
    try:
        return isinstance(_DECODER.decode(line.decode("utf-8", "replace")), dict)
    except (ValueError, RecursionError):
        return False


def iter_json_lines(
    stream: IO[bytes], stats: InputStats, max_bytes: int, first_line: int = 1
) -> Iterator[Record]:
    """Yield ``(line number, raw_text, value)`` for each line of a JSON Lines stream whose first line
    is number ``first_line``."""
    return json_line_records(decode_lines(stream, stats, max_bytes, first_line), stats)


def json_line_records(lines: Iterable[tuple[int, str]], stats: InputStats) -> Iterator[Record]:
    """``(line number, raw_text, value)`` of numbered JSON Lines; malformed and hostile lines counted."""
    for number, text, value in _decoded_lines(lines, stats):
        yield str(number), text, value


def _decoded_lines(lines: Iterable[tuple[int, str]], stats: InputStats) -> Iterator[tuple[int, str, Any]]:
    """Each numbered line's number, text and value; blank lines passed over, malformed and hostile
    ones counted and skipped.

    The usual line is decoded by orjson right here (this loop runs once per record of the largest
    inputs); what orjson refuses goes through ``loads``.
    """
    decode, refused = orjson.loads, orjson.JSONDecodeError
    for number, line in lines:
        text = line.strip()
        if not text:
            continue
        try:
            value = decode(text)
            # too_deep's own first test, inlined: most lines hold too few brackets to need the walk
            if text.count("{") + text.count("[") > MAX_JSON_DEPTH and too_deep(text, value):
                raise TooDeep(TOO_DEEP)
        except refused:
            try:
                value = loads(text, stats)
            except TooDeep:
                stats.skip(TOO_DEEP)
                continue
            except ValueError:
                stats.skip("malformed JSON")
                continue
        except TooDeep:
            stats.skip(TOO_DEEP)
            continue
        yield number, text, value


@dataclass
class JsonLines:
    """Records of consecutive JSON lines as columns: line numbers, the lines, the values; or the
    lines alone, not yet decoded (``decoded`` False: see ``json_line_blocks``)."""

    numbers: list[int] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    decoded: bool = True

    def __len__(self) -> int:
        return len(self.raws)

    def extend(self, other: JsonLines) -> None:
        """Append ``other``, decoded as these are (a caller never mixes them)."""
        if not self.raws:
            self.decoded = other.decoded
        elif self.decoded != other.decoded:
            raise ValueError("decoded and undecoded JSON lines mixed")
        self.numbers += other.numbers
        self.raws += other.raws
        self.values += other.values

    def select(self, rows: list[int]) -> JsonLines:
        """The decoded records at positions ``rows``."""
        return JsonLines(
            [self.numbers[row] for row in rows],
            [self.raws[row] for row in rows],
            [self.values[row] for row in rows],
        )

    def take(self, count: int) -> JsonLines:
        """The first ``count`` records, removed from these."""
        taken = JsonLines(self.numbers[:count], self.raws[:count], self.values[:count], self.decoded)
        del self.numbers[:count], self.raws[:count], self.values[:count]
        return taken

    def decode(self, stats: InputStats) -> JsonLines:
        """These lines decoded, one by one: malformed and hostile ones counted and skipped."""
        return _lines(_decoded_lines(zip(self.numbers, self.raws, strict=True), stats))


def _lines(records: Iterable[tuple[int, str, Any]]) -> JsonLines:
    lines = JsonLines()
    for number, raw, value in records:
        lines.numbers.append(number)
        lines.raws.append(raw)
        lines.values.append(value)
    return lines


def json_line_blocks(
    stream: IO[bytes], stats: InputStats, max_bytes: int, first_line: int = 1, columnar: bool = False
) -> Iterator[JsonLines]:
    """The records of a JSON Lines stream whose first line is number ``first_line``, a block of lines
    at a time.

    A plain block (``_plain_block``) is decoded in one sweep of C calls, with no Python code run per
    line; any other block goes line by line through ``_decoded_lines``, which counts what it skips.
    Both give the same records: the sweep only takes blocks where nothing would be skipped. With
    ``columnar`` (a caller that reads batches of lines into columns, ``tocsin.sources.flatjson``),
    a plain block's lines come undecoded: that caller decodes, with ``JsonLines.decode``, the lines
    its reader does not take.
    """
    for first, block in line_blocks(stream, stats, max_bytes, first_line):
        lines = _plain_block(first, block, max_bytes, decode=not columnar)
        if lines is None:
            lines = _lines(_decoded_lines(numbered_lines(first, block, stats, max_bytes), stats))
        if lines:
            yield lines


#: Every byte but opening brackets and the line end: deleting them leaves each line's openings.
_NOT_OPENING = bytes(byte for byte in range(256) if byte not in b"{[\n")


def _plain_block(first: int, block: bytes, max_bytes: int, decode: bool = True) -> JsonLines | None:
    """The records of a block whose every line is UTF-8 without NUL bytes, within ``max_bytes``, a
    JSON value orjson decodes, and holds too few brackets to nest beyond ``MAX_JSON_DEPTH``; None for
    any other block. Without ``decode``, the lines undecoded: orjson's test and the nesting bound are
    left to the caller's reader (``tocsin.sources.flatjson``, which refuses a line holding more than
    ``MAX_JSON_DEPTH`` opening brackets)."""
    if b"\x00" in block:
        return None
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if len(block) > max_bytes and max(map(len, lines)) > max_bytes // 4:
        return None  # a line that may be longer than max_bytes bytes (at most 4 bytes a character)
    raws = list(map(str.strip, lines))
    if raws and not raws[-1]:  # the empty string after the block's last line end
        raws.pop()
    numbers: Iterable[int] = range(first, first + len(raws))
    if not all(raws):  # blank lines
        kept = [(number, raw) for number, raw in zip(numbers, raws, strict=True) if raw]
        numbers, raws = [number for number, _ in kept], [raw for _, raw in kept]
    if not raws:
        return JsonLines()
    if not decode:
        return JsonLines(list(numbers), raws, decoded=False)
    if max(map(len, block.translate(None, _NOT_OPENING).split(b"\n"))) > MAX_JSON_DEPTH:
        return None  # a line with enough opening brackets to nest too deep: too_deep decides, line by line
    try:
        values = list(map(orjson.loads, raws))
    except orjson.JSONDecodeError:
        return None
    return JsonLines(list(numbers), raws, values)


def _iter_buffered(stream: IO[bytes], stats: InputStats, max_bytes: int, array: bool) -> Iterator[Record]:
    reader = _TextChunks(stream, stats)
    buffer = reader.read()
    position = 0
    index = 0
    if array:
        position = buffer.index("[") + 1 if "[" in buffer else len(buffer)
    while True:
        position = _skip_separators(buffer, position)
        if position >= len(buffer):
            more = reader.read()
            if not more:
                return
            buffer, position = buffer[position:] + more, 0
            continue
        char = buffer[position]
        if array and char in "]}":
            return
        if char not in "{[":
            # Stray text between objects (e.g. "Record 12"): skip the line.
            newline = buffer.find("\n", position)
            if newline < 0:
                more = reader.read()
                if not more:
                    return
                buffer, position = buffer[position:] + more, 0
                continue
            position = newline + 1
            continue
        try:
            value, end = _DECODER.raw_decode(buffer, position)
        except RecursionError:
            stats.skip(TOO_DEEP)
            buffer, position = _resync(buffer, position + 1, reader)
            continue
        except ValueError:
            if len(buffer) - position > max_bytes:
                stats.skip(f"record longer than {max_bytes} bytes or malformed JSON")
                buffer, position = _resync(buffer, position + 1, reader)
                continue
            more = reader.read()
            if more:
                buffer, position = buffer[position:] + more, 0
                continue
            following = _NEXT_OBJECT_LINE.search(buffer, position + 1)
            if following is None:
                stats.skip("truncated JSON at end of input")
                return
            stats.skip("malformed JSON")
            position = following.start() + 1
            continue
        index += 1
        raw = buffer[position:end]
        if too_deep(raw, value):
            stats.skip(TOO_DEEP)
        else:
            value, replaced = without_surrogates(raw, value)
            if replaced:
                stats.warn(UNPAIRED_SURROGATE)
            yield f"#{index}", raw, value
        position = end
        if position > _CHUNK:
            buffer, position = buffer[position:], 0


def _skip_separators(buffer: str, position: int) -> int:
    length = len(buffer)
    while position < length and buffer[position] in " \t\r\n,\ufeff":
        position += 1
    return position


def _resync(buffer: str, position: int, reader: _TextChunks) -> tuple[str, int]:
    """Drop text up to the next line that starts an object."""
    while True:
        match = _NEXT_OBJECT_LINE.search(buffer, position)
        if match:
            return buffer, match.start() + 1
        more = reader.read()
        if not more:
            return "", 0
        buffer, position = more, 0


class _TextChunks:
    """Incremental UTF-8 decoding of a byte stream in chunks."""

    def __init__(self, stream: IO[bytes], stats: InputStats) -> None:
        self._stream = stream
        self._stats = stats
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._done = False

    def read(self) -> str:
        if self._done:
            return ""
        try:
            data = self._stream.read(_CHUNK)
        except STREAM_ERRORS as exc:
            self._stats.skip(stream_error_reason(exc))
            data = b""
        if not data:
            self._done = True
            return self._decoder.decode(b"", final=True)
        return self._decoder.decode(data)


def first_json_record(head: bytes) -> Any:
    """The first JSON object of a sample (for format detection), or None."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    match = _WRAPPED_ARRAY.match(stripped)
    text = stripped.decode("utf-8", "replace")
    if match:
        text = text[len(match.group(0).decode()) :]
    elif text.startswith("["):
        text = text[1:]
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
