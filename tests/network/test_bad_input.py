"""Truncated, corrupt and fake captures are counted, never fatal."""

from __future__ import annotations

import struct

from tests.network.captures import Session, write
from tests.network.helpers import events_of


def ftp_capture(tmp_path):
    session = Session(21).handshake().dialogue((True, b"USER lee\r\n"), (False, b"331 ok\r\n"))
    return write(tmp_path / "good.pcap", session.packets)


def test_truncated_capture_keeps_what_came_before(tmp_path):
    data = ftp_capture(tmp_path).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-7])
    events, summary = events_of(cut)
    assert summary.inputs[0].skipped["truncated packet record"] == 1
    assert any(e.fields.get("event.dataset") == "network.flow" for e in events)


def test_absurd_record_length_stops_reading_cleanly(tmp_path):
    data = bytearray(ftp_capture(tmp_path).read_bytes())
    struct.pack_into("<I", data, 24 + 8, 0x7FFFFFFF)
    bad = tmp_path / "absurd.pcap"
    bad.write_bytes(bytes(data))
    _, summary = events_of(bad)
    assert any("absurd" in reason for reason in summary.inputs[0].skipped)


def test_snaplen_cut_packets_are_read(tmp_path):
    session = Session(80).handshake().send(True, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" + b"z" * 2000)
    capture = write(tmp_path / "snap.pcap", session.packets, snaplen=60)
    _, summary = events_of(capture)
    assert summary.inputs[0].records == len(session.packets) and summary.inputs[0].error is None


def test_text_file_named_pcap_is_not_a_capture(tmp_path):
    fake = tmp_path / "notes.pcap"
    fake.write_text("this is not a capture\n" * 5)
    _, summary = events_of(fake)
    assert summary.inputs[0].format != "pcap"


def test_corrupt_pcapng_block(tmp_path):
    bad = tmp_path / "bad.pcapng"
    bad.write_bytes(b"\x0a\x0d\x0d\x0a" + struct.pack("<I", 28) + b"\x4d\x3c\x2b\x1a" + b"\x01\x00\x00\x00" + b"\xff" * 8
                    + struct.pack("<I", 28) + b"\x06\x00\x00\x00" + struct.pack("<I", 0xFFFFFF00))  # fmt: skip
    events, summary = events_of(bad)
    assert events == [] and summary.inputs[0].skipped_total >= 1


def test_random_bytes_after_a_valid_header(tmp_path):
    data = ftp_capture(tmp_path).read_bytes()[:24] + bytes(range(256)) * 40
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(data)
    _, summary = events_of(garbage)
    assert summary.inputs[0].format == "pcap"
