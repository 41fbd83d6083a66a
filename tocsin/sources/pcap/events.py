"""The kinds of network events, as ``tocsin events --category`` names them."""

from __future__ import annotations

from tocsin.model.event import Event

#: Category name → the ``event.dataset`` values it selects (``auth`` goes by event.category).
EVENT_CATEGORIES = {
    "auth": (),
    "dns": ("network.dns",),
    "flow": ("network.flow",),
    "http": ("network.http",),
    "tls": ("network.tls", "network.ssh"),
    "mail": ("network.smtp", "network.pop3", "network.imap"),
    "ftp": ("network.ftp",),
    "socks": ("network.socks",),
    "telnet": ("network.telnet",),
    "irc": ("network.irc",),
    "db": ("network.mysql", "network.postgresql"),
    "ldap": ("network.ldap",),
    "kerberos": ("network.kerberos",),
}
_BY_DATASET = {dataset: name for name, datasets in EVENT_CATEGORIES.items() for dataset in datasets}


def event_category(event: Event) -> str | None:
    """The ``--category`` an event falls in (None for non-network events)."""
    if (
        event.fields.get("event.category") == "authentication"
        and event.fields.get("event.module") == "network"
    ):
        return "auth"
    return _BY_DATASET.get(event.fields.get("event.dataset", ""))
