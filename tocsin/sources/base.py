"""What every parser provides, and the bookkeeping of what it could not read."""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from tocsin.model.event import Event, LogSource

if TYPE_CHECKING:
    from tocsin.batch import EventBatch
    from tocsin.settings import WebSettings
    from tocsin.sources.pcap.payloads import PayloadScanner


@dataclass
class ParseOptions:
    """Options that change how inputs are interpreted."""

    year: int | None = None
    timezone: str = "UTC"
    max_record_bytes: int = 1 << 20
    field_map: dict[str, str] = field(default_factory=dict)
    reveal_secrets: bool = False
    #: The log source of every record of formats that do not name one (``--logsource``).
    logsource: LogSource | None = None
    #: Where captures hand each payload they complete (stream, message, file) for content rules.
    payload_scanner: PayloadScanner | None = None
    #: Trusted proxies and login endpoints of web server logs (``[web]``; None: the defaults).
    web: WebSettings | None = None


@dataclass
class InputStats:
    """What happened to one input: counted, never silent."""

    name: str
    format: str | None = None
    records: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    def skip(self, reason: str, count: int = 1) -> None:
        """Count records dropped for ``reason``."""
        self.skipped[reason] += count

    def warn(self, reason: str, count: int = 1) -> None:
        """Count records kept but read in a degraded way (e.g. a fallback encoding)."""
        self.warnings[reason] += count

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass
class InputSource:
    """One readable input: a file, an archive member or standard input.

    ``open`` returns the decompressed byte stream; ``path`` is set only for
    plain files on disk (some formats, like evtx, read best from a path).
    """

    name: str
    open: Callable[[], IO[bytes]]
    path: Path | None = None
    mtime: float | None = None
    head: bytes | None = None
    #: Bytes to read on disk (compressed bytes for a compressed file or archive member); None for streams.
    size: int | None = None
    #: Found in a folder or an archive rather than named on the command line (see ``inputs.not_a_log``).
    walked: bool = False
    #: The number of the first line ``open`` gives: above 1 for a part of a file (``tocsin.shares``).
    first_line: int = 1


@dataclass
class Sample:
    """The first bytes of an input, for format detection."""

    name: str
    head: bytes

    @property
    def text(self) -> str:
        return self.head.decode("utf-8", "replace")


class Parser(ABC):
    """Turns one input into a stream of events.

    Subclasses set ``name`` (the ``--format-in`` value) and implement
    ``sniff`` (how sure, 0-100, that a sample is this format) and ``parse``.
    Parsers never raise for bad records: they count them in ``stats``.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    #: One record per line, so lines appended to a followed file can be parsed on their own.
    line_oriented: ClassVar[bool] = False

    def __init__(self, options: ParseOptions) -> None:
        self.options = options

    def splittable(self, source: InputSource) -> bool:
        """True when any run of ``source``'s whole lines, opened from its first byte and numbered from
        ``InputSource.first_line``, gives exactly the events those lines give in the whole input (so
        ``scan --workers`` may read the parts of one file in several processes)."""
        return False

    def parse_lines(
        self, data: bytes, name: str, stats: InputStats, mtime: float | None = None
    ) -> Iterator[Event]:
        """Events of complete lines appended to a followed file (``tocsin watch``), parsed exactly as
        a file holding only those lines; ``mtime`` is the reference time (syslog year inference).
        Event offsets are 1-based line numbers within ``data``. Only for ``line_oriented`` parsers."""
        return self.parse(InputSource(name, lambda: io.BytesIO(data), mtime=mtime), stats)

    @classmethod
    @abstractmethod
    def sniff(cls, sample: Sample) -> int: ...

    @abstractmethod
    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]: ...


class BatchParser(Parser):
    """A format that also reads into batches of records, turned into events only where needed."""

    @abstractmethod
    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[EventBatch]:
        """The input's records in batches of at most ``size``, counted in ``stats`` as ``parse`` would."""


class UnreadableInput(Exception):
    """An input that cannot be read at all (missing, unrecognised, not a log)."""


class SkippedInput(UnreadableInput):
    """An entry of a folder deliberately not read (a FIFO, a device, a socket): reported, not a failure."""


def compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop the entries whose value is None or empty: ECS documents omit unknown fields."""
    return {key: value for key, value in fields.items() if value is not None and value != ""}
