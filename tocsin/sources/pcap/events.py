"""The kinds of network events, as ``tocsin events --category`` names them."""

from __future__ import annotations

from tocsin.model.event import Event

#: Category name → the ``event.dataset`` values it selects (``auth`` goes by event.category); a Zeek
#: sensor's logs of the same kind are selected too.
EVENT_CATEGORIES = {
    "auth": (),
    "dns": ("network.dns", "zeek.dns"),
    "flow": ("network.flow", "zeek.conn"),
    "http": ("network.http", "zeek.http"),
    "tls": ("network.tls", "network.ssh", "zeek.ssl", "zeek.ssh"),
    "mail": ("network.smtp", "network.pop3", "network.imap", "zeek.smtp"),
    "ftp": ("network.ftp", "zeek.ftp"),
    "socks": ("network.socks",),
    "telnet": ("network.telnet",),
    "irc": ("network.irc",),
    "db": ("network.mysql", "network.postgresql"),
    "ldap": ("network.ldap",),
    "kerberos": ("network.kerberos", "zeek.kerberos"),
}
#: The ``event.module`` of events whose logins ``auth`` selects: captures and network sensors' logs.
NETWORK_MODULES = frozenset({"network", "zeek", "suricata"})
_BY_DATASET = {dataset: name for name, datasets in EVENT_CATEGORIES.items() for dataset in datasets}


def event_category(event: Event) -> str | None:
    """The ``--category`` an event falls in (None for non-network events)."""
    if (
        event.fields.get("event.category") == "authentication"
        and event.fields.get("event.module") in NETWORK_MODULES
    ):
        return "auth"
    return _BY_DATASET.get(event.fields.get("event.dataset", ""))
