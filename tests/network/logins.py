"""Wire messages of the login protocols, built by hand for scapy captures (MySQL, PostgreSQL, LDAP, Kerberos)."""

from __future__ import annotations

import struct

# -- BER --------------------------------------------------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        length = bytes([size])
    else:
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def octets(value: bytes | str) -> bytes:
    return tlv(0x04, value.encode() if isinstance(value, str) else value)


def sequence(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def ctx(number: int, content: bytes, constructed: bool = True) -> bytes:
    return tlv(0x80 | (0x20 if constructed else 0) | number, content)


def app(number: int, content: bytes) -> bytes:
    return tlv(0x60 | number, content)


# -- LDAP -------------------------------------------------------------------------------------


def ldap_simple_bind(message_id: int, name: str, password: str) -> bytes:
    return sequence(integer(message_id), app(0, integer(3) + octets(name) + ctx(0, password.encode(), False)))


def ldap_bind_response(message_id: int, code: int, message: str = "") -> bytes:
    return sequence(integer(message_id), app(1, tlv(0x0A, bytes([code])) + octets("") + octets(message)))


# -- Kerberos ---------------------------------------------------------------------------------


def general_string(value: str) -> bytes:
    return tlv(0x1B, value.encode())


def principal(name_type: int, *names: str) -> bytes:
    return sequence(ctx(0, integer(name_type)), ctx(1, sequence(*(general_string(n) for n in names))))


def as_req(user: str, realm: str, preauth: bool = False) -> bytes:
    body = sequence(
        ctx(0, tlv(0x03, b"\x00\x40\x81\x00\x10")),
        ctx(1, principal(1, user)),
        ctx(2, general_string(realm)),
        ctx(3, principal(2, "krbtgt", realm)),
        ctx(5, tlv(0x18, b"20370913024805Z")),
        ctx(7, integer(12345)),
        ctx(8, sequence(integer(18), integer(23))),
    )
    padata = ctx(3, sequence(sequence(ctx(1, integer(2)), ctx(2, octets(b"\x30\x00"))))) if preauth else b""
    return app(10, sequence(ctx(1, integer(5)), ctx(2, integer(10)), padata, ctx(4, body)))


def krb_error(code: int, realm: str) -> bytes:
    return app(30, sequence(
        ctx(0, integer(5)), ctx(1, integer(30)), ctx(4, tlv(0x18, b"20240101000000Z")), ctx(5, integer(0)),
        ctx(6, integer(code)), ctx(9, general_string(realm)), ctx(10, principal(2, "krbtgt", realm)),
    ))  # fmt: skip


def as_rep(user: str, realm: str) -> bytes:
    encrypted = sequence(ctx(0, integer(18)), ctx(2, octets(b"\x00" * 16)))
    ticket = app(1, sequence(ctx(0, integer(5)), ctx(1, general_string(realm)), ctx(2, principal(2, "krbtgt", realm)),
                             ctx(3, encrypted)))  # fmt: skip
    return app(11, sequence(
        ctx(0, integer(5)), ctx(1, integer(11)), ctx(3, general_string(realm)), ctx(4, principal(1, user)),
        ctx(5, ticket), ctx(6, encrypted),
    ))  # fmt: skip


# -- MySQL ------------------------------------------------------------------------------------

MYSQL_CAPS = 0x200 | 0x8000 | 0x80000 | 0x8 | 0x200000


def mysql_packet(sequence_id: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([sequence_id]) + payload


def mysql_greeting(plugin: str = "caching_sha2_password") -> bytes:
    payload = (b"\x0a8.0.36\x00" + struct.pack("<I", 7) + b"abcdefgh\x00" + struct.pack("<H", MYSQL_CAPS & 0xFFFF)
               + b"\x21" + struct.pack("<H", 2) + struct.pack("<H", MYSQL_CAPS >> 16) + bytes([21]) + b"\x00" * 10
               + b"ijklmnopqrst\x00" + plugin.encode() + b"\x00")  # fmt: skip
    return mysql_packet(0, payload)


def mysql_login(user: str, database: str, plugin: str, auth: bytes) -> bytes:
    payload = (struct.pack("<IIB", MYSQL_CAPS, 1 << 24, 33) + b"\x00" * 23 + user.encode() + b"\x00"
               + bytes([len(auth)]) + auth + database.encode() + b"\x00" + plugin.encode() + b"\x00")  # fmt: skip
    return mysql_packet(1, payload)


MYSQL_OK = mysql_packet(2, b"\x00\x00\x00\x02\x00\x00\x00")


def mysql_error(code: int, message: str) -> bytes:
    return mysql_packet(2, b"\xff" + struct.pack("<H", code) + b"#28000" + message.encode())


# -- PostgreSQL -------------------------------------------------------------------------------


def pg_startup(**parameters: str) -> bytes:
    body = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in parameters.items()) + b"\0"
    return struct.pack("!II", 8 + len(body), 196608) + body


def pg_message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", 4 + len(body)) + body


def pg_auth(code: int, extra: bytes = b"") -> bytes:
    return pg_message(b"R", struct.pack("!I", code) + extra)


def pg_error(code: str, message: str) -> bytes:
    return pg_message(b"E", b"SFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0")


PG_READY = pg_message(b"Z", b"I")
