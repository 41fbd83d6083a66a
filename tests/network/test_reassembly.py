"""TCP reassembly edge cases: unit level, then through captures."""

from __future__ import annotations

from tests.network.captures import Session, write
from tests.network.helpers import dataset, events_of
from tocsin.sources.pcap.reassembly import ReassemblyBudget, StreamReassembler


def stream(budget: ReassemblyBudget | None = None) -> tuple[StreamReassembler, list[tuple[bytes, bool]]]:
    out: list[tuple[bytes, bool]] = []
    return StreamReassembler(lambda data, gap: out.append((data, gap)), budget or ReassemblyBudget()), out


def joined(out: list[tuple[bytes, bool]]) -> bytes:
    return b"".join(data for data, _ in out)


def test_out_of_order_segments_are_held_until_the_hole_fills():
    reassembler, out = stream()
    reassembler.syn(99)
    reassembler.segment(106, b"world")
    assert out == []
    reassembler.segment(100, b"hello ")
    assert joined(out) == b"hello world"


def test_retransmissions_and_overlaps_deliver_each_byte_once_first_copy_wins():
    budget = ReassemblyBudget()
    reassembler, out = stream(budget)
    reassembler.syn(0)
    reassembler.segment(1, b"abcdef")
    reassembler.segment(1, b"abcdef")
    reassembler.segment(4, b"XXXghi")
    assert joined(out) == b"abcdefghi"
    assert budget.retransmitted == 1


def test_missing_syn_starts_at_the_first_segment_and_sequence_wraps():
    reassembler, out = stream()
    reassembler.segment(0xFFFFFFFE, b"ab")
    reassembler.segment(0x00000000, b"cd")
    assert joined(out) == b"abcd"


def test_flush_skips_holes_and_marks_the_gap():
    budget = ReassemblyBudget()
    reassembler, out = stream(budget)
    reassembler.syn(0)
    reassembler.segment(1, b"one")
    reassembler.segment(10, b"two")
    reassembler.flush()
    assert out == [(b"one", False), (b"two", True)]
    assert budget.gaps == 1 and budget.gap_bytes == 6


def test_per_stream_cap_is_hit_reported_and_bounded():
    budget = ReassemblyBudget(per_stream=100, total=1000)
    reassembler, out = stream(budget)
    reassembler.syn(0)
    for index in range(50):
        reassembler.segment(1000 + index * 10, b"x" * 10)  # never fills the hole at 1
    assert budget.per_stream_hits >= 1
    assert reassembler.held_bytes <= 100 and budget.held <= 100
    reassembler.flush()
    assert len(joined(out)) == 500


def test_total_cap_across_streams():
    budget = ReassemblyBudget(per_stream=1000, total=150)
    streams = [stream(budget)[0] for _ in range(3)]
    for reassembler in streams:
        reassembler.syn(0)
        reassembler.segment(100, b"y" * 60)
    assert budget.total_hits >= 1 and budget.held <= 150


def http_request(host: str) -> bytes:
    return f"GET /reassembled HTTP/1.1\r\nHost: {host}\r\nUser-Agent: t\r\n\r\n".encode()


def test_capture_with_reordered_duplicated_segments_and_no_syn(tmp_path):
    session = Session(80)
    request = http_request("reorder.example")
    first, second, third = request[:10], request[10:25], request[25:]
    packets = [
        session.segment(True, third, 25),
        session.segment(True, first, 0),
        session.segment(True, first, 0),  # retransmission
        session.segment(True, request[5:30], 5),  # overlap
        session.segment(True, second, 10),
    ]
    session.seq[True] += len(request)
    session.send(False, b"HTTP/1.1 204 No Content\r\n\r\n")
    events, _ = events_of(write(tmp_path / "reorder.pcap", packets + session.packets))
    (http,) = dataset(events, "http")
    assert http.fields["url.domain"] == "reorder.example" and http.fields["http.response.status_code"] == 204


def test_capture_with_missing_data_resynchronises_on_the_next_request(tmp_path):
    session = Session(80).handshake()
    first = http_request("lost.example")
    session.seq[True] += len(first)  # the first request was never captured
    session.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    session.send(True, http_request("kept.example"))
    session.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    events, summary = events_of(write(tmp_path / "gap.pcap", session.packets))
    domains = [e.fields.get("url.domain") for e in dataset(events, "http")]
    assert "kept.example" in domains
    assert any("gap" in reason for reason in summary.inputs[0].warnings)


def test_capture_without_fin_is_flushed_at_the_end(tmp_path):
    session = (
        Session(21)
        .handshake()
        .dialogue(
            (True, b"USER kim\r\n"),
            (False, b"331 ok\r\n"),
            (True, b"PASS nofinhere\r\n"),
            (False, b"530 no\r\n"),
        )
    )
    events, _ = events_of(write(tmp_path / "nofin.pcap", session.packets))
    assert [e.fields["event.outcome"] for e in dataset(events, "auth")] == ["failure"]
    assert len(dataset(events, "flow")) == 1
