"""tocsin watch --interface: live capture on a veth pair in a network namespace the test makes.

scapy sends, from the other end of the pair, an FTP failed-login burst and a DNS query; the watch
must commit the same events a capture read from disk gives, and raise the brute-force alert.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.watch.helpers import Watcher, wait_for

ROOT = Path(__file__).resolve().parents[2]
ATTACKER, SERVER = "192.0.2.66", "198.51.100.21"

SENDER = """
import sys
sys.path.insert(0, sys.argv[1])
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.sendrecv import sendp
from tests.network.captures import Session

packets = []
for n in range(12):
    session = Session(21, client=sys.argv[2], server=sys.argv[3], client_port=41000 + n).handshake().dialogue(
        (False, b"220 ready\\r\\n"), (True, b"USER admin\\r\\n"), (False, b"331 password please\\r\\n"),
        (True, b"PASS guess%d\\r\\n" % n), (False, b"530 Login incorrect\\r\\n"),
    ).close()
    packets += session.packets
packets.append(Ether() / IP(src=sys.argv[2], dst="198.51.100.53") / UDP(sport=53000, dport=53)
               / DNS(id=7, rd=1, qd=DNSQR(qname="exfil.example.org")))
packets.append(Ether() / IP(src="198.51.100.53", dst=sys.argv[2]) / UDP(sport=53, dport=53000)
               / DNS(id=7, qr=1, qd=DNSQR(qname="exfil.example.org"), an=DNSRR(rrname="exfil.example.org",
                                                                            rdata="203.0.113.80")))
sendp(packets, iface="tw1", verbose=False)
"""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def namespace() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("live capture needs root (raw sockets, network namespaces)")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (ip) is not installed")
    if ctypes.util.find_library("pcap") is None:  # scapy compiles the BPF filter with libpcap
        pytest.skip("libpcap is not installed (Debian: libpcap0.8)")
    name = f"tocsin-watch-{os.getpid()}"
    made = _ip("netns", "add", name)
    if made.returncode != 0:
        pytest.skip(f"network namespaces unavailable: {made.stderr.strip()}")
    try:
        for command in (
            ("link", "add", "tw0", "type", "veth", "peer", "name", "tw1"),
            ("link", "set", "lo", "up"),
            ("link", "set", "tw0", "up"),
            ("link", "set", "tw1", "up"),
        ):
            done = _ip("-n", name, *command)
            if done.returncode != 0:
                pytest.skip(f"veth pair unavailable: {done.stderr.strip()}")
        yield name
    finally:
        _ip("netns", "delete", name)


def test_live_capture_feeds_the_network_pipeline_and_alerts(tmp_path: Path, namespace: str) -> None:
    watcher = Watcher(
        tmp_path, "--interface", "tw0", "--bpf", "port 21 or port 53",
        prefix=("ip", "netns", "exec", namespace), follow_logs=False,
    )  # fmt: skip
    watcher.start()
    try:
        sent = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", SENDER, str(ROOT), ATTACKER, SERVER],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr

        def datasets() -> list[tuple[str, str, str]]:
            return watcher.query(
                "SELECT w.dataset, json_extract(e.document, '$.event.outcome'), "
                "json_extract(e.document, '$.source.ip') FROM watch_events w LEFT JOIN events e ON e.id = w.id"
            )

        wait_for(lambda: sum(1 for d in datasets() if d[0] == "network.auth") == 12, what="12 FTP logins")
        wait_for(lambda: any(d[0] == "network.dns" for d in datasets()), what="the DNS query")
        alerts = wait_for(lambda: watcher.delivered(), what="the brute-force alert")
    finally:
        code = watcher.stop()
    assert code == 0, watcher.stderr.read_text()[-2000:]
    auths = [d for d in datasets() if d[0] == "network.auth"]
    assert all(outcome == "failure" and source == ATTACKER for _, outcome, source in auths)
    assert [a["rule"]["title"] for a in alerts] == ["Brute Force From One Source"]
    assert alerts[0]["group_by"] == {"source.address": ATTACKER}
    flows = [d for d in datasets() if d[0] == "network.flow"]
    assert len(flows) >= 12  # flows still open were closed and reported at shutdown
    status = json.loads((watcher.state / "status.json").read_text())
    capture = next(s for s in status["sources"] if s["path"] == "interface:tw0")
    assert capture["packets"] >= 12 * 10 and capture["dropped"] == 0


def test_interface_that_does_not_exist_is_a_clear_error(tmp_path: Path, namespace: str) -> None:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-m", "tocsin", "watch", "--interface", "nosuch0",
         "--state", str(tmp_path / "state")],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode != 0
    assert "cannot capture on nosuch0" in done.stderr
