"""Protocol dissectors: one module per protocol family; ``DISSECTORS`` names them all."""

from __future__ import annotations

from tocsin.sources.pcap.analyzer import Dissector
from tocsin.sources.pcap.protocols import (
    dns,
    http,
    irc,
    kerberos,
    ldap,
    mail,
    mysql,
    postgresql,
    socks,
    telnet,
    tls,
)

#: Every dissector, in the order content recognition tries them.
DISSECTORS: tuple[type[Dissector], ...] = (
    dns.Dns,
    dns.DnsTcp,
    http.Http,
    irc.Irc,
    kerberos.KerberosUdp,
    kerberos.KerberosTcp,
    ldap.Ldap,
    mail.Ftp,
    mail.Smtp,
    mail.Pop3,
    mail.Imap,
    mysql.Mysql,
    postgresql.Postgresql,
    socks.Socks,
    telnet.Telnet,
    tls.Tls,
    tls.Ssh,
)
