"""The ``pcap`` input format: captures become flow and protocol events for the Sigma engine."""

from __future__ import annotations

from collections.abc import Iterator

from tocsin.model.event import Event
from tocsin.sources.base import InputSource, InputStats, Parser, Sample
from tocsin.sources.pcap.analyzer import Analyzer
from tocsin.sources.pcap.protocols import DISSECTORS
from tocsin.sources.pcap.reader import CaptureReader, Defragmenter, capture_kind, decode


class PcapParser(Parser):
    name = "pcap"
    description = "Network capture (pcap, pcapng; gzip ok): flows, DNS, HTTP, TLS, logins of mail, FTP, SOCKS, Telnet, IRC, databases, LDAP, Kerberos"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        return 100 if capture_kind(sample.head) else 0

    def parse(self, source: InputSource, stats: InputStats) -> Iterator[Event]:
        analyzer = Analyzer(source.name, self.options, stats, DISSECTORS)
        with source.open() as stream:
            reader = CaptureReader(stream, stats)
            fragments = Defragmenter()
            pending = analyzer.pending
            for frame in reader.frames():
                stats.records += 1
                packet = decode(frame, stats, fragments)
                if packet is not None:
                    analyzer.packet(packet)
                if pending:
                    stats.events += len(pending)
                    yield from pending
                    pending.clear()
            fragments.finish(stats)
            analyzer.finish()
            stats.events += len(pending)
            yield from pending
            pending.clear()
