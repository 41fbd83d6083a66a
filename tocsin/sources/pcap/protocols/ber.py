"""A minimal, non-recursive BER/DER reader for LDAP and Kerberos messages.

Only definite lengths are accepted (LDAP and Kerberos are DER-ish); anything else raises
``ValueError``, which the analyzer counts as a malformed message.
"""

from __future__ import annotations

from typing import NamedTuple

UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
#: Longest length field accepted (4 bytes: up to 4 GiB, far beyond any buffer cap).
MAX_LENGTH_BYTES = 4


class Tlv(NamedTuple):
    cls: int
    constructed: bool
    tag: int
    start: int  # first byte of the value
    end: int  # one past the value


def header(
    data: bytes | bytearray, offset: int = 0, limit: int | None = None
) -> tuple[int, bool, int, int, int]:
    """(class, constructed, tag, value start, value length) of the TLV at ``offset``; the value may be incomplete."""
    limit = len(data) if limit is None else limit
    if offset + 2 > limit:
        raise ValueError("BER: truncated header")
    first = data[offset]
    cls, constructed, tag = first >> 6, bool(first & 0x20), first & 0x1F
    position = offset + 1
    if tag == 0x1F:
        tag = 0
        for _ in range(4):
            if position >= limit:
                raise ValueError("BER: truncated tag")
            byte = data[position]
            position += 1
            tag = (tag << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        else:
            raise ValueError("BER: tag too long")
    if position >= limit:
        raise ValueError("BER: truncated length")
    length = data[position]
    position += 1
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > MAX_LENGTH_BYTES:
            raise ValueError("BER: indefinite or absurd length")
        if position + count > limit:
            raise ValueError("BER: truncated length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    return cls, constructed, tag, position, length


def read(data: bytes, offset: int = 0, limit: int | None = None) -> Tlv:
    """The complete TLV at ``offset`` (its value must lie within ``limit``)."""
    limit = len(data) if limit is None else limit
    cls, constructed, tag, start, length = header(data, offset, limit)
    if start + length > limit:
        raise ValueError("BER: value runs past its container")
    return Tlv(cls, constructed, tag, start, start + length)


def children(data: bytes, parent: Tlv) -> list[Tlv]:
    """The TLVs directly inside a constructed ``parent``."""
    items: list[Tlv] = []
    offset = parent.start
    while offset < parent.end:
        item = read(data, offset, parent.end)
        items.append(item)
        offset = item.end
    return items


def tagged(data: bytes, parent: Tlv) -> dict[int, Tlv]:
    """The context-tagged ``[n]`` children of a SEQUENCE, by tag number."""
    return {item.tag: item for item in children(data, parent) if item.cls == CONTEXT}


def explicit(data: bytes, wrapper: Tlv) -> Tlv:
    """The single TLV inside an explicit tag."""
    return read(data, wrapper.start, wrapper.end)


def integer(data: bytes, item: Tlv) -> int:
    if item.end - item.start > 8:
        raise ValueError("BER: integer too long")
    return int.from_bytes(data[item.start : item.end], "big", signed=True) if item.end > item.start else 0


def text(data: bytes, item: Tlv) -> str:
    return bytes(data[item.start : item.end]).decode("utf-8", "replace")


def octets(data: bytes, item: Tlv) -> bytes:
    return bytes(data[item.start : item.end])
