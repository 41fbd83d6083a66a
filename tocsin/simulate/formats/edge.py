"""The internet edge sensor: headers-only capture of large transfers (off-site backups, uploads)."""

from __future__ import annotations

from collections.abc import Iterable

from tocsin.simulate.background import Activity, Background
from tocsin.simulate.daily import HOUR, Day
from tocsin.simulate.formats.packets import GRO_SEGMENT, tcp_connection

STREAM = "edge"
BACKUP_SERVER = "10.30.4.17"
#: The off-site backup target (an object store's address).
BACKUP_TARGET = "52.219.170.45"


def edge_background(context: Background, day: Day) -> Iterable[Activity]:
    """The nightly off-site backup of the file server's changes: a few megabytes."""
    rng = context.rng
    time = day.start + (1.5 + rng.random()) * HOUR
    size = rng.randint(3, 12) * 1_000_000
    yield (
        time,
        lambda: tcp_connection(
            rng,
            STREAM,
            time,
            BACKUP_SERVER,
            rng.randint(49152, 65535),
            BACKUP_TARGET,
            443,
            [(True, 517), (False, 4_100), (True, size), (False, 800)],
            segment=GRO_SEGMENT,
        ),
    )
