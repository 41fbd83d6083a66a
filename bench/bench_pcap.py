"""Capture and YARA throughput beside tshark and the yara CLI, on the same inputs, in one run.

    python bench/bench_pcap.py [--packets 1000000] [--yara-mb 200] [--out bench/RESULTS_PCAP.md]

Generates a mixed capture (DNS over UDP, HTTP sessions with Basic auth, bulk TCP transfers),
then times: tocsin's pcap parser (flows + DNS/HTTP/auth events) against ``tshark -T fields``
extracting the same DNS/HTTP fields, and yara-python over a generated file against the
``yara`` CLI with the same rules. Ratios > 1 mean tocsin is faster.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from tocsin.detectors.yara.compiler import builtin_yara_path, compile_rules, rule_files
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import ParseOptions

ETHERNET = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00"


def _ip(src: bytes, dst: bytes, protocol: int, payload_length: int) -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_length, 0, 0, 64, protocol, 0, src, dst)


def _tcp(sport: int, dport: int, seq: int, flags: int, payload: bytes) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload


def _udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def _dns_query(ident: int, name: str) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\x00\x01\x00\x01"


def _dns_answer(ident: int, name: str) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return (
        struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0) + labels + b"\x00\x01\x00\x01"
        + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\x5d\xb8\xd8\x22"
    )  # fmt: skip


def generate_capture(path: Path, packets: int, seed: int = 7) -> int:
    """A classic pcap of about ``packets`` frames: 40% DNS, 30% HTTP, 30% bulk TCP."""
    rng = random.Random(seed)
    written = 0
    now = 1_700_000_000.0
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

        def frame(src: bytes, dst: bytes, protocol: int, transport: bytes) -> None:
            nonlocal written, now
            data = ETHERNET + _ip(src, dst, protocol, len(transport)) + transport
            now += 0.0001
            seconds = int(now)
            out.write(struct.pack("<IIII", seconds, int((now - seconds) * 1e6), len(data), len(data)) + data)
            written += 1

        while written < packets:
            client = bytes([10, 1, rng.randrange(256), rng.randrange(1, 255)])
            server = bytes([93, 184, rng.randrange(256), rng.randrange(1, 255)])
            port = rng.randrange(20000, 60000)
            choice = rng.random()
            if choice < 0.4:
                name = f"host{rng.randrange(10**6)}.example{rng.randrange(100)}.com"
                ident = rng.randrange(65536)
                frame(client, server, 17, _udp(port, 53, _dns_query(ident, name)))
                frame(server, client, 17, _udp(53, port, _dns_answer(ident, name)))
                continue
            seq_c, seq_s = rng.randrange(2**31), rng.randrange(2**31)
            http = choice < 0.7
            dport = 80 if http else 9000
            frame(client, server, 6, _tcp(port, dport, seq_c, 0x02, b""))
            frame(server, client, 6, _tcp(dport, port, seq_s, 0x12, b""))
            seq_c += 1
            seq_s += 1
            if http:
                request = (
                    f"GET /page/{rng.randrange(10**6)} HTTP/1.1\r\nHost: www.example{rng.randrange(100)}.com\r\n"
                    f"User-Agent: bench/1.0\r\nAuthorization: Basic dXNlcjpwYXNzd29yZA==\r\n\r\n"
                ).encode()
                body = b"x" * rng.randrange(200, 1400)
                response = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
                    + body
                )
                frame(client, server, 6, _tcp(port, dport, seq_c, 0x18, request))
                seq_c += len(request)
                frame(server, client, 6, _tcp(dport, port, seq_s, 0x18, response))
                seq_s += len(response)
            else:
                for _ in range(rng.randrange(4, 12)):
                    chunk = os.urandom(1200)
                    frame(client, server, 6, _tcp(port, dport, seq_c, 0x10, chunk))
                    seq_c += len(chunk)
            frame(client, server, 6, _tcp(port, dport, seq_c, 0x11, b""))
            frame(server, client, 6, _tcp(dport, port, seq_s, 0x11, b""))
            frame(client, server, 6, _tcp(port, dport, seq_c + 1, 0x10, b""))
    return written


def time_tocsin(path: Path) -> tuple[float, int, int]:
    started = time.perf_counter()
    summary = ReadSummary()
    events = sum(1 for _ in read_events([str(path)], "pcap", ParseOptions(), summary))
    return time.perf_counter() - started, summary.inputs[0].records, events


def time_tshark(path: Path) -> float | None:
    if not shutil.which("tshark"):
        return None
    fields = ["frame.number", "ip.src", "ip.dst", "tcp.stream", "udp.srcport", "udp.dstport", "dns.qry.name",
              "dns.a", "http.request.method", "http.host", "http.request.uri", "http.user_agent",
              "http.authorization", "http.response.code"]  # fmt: skip
    command = ["tshark", "-n", "-r", str(path), "-T", "fields"] + [arg for f in fields for arg in ("-e", f)]
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def generate_yara_input(path: Path, megabytes: int) -> None:
    rng = random.Random(3)
    words = [b"alpha", b"user@example.com", b"GET /index.html", b"password", b"lorem ipsum dolor", b"4111"]
    with open(path, "wb") as out:
        for _ in range(megabytes):
            block = bytearray(os.urandom(1 << 19))
            text = b" ".join(rng.choice(words) for _ in range(40000))[: 1 << 19]
            out.write(bytes(block) + text)


def time_yara(rule_paths: list[Path], target: Path) -> tuple[float, float | None]:
    compiled = compile_rules(rule_paths)
    assert compiled.rules is not None
    externals = {
        "filename": target.name,
        "filepath": str(target),
        "extension": "",
        "filetype": "",
        "owner": "",
    }
    started = time.perf_counter()
    compiled.rules.match(filepath=str(target), externals=externals, timeout=600)
    ours = time.perf_counter() - started
    if not shutil.which("yara"):
        return ours, None
    with tempfile.TemporaryDirectory() as directory:
        compiled_file = Path(directory) / "rules.yarc"
        compiled.rules.save(str(compiled_file))
        defines = [arg for name, value in externals.items() for arg in ("-d", f"{name}={value}")]
        command = ["yara", "-C", *defines, str(compiled_file), str(target)]
        started = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        theirs = time.perf_counter() - started
        if result.returncode != 0:  # a CLI that cannot load these compiled rules: give it the sources
            files = rule_files(rule_paths)
            started = time.perf_counter()
            subprocess.run(["yara", *defines, *map(str, files), str(target)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)  # fmt: skip
            theirs = time.perf_counter() - started
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--yara-mb", type=int, default=200)
    parser.add_argument("--yara-rules", type=Path, action="append", help="default: the built-in rules")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS_PCAP.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as directory:
        capture = Path(directory) / "mixed.pcap"
        packets = generate_capture(capture, args.packets)
        size_mb = capture.stat().st_size / 1e6
        ours, records, events = time_tocsin(capture)
        tshark = time_tshark(capture)
        target = Path(directory) / "content.bin"
        generate_yara_input(target, args.yara_mb)
        rules = args.yara_rules or [builtin_yara_path()]
        yara_ours, yara_cli = time_yara(rules, target)
    target_mb = args.yara_mb
    lines = [
        "# Capture and YARA throughput",
        "",
        f"Machine: {os.cpu_count()} CPU(s). Capture: {packets:,} packets, {size_mb:,.1f} MB "
        "(40% DNS, 30% HTTP with Basic auth, 30% bulk TCP). YARA input: "
        f"{target_mb} MB (half random, half text); rules: {', '.join(map(str, rules))}.",
        "",
        "| job | tocsin | reference | ratio (reference time / tocsin time) |",
        "|---|---|---|---|",
        f"| flows + DNS/HTTP/auth events | {records / ours:,.0f} packets/s, {size_mb / ours:,.1f} MB/s "
        f"({events:,} events, {ours:.1f} s) | "
        + (f"tshark -T fields: {packets / tshark:,.0f} packets/s, {size_mb / tshark:,.1f} MB/s ({tshark:.1f} s) | "
           f"{tshark / ours:.2f}× |" if tshark else "tshark not installed | - |"),
        f"| YARA scan | {target_mb / yara_ours:,.1f} MB/s ({yara_ours:.2f} s) | "
        + (f"yara CLI: {target_mb / yara_cli:,.1f} MB/s ({yara_cli:.2f} s) | {yara_cli / yara_ours:.2f}× |"
           if yara_cli else "yara CLI not installed | - |"),
        "",
    ]  # fmt: skip
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
