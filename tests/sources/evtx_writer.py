"""A minimal EVTX writer, so that the evtx parser can be tested without real Windows logs.

Writes a file header, one 64 KiB chunk and event records whose BinXML is a
plain element tree (no templates): elements, attributes and typed values.
Names are stored inline at their first use in the chunk and referenced by
offset afterwards, as Windows does; elements outside template definitions
carry no dependency identifier (as the evtx crate reads them). Checksums are the format's CRC32s
(file header; chunk header; chunk records), so strict readers accept it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

Value = str | int | datetime

FILE_HEADER_SIZE = 4096
CHUNK_SIZE = 65536
CHUNK_HEADER_SIZE = 512  # header (128) + common string offsets (256) + template pointers (128)
_EPOCH_AS_FILETIME = 116444736000000000

# BinXML tokens and value types.
_END_OF_STREAM = 0x00
_OPEN_START_ELEMENT = 0x01
_CLOSE_START_ELEMENT = 0x02
_CLOSE_EMPTY_ELEMENT = 0x03
_END_ELEMENT = 0x04
_VALUE = 0x05
_ATTRIBUTE = 0x06
_MORE_FLAG = 0x40
_FRAGMENT_HEADER = b"\x0f\x01\x01\x00"
_STRING, _UINT16, _UINT64, _FILETIME = 0x01, 0x06, 0x0A, 0x11


@dataclass
class Element:
    """An XML element: a name, attributes and children (elements or a text value)."""

    name: str
    attributes: dict[str, Value] = field(default_factory=dict)
    children: list[Element | Value] = field(default_factory=list)


def filetime(moment: datetime) -> int:
    """A datetime as a Windows FILETIME (100 ns ticks since 1601)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return _EPOCH_AS_FILETIME + (delta.days * 86400 + delta.seconds) * 10**7 + delta.microseconds * 10


def _name_hash(name: str) -> int:
    value = 0
    for char in name:
        value = (value * 65599 + ord(char)) & 0xFFFFFFFF
    return value & 0xFFFF


def _value(value: Value) -> bytes:
    if isinstance(value, datetime):
        return struct.pack("<BQ", _FILETIME, filetime(value))
    if isinstance(value, int):
        if 0 <= value < 1 << 16:
            return struct.pack("<BH", _UINT16, value)
        return struct.pack("<BQ", _UINT64, value)
    encoded = value.encode("utf-16-le")
    return struct.pack("<BH", _STRING, len(encoded) // 2) + encoded


class _ChunkEncoder:
    """Encodes BinXML at known chunk offsets, remembering where each name was stored."""

    def __init__(self) -> None:
        self.names: dict[str, int] = {}

    def _name(self, name: str, at: int) -> bytes:
        """A name reference written at chunk offset ``at``: inline the first time, by offset after."""
        known = self.names.get(name)
        if known is not None:
            return struct.pack("<I", known)
        inline_at = at + 4
        self.names[name] = inline_at
        encoded = name.encode("utf-16-le")
        return struct.pack("<IIHH", inline_at, 0, _name_hash(name), len(name)) + encoded + b"\x00\x00"

    def element(self, element: Element, at: int) -> bytes:
        """The tokens of ``element`` written at chunk offset ``at``."""
        token = _OPEN_START_ELEMENT | (_MORE_FLAG if element.attributes else 0)
        head = bytes([token])  # no dependency identifier: only template definitions carry one
        size_at = at + len(head)
        name = self._name(element.name, size_at + 4)
        body = bytearray(name)
        if element.attributes:
            attributes_at = size_at + 4 + len(body) + 4
            attributes = self._attributes(element.attributes, attributes_at)
            body += struct.pack("<I", len(attributes)) + attributes
        if element.children:
            body.append(_CLOSE_START_ELEMENT)
            for child in element.children:
                if isinstance(child, Element):
                    body += self.element(child, size_at + 4 + len(body))
                else:
                    body += bytes([_VALUE]) + _value(child)
            body.append(_END_ELEMENT)
        else:
            body.append(_CLOSE_EMPTY_ELEMENT)
        return head + struct.pack("<I", len(body)) + bytes(body)

    def _attributes(self, attributes: dict[str, Value], at: int) -> bytes:
        out = bytearray()
        items = list(attributes.items())
        for index, (name, value) in enumerate(items):
            more = index < len(items) - 1
            out.append(_ATTRIBUTE | (_MORE_FLAG if more else 0))
            out += self._name(name, at + len(out))
            out += bytes([_VALUE]) + _value(value)
        return bytes(out)


def _record(encoder: _ChunkEncoder, record_id: int, root: Element, written: datetime, at: int) -> bytes:
    binxml_at = at + 24
    element = encoder.element(root, binxml_at + len(_FRAGMENT_HEADER))
    binxml = _FRAGMENT_HEADER + element + bytes([_END_OF_STREAM])
    size = 24 + len(binxml) + 4  # header, BinXML, trailing copy of the size
    header = struct.pack("<4sIQQ", b"**\x00\x00", size, record_id, filetime(written))
    return header + binxml + struct.pack("<I", size)


def build_evtx(records: list[Element], first_record_id: int = 1) -> bytes:
    """The bytes of an EVTX file holding ``records`` (Event elements) in one chunk."""
    encoder = _ChunkEncoder()
    body = bytearray()
    last_offset = CHUNK_HEADER_SIZE
    for index, root in enumerate(records):
        last_offset = CHUNK_HEADER_SIZE + len(body)
        system_time = _system_time(root) or datetime.now(UTC)
        body += _record(encoder, first_record_id + index, root, system_time, last_offset)
    free_offset = CHUNK_HEADER_SIZE + len(body)
    if free_offset > CHUNK_SIZE:
        raise ValueError("records do not fit in one chunk")
    last_id = first_record_id + len(records) - 1
    header = struct.pack(
        "<8sQQQQIIII",
        b"ElfChnk\x00",
        first_record_id,
        last_id,
        first_record_id,
        last_id,
        128,
        last_offset,
        free_offset,
        zlib.crc32(bytes(body)),
    )
    header = header.ljust(120, b"\x00")
    tables = bytes(CHUNK_HEADER_SIZE - 128)
    checksum = zlib.crc32(header + tables)
    chunk = (header + struct.pack("<II", 0, checksum) + tables + bytes(body)).ljust(CHUNK_SIZE, b"\x00")
    file_header = struct.pack(
        "<8sQQQIHHHH",
        b"ElfFile\x00",
        0,
        0,
        last_id + 1,
        128,
        1,
        3,
        FILE_HEADER_SIZE,
        1,
    ).ljust(120, b"\x00")
    file_header += struct.pack("<II", 0, zlib.crc32(file_header))
    return file_header.ljust(FILE_HEADER_SIZE, b"\x00") + chunk


def write_evtx(path: Path, records: list[Element], first_record_id: int = 1) -> Path:
    """Write ``records`` as an EVTX file at ``path`` and return the path."""
    path.write_bytes(build_evtx(records, first_record_id))
    return path


def _system_time(root: Element) -> datetime | None:
    for system in root.children:
        if isinstance(system, Element) and system.name == "System":
            for child in system.children:
                if isinstance(child, Element) and child.name == "TimeCreated":
                    stamp = child.attributes.get("SystemTime")
                    return stamp if isinstance(stamp, datetime) else None
    return None


def windows_event(
    event_id: int,
    data: dict[str, Value],
    *,
    time: datetime,
    record_id: int = 1,
    channel: str = "Security",
    computer: str = "DC01.corp.local",
    provider: str = "Microsoft-Windows-Security-Auditing",
    qualifiers: int | None = None,
    user_id: str | None = None,
) -> Element:
    """An ``<Event>`` element shaped like the ones Windows writes, with ``data`` as EventData."""
    qualifier = {"Qualifiers": qualifiers} if qualifiers is not None else {}
    system = Element(
        "System",
        children=[
            Element("Provider", {"Name": provider, "Guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}"}),
            Element("EventID", qualifier, [event_id]),
            Element("Version", children=[0]),
            Element("Level", children=[0]),
            Element("Task", children=[12544]),
            Element("Opcode", children=[0]),
            Element("Keywords", children=["0x8020000000000000"]),
            Element("TimeCreated", {"SystemTime": time}),
            Element("EventRecordID", children=[record_id]),
            Element("Correlation"),
            Element("Execution", {"ProcessID": 640, "ThreadID": 700}),
            Element("Channel", children=[channel]),
            Element("Computer", children=[computer]),
            Element("Security", {"UserID": user_id} if user_id else {}),
        ],
    )
    event_data = Element(
        "EventData",
        children=[
            Element("Data", {"Name": name}, [value] if value != "" else []) for name, value in data.items()
        ],
    )
    return Element(
        "Event", {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"}, [system, event_data]
    )
