"""Kerberos KDC exchanges over UDP and TCP 88: AS-REQ/TGS-REQ, AS-REP/TGS-REP and KRB-ERROR.

Each request/reply pair is a ``network.kerberos`` event (zeek kerberos.log style); an AS exchange is
also an authentication attempt: AS-REP is a success, a KRB-ERROR other than "pre-authentication
required" (a normal first round), "response too big" or a realm referral is a failure.
"""

from __future__ import annotations

import struct
from typing import Any

from tocsin.model.event import LogSource
from tocsin.sources.pcap.analyzer import Analyzer, Dissector
from tocsin.sources.pcap.flows import Flow
from tocsin.sources.pcap.protocols import ber
from tocsin.sources.pcap.reader import UDP

LOGSOURCE = LogSource.of("zeek", ("kerberos",), None)
AS_REQ, AS_REP, TGS_REQ, TGS_REP, KRB_ERROR = 10, 11, 12, 13, 30
#: TCP messages larger than this end dissection (KDC messages are a few KiB).
MAX_MESSAGE = 1 << 20
ERRORS = {
    1: "KDC_ERR_NAME_EXP", 2: "KDC_ERR_SERVICE_EXP", 3: "KDC_ERR_BAD_PVNO", 13: "KDC_ERR_BADOPTION",
    15: "KDC_ERR_SUMTYPE_NOSUPP", 16: "KDC_ERR_PADATA_TYPE_NOSUPP", 17: "KDC_ERR_TRTYPE_NOSUPP",
    6: "KDC_ERR_C_PRINCIPAL_UNKNOWN", 7: "KDC_ERR_S_PRINCIPAL_UNKNOWN", 12: "KDC_ERR_POLICY",
    14: "KDC_ERR_ETYPE_NOSUPP", 18: "KDC_ERR_CLIENT_REVOKED", 23: "KDC_ERR_KEY_EXPIRED",
    24: "KDC_ERR_PREAUTH_FAILED", 25: "KDC_ERR_PREAUTH_REQUIRED", 31: "KRB_AP_ERR_BAD_INTEGRITY",
    37: "KRB_AP_ERR_SKEW", 41: "KRB_AP_ERR_MODIFIED", 52: "KRB_ERR_RESPONSE_TOO_BIG",
    60: "KRB_ERR_GENERIC", 68: "KDC_ERR_WRONG_REALM",
}  # fmt: skip
#: Errors that are a normal step of a login, not its failure.
NOT_FAILURES = frozenset({25, 52, 68})
ETYPES = {1: "des-cbc-crc", 3: "des-cbc-md5", 17: "aes128-cts-hmac-sha1-96", 18: "aes256-cts-hmac-sha1-96",
          19: "aes128-cts-hmac-sha256-128", 20: "aes256-cts-hmac-sha384-192", 23: "rc4-hmac", 24: "rc4-hmac-exp"}  # fmt: skip
PA_ENC_TIMESTAMP = 2


def principal(data: bytes, item: ber.Tlv) -> str | None:
    """A PrincipalName ``SEQUENCE { name-type [0], name-string [1] SEQUENCE OF GeneralString }`` as a/b/c."""
    fields = ber.tagged(data, ber.explicit(data, item))
    if 1 not in fields:
        return None
    names = ber.children(data, ber.explicit(data, fields[1]))
    return "/".join(ber.text(data, name) for name in names) or None


def _string(data: bytes, fields: dict[int, ber.Tlv], tag: int) -> str | None:
    return ber.text(data, ber.explicit(data, fields[tag])) if tag in fields else None


def _int(data: bytes, fields: dict[int, ber.Tlv], tag: int) -> int | None:
    return ber.integer(data, ber.explicit(data, fields[tag])) if tag in fields else None


def parse(data: bytes) -> dict[str, Any] | None:
    """The interesting fields of one Kerberos message, or None when it is another kind."""
    outer = ber.read(data)
    if outer.cls != ber.APPLICATION or outer.tag not in (AS_REQ, AS_REP, TGS_REQ, TGS_REP, KRB_ERROR):
        return None
    kind = outer.tag
    fields = ber.tagged(data, ber.explicit(data, outer))
    info: dict[str, Any] = {"type": kind}
    if kind in (AS_REQ, TGS_REQ):
        if 3 in fields:
            padata = ber.children(data, ber.explicit(data, fields[3]))
            types = [_int(data, ber.tagged(data, pa), 1) for pa in padata]
            info["preauth"] = PA_ENC_TIMESTAMP in types
        if 4 in fields:
            body = ber.tagged(data, ber.explicit(data, fields[4]))
            info["client"] = principal(data, body[1]) if 1 in body else None
            info["realm"] = _string(data, body, 2)
            info["service"] = principal(data, body[3]) if 3 in body else None
            if 8 in body:
                info["etypes"] = [
                    ber.integer(data, e) for e in ber.children(data, ber.explicit(data, body[8]))
                ]
    elif kind in (AS_REP, TGS_REP):
        info["realm"] = _string(data, fields, 3)
        info["client"] = principal(data, fields[4]) if 4 in fields else None
        if 5 in fields:
            ticket = ber.explicit(data, fields[5])
            inner = ber.tagged(data, ber.explicit(data, ticket))
            info["service"] = principal(data, inner[2]) if 2 in inner else None
        if 6 in fields:
            enc = ber.tagged(data, ber.explicit(data, fields[6]))
            info["cipher"] = _int(data, enc, 0)
    else:
        info["error_code"] = _int(data, fields, 6)
        info["realm"] = _string(data, fields, 9) or _string(data, fields, 7)
        info["client"] = principal(data, fields[8]) if 8 in fields else None
        info["service"] = principal(data, fields[10]) if 10 in fields else None
        info["error_text"] = _string(data, fields, 11)
    return info


class _Kerberos(Dissector):
    service = "kerberos"
    ports = frozenset({88})

    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.request: tuple[dict[str, Any], float, int] | None = None

    def message(self, data: bytes, timestamp: float, number: int) -> None:
        info = parse(data)
        if info is None:
            raise ValueError("Kerberos: not a KDC message")
        if info["type"] in (AS_REQ, TGS_REQ):
            if self.request is not None:
                self._exchange(None, *self.request[1:])
            self.request = (info, timestamp, number)
        else:
            self._exchange(info, timestamp, number)

    def _exchange(self, reply: dict[str, Any] | None, timestamp: float, number: int) -> None:
        request = self.request[0] if self.request is not None else {}
        self.request = None
        reply = reply or {}
        kind = request.get("type") or (
            AS_REQ if reply.get("type") == AS_REP else TGS_REQ if reply.get("type") == TGS_REP else None
        )
        request_type = None if kind is None else {AS_REQ: "AS", TGS_REQ: "TGS"}.get(kind)
        client = reply.get("client") or request.get("client")
        realm = request.get("realm") or reply.get("realm")
        service = request.get("service") or reply.get("service")
        code = reply.get("error_code")
        error = ERRORS.get(code, str(code)) if code is not None else None
        success = True if reply.get("type") in (AS_REP, TGS_REP) else False if code is not None else None
        etypes = request.get("etypes") or []
        fields = {
            "event.category": "network", "event.type": "protocol",
            "event.action": f"kerberos-{(request_type or 'krb').lower()}",
            "event.outcome": {True: "success", False: "failure", None: "unknown"}[success],
            "user.name": client, "user.domain": realm, "kerberos.request_type": request_type,
            "kerberos.service": service, "kerberos.error_code": code, "kerberos.error": error,
            "kerberos.preauth": request.get("preauth"),
            "kerberos.etypes": [ETYPES.get(e, str(e)) for e in etypes] or None,
            "kerberos.cipher": ETYPES.get(reply["cipher"], str(reply["cipher"])) if reply.get("cipher") is not None else None,
        }  # fmt: skip
        original = {"request_type": request_type, "client": f"{client}/{realm}" if client else None,
                    "service": service, "success": success, "error_msg": error,
                    "error_text": reply.get("error_text")}  # fmt: skip
        raw = (
            f"KERBEROS {request_type or '?'} client={client or '-'}@{realm or '-'} service={service or '-'} "
            + (f"error={error}" if error else "ok" if success else "no reply")
        )
        self.emit(timestamp, number, "kerberos", fields, original, raw, LOGSOURCE)
        if request_type != "AS" or success is None or (code in NOT_FAILURES):
            return
        extra = {"user.domain": realm, "kerberos.service": service, "kerberos.error_code": code,
                 "kerberos.error": error, "kerberos.preauth": request.get("preauth")}  # fmt: skip
        self.auth(timestamp, number, client, "success" if success else "failure", None, "kerberos", extra)

    def close(self, timestamp: float, number: int) -> None:
        if self.request is not None:
            self._exchange(None, *self.request[1:])


class KerberosUdp(_Kerberos):
    transport = UDP

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        self.message(data, timestamp, number)


class KerberosTcp(_Kerberos):
    def __init__(self, analyzer: Analyzer, flow: Flow) -> None:
        super().__init__(analyzer, flow)
        self.buffers = [bytearray(), bytearray()]
        self.done = False

    def data(self, from_client: bool, data: bytes, timestamp: float, number: int, gap: bool) -> None:
        if self.done or gap:
            self.done = True
            return
        buffer = self.buffers[0 if from_client else 1]
        buffer += data
        while len(buffer) >= 4:
            size = struct.unpack_from("!I", buffer)[0] & 0x7FFFFFFF
            if size > MAX_MESSAGE:
                self.done = True
                raise ValueError("Kerberos: absurd TCP record length")
            if len(buffer) < 4 + size:
                return
            message = bytes(buffer[4 : 4 + size])
            del buffer[: 4 + size]
            self.message(message, timestamp, number)
