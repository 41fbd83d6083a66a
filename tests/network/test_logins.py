"""Telnet, IRC, MySQL, PostgreSQL, LDAP and Kerberos: events and authentication attempts from captures
built with scapy (a success and a failure each), from the shared real captures, and from garbage."""

from __future__ import annotations

import json
import random
import struct
from collections import Counter

import pytest
from click.testing import CliRunner

from tests.conftest import shared
from tests.network import logins as wire
from tests.network.captures import CLIENT, SERVER, T0, Session, udp, write
from tests.network.helpers import dataset, events_of, scan
from tocsin.cli import cli

CLEARTEXT = "Cleartext Credentials On The Wire"


def auths(events):
    return [(e.fields.get("user.name"), e.fields["event.outcome"]) for e in dataset(events, "auth")]


def no_clear_text(events, *secrets):
    everything = json.dumps([e.to_document() for e in events])
    for secret in secrets:
        assert secret not in everything


# -- Telnet -------------------------------------------------------------------------------------


def telnet_session() -> Session:
    session = Session(23).handshake().dialogue(
        (False, b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01"), (True, b"\xff\xfb\x18\xff\xfd\x01"),
        (False, b"\xff\xfa\x18\x01\xff\xf0"), (True, b"\xff\xfa\x18\x00xterm\xff\xf0"),
        (False, b"Ubuntu 22.04 LTS\r\nhost login: "),
    )  # fmt: skip
    for key in b"alice":  # keystroke by keystroke, echoed
        session.send(True, bytes([key])).send(False, bytes([key]))
    session.dialogue(
        (True, b"\r\x00"), (False, b"\r\nPassword: "), (True, b"wrongpass1\r\n"),
        (False, b"\r\nLogin incorrect\r\nhost login: "), (True, b"alice\r\n"), (False, b"alice\r\nPassword: "),
        (True, b"telx\x7fnet\xff\xffsecret\r\n"),
        (False, b"\r\nLast login: Mon Jan  1 10:00:00 2024 from 10.0.0.1\r\nalice@host:~$ "),
        (True, b"cat /etc/shadow\r\n"), (False, b"cat: /etc/shadow: Permission denied\r\nalice@host:~$ "),
    )  # fmt: skip
    return session.close()


def test_telnet_login_failure_then_success_with_iac_stripped(tmp_path):
    events, _ = events_of(write(tmp_path / "telnet.pcap", telnet_session().packets))
    assert auths(events) == [("alice", "failure"), ("alice", "success")]
    failure, success = dataset(events, "auth")
    assert failure.fields["credential.masked"] == "****"
    assert (
        success.fields["credential.masked"] == "t****t"
    )  # "telnet\xffsecret": backspace applied, IAC IAC kept
    assert success.fields["source.ip"] == CLIENT and success.fields["network.protocol"] == "telnet"
    telnet = dataset(events, "telnet")
    actions = [e.fields["event.action"] for e in telnet]
    assert actions == [
        "telnet-login-name",
        "telnet-password",
        "telnet-login-name",
        "telnet-password",
        "telnet-command",
    ]
    assert telnet[0].fields["user.name"] == "alice"
    assert telnet[-1].original["arg"] == "cat /etc/shadow"
    no_clear_text(events, "wrongpass1", "secret")


def test_telnet_password_without_verdict_is_unknown(tmp_path):
    session = Session(23).handshake().dialogue(
        (False, b"login: "), (True, b"root\r\n"), (False, b"Password: "), (True, b"toor1234\r\n"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "telnet.pcap", session.packets))
    assert auths(events) == [("root", "unknown")]


def test_telnet_on_an_unusual_port_is_recognised_by_its_negotiation(tmp_path):
    session = Session(2600).handshake().dialogue(
        (False, b"\xff\xfd\x18login: "), (True, b"bob\r\n"), (False, b"Password: "), (True, b"bobspassword\r\n"),
        (False, b"\r\nLogin incorrect\r\n"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "telnet.pcap", session.packets))
    assert auths(events) == [("bob", "failure")]


# -- IRC ----------------------------------------------------------------------------------------


def test_irc_commands_and_pass_outcomes(tmp_path):
    good = Session(6667).handshake().dialogue(
        (False, b":irc.example NOTICE * :*** Looking up your hostname\r\n"),
        (True, b"PASS ircsecret99\r\nNICK bob\r\nUSER bob 0 * :Bob B\r\n"),
        (False, b":irc.example 001 bob :Welcome to the network bob\r\n"),
        (True, b"JOIN #ops\r\nPRIVMSG #ops :hello all\r\n"),
        (True, b"PRIVMSG alice :\x01DCC SEND loot.zip 3232235777 5000 1024\x01\r\nPING :x\r\n"),
        (True, b"OPER bob operpass1\r\n"), (False, b":irc.example 491 bob :No O-lines for your host\r\n"),
    ).close()  # fmt: skip
    bad = Session(6667, client_port=40001).handshake().dialogue(
        (True, b"PASS wrongirc12\r\nNICK eve\r\nUSER eve 0 * :Eve\r\n"),
        (False, b":irc.example 464 eve :Password incorrect\r\nERROR :Closing link\r\n"),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "irc.pcap", good.packets + bad.packets))
    assert auths(events) == [("bob", "success"), ("bob", "failure"), ("eve", "failure")]
    methods = [e.fields["credential.method"] for e in dataset(events, "auth")]
    assert methods == ["password", "irc-oper", "password"]
    irc = {e.original["command"]: e for e in dataset(events, "irc")}
    assert {"PASS", "NICK", "USER", "JOIN", "PRIVMSG", "OPER"} <= set(irc) and "PING" not in irc
    assert irc["JOIN"].fields["irc.channel"] == "#ops" and irc["JOIN"].fields["irc.nick"] == "bob"
    assert irc["PASS"].original["arg"] == "****"  # the last PASS seen
    dcc = next(e for e in dataset(events, "irc") if "irc.dcc.file_name" in e.fields).fields
    assert (dcc["irc.dcc.file_name"], dcc["irc.dcc.address"], dcc["irc.dcc.port"]) == (
        "loot.zip",
        "192.168.1.1",
        5000,
    )
    no_clear_text(events, "ircsecret99", "wrongirc12", "operpass1")


# -- MySQL --------------------------------------------------------------------------------------


def test_mysql_login_success_and_failure(tmp_path):
    good = Session(3306).handshake().dialogue(
        (False, wire.mysql_greeting()), (True, wire.mysql_login("carol", "shop", "caching_sha2_password", b"x" * 32)),
        (False, wire.mysql_packet(2, b"\x01\x03")), (False, wire.MYSQL_OK),
    ).close()  # fmt: skip
    bad = Session(3306, client_port=40001).handshake().dialogue(
        (False, wire.mysql_greeting()), (True, wire.mysql_login("root", "", "mysql_native_password", b"y" * 20)),
        (False, wire.mysql_error(1045, "Access denied for user 'root'@'10.0.0.5' (using password: YES)")),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "mysql.pcap", good.packets + bad.packets))
    assert auths(events) == [("carol", "success"), ("root", "failure")]
    success, failure = (e.fields for e in dataset(events, "auth"))
    assert success["mysql.auth_plugin"] == "caching_sha2_password" and success["mysql.database"] == "shop"
    assert success["mysql.server_version"] == "8.0.36" and "credential.masked" not in success
    assert failure["error.code"] == "1045" and failure["credential.method"] == "mysql_native_password"


def test_mysql_clear_password_plugin_is_a_credential(tmp_path):
    session = Session(3306).handshake().dialogue(
        (False, wire.mysql_greeting("mysql_clear_password")),
        (True, wire.mysql_login("dba", "hr", "mysql_clear_password", b"cleartextpw1\x00")), (False, wire.MYSQL_OK),
    ).close()  # fmt: skip
    capture = write(tmp_path / "mysql.pcap", session.packets)
    events, _ = events_of(capture)
    (auth,) = dataset(events, "auth")
    assert auth.fields["credential.masked"] == "c****1" and auth.fields["user.name"] == "dba"
    no_clear_text(events, "cleartextpw1")
    alerts, _ = scan(capture)
    assert any(a.rule.title == CLEARTEXT and a.user == {"name": "dba"} for a in alerts)


# -- PostgreSQL ---------------------------------------------------------------------------------


def test_postgresql_cleartext_login_failure_then_md5_success(tmp_path):
    bad = Session(5432).handshake().dialogue(
        (True, struct.pack("!II", 8, 80877103)), (False, b"N"),
        (True, wire.pg_startup(user="dave", database="sales", application_name="psql")),
        (False, wire.pg_auth(3)), (True, wire.pg_message(b"p", b"pgpassword9\0")),
        (False, wire.pg_error("28P01", 'password authentication failed for user "dave"')),
    ).close()  # fmt: skip
    good = Session(5432, client_port=40001).handshake().dialogue(
        (True, wire.pg_startup(user="erin", database="hr")), (False, wire.pg_auth(5, b"salt")),
        (True, wire.pg_message(b"p", b"md5" + b"0" * 32 + b"\0")), (False, wire.pg_auth(0) + wire.PG_READY),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "pg.pcap", bad.packets + good.packets))
    assert auths(events) == [("dave", "failure"), ("erin", "success")]
    failure, success = (e.fields for e in dataset(events, "auth"))
    assert failure["credential.masked"] == "****" and failure["credential.method"] == "cleartext"
    assert failure["error.code"] == "28P01" and failure["postgresql.database"] == "sales"
    assert success["credential.method"] == "md5" and "credential.masked" not in success
    startups = [
        e.fields for e in dataset(events, "postgresql") if e.fields["event.action"] == "postgresql-startup"
    ]
    assert [(s["user.name"], s["postgresql.database"]) for s in startups] == [
        ("dave", "sales"),
        ("erin", "hr"),
    ]
    no_clear_text(events, "pgpassword9")


def test_postgresql_error_after_authentication_ok_is_a_failure(tmp_path):
    session = Session(5432).handshake().dialogue(
        (True, wire.pg_startup(user="test", database="postgres")),
        (False, wire.pg_auth(0) + wire.pg_error("28000", 'role "test" does not exist')),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "pg.pcap", session.packets))
    assert auths(events) == [("test", "failure")]


# -- LDAP ---------------------------------------------------------------------------------------


def test_ldap_simple_bind_failure_and_success(tmp_path):
    session = Session(389).handshake().dialogue(
        (True, wire.ldap_simple_bind(1, "cn=admin,dc=example,dc=com", "badldappw")),
        (False, wire.ldap_bind_response(1, 49, "80090308: LdapErr: invalid credentials")),
        (True, wire.ldap_simple_bind(2, "cn=admin,dc=example,dc=com", "goodldappw")),
        (False, wire.ldap_bind_response(2, 0)),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "ldap.pcap", session.packets))
    assert auths(events) == [
        ("cn=admin,dc=example,dc=com", "failure"),
        ("cn=admin,dc=example,dc=com", "success"),
    ]
    failure, success = (e.fields for e in dataset(events, "auth"))
    assert failure["ldap.result"] == "invalidCredentials" and failure["credential.masked"] == "****"
    assert success["credential.method"] == "simple" and success["ldap.result_code"] == 0
    binds = dataset(events, "ldap")
    assert [e.fields["event.outcome"] for e in binds] == ["failure", "success"]
    no_clear_text(events, "badldappw", "goodldappw")


def test_ldap_bind_on_an_unusual_port_and_anonymous_bind(tmp_path):
    session = Session(10389).handshake().dialogue(
        (True, wire.ldap_simple_bind(1, "", "")), (False, wire.ldap_bind_response(1, 0)),
        (True, wire.ldap_simple_bind(2, "uid=svc", "svcpassword")), (False, wire.ldap_bind_response(2, 0)),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "ldap.pcap", session.packets))
    assert auths(events) == [("uid=svc", "success")]  # the anonymous bind is an LDAP event, not a login
    assert [e.fields["ldap.bind.method"] for e in dataset(events, "ldap")] == ["anonymous", "simple"]


# -- Kerberos -----------------------------------------------------------------------------------


def test_kerberos_udp_preauth_required_then_failed_then_success(tmp_path):
    realm = "EXAMPLE.COM"
    packets = [
        udp(wire.as_req("alice", realm), 50000, 88, at=T0),
        udp(wire.krb_error(25, realm), 88, 50000, src=SERVER, dst=CLIENT, at=T0 + 0.01),
        udp(wire.as_req("alice", realm, preauth=True), 50001, 88, at=T0 + 0.02),
        udp(wire.krb_error(24, realm), 88, 50001, src=SERVER, dst=CLIENT, at=T0 + 0.03),
        udp(wire.as_req("alice", realm, preauth=True), 50002, 88, at=T0 + 0.04),
        udp(wire.as_rep("alice", realm), 88, 50002, src=SERVER, dst=CLIENT, at=T0 + 0.05),
        udp(wire.as_req("mallory", realm), 50003, 88, at=T0 + 0.06),
        udp(wire.krb_error(6, realm), 88, 50003, src=SERVER, dst=CLIENT, at=T0 + 0.07),
    ]
    events, _ = events_of(write(tmp_path / "krb.pcap", packets))
    assert auths(events) == [("alice", "failure"), ("alice", "success"), ("mallory", "failure")]
    failed = dataset(events, "auth")[0].fields
    assert failed["kerberos.error"] == "KDC_ERR_PREAUTH_FAILED" and failed["user.domain"] == realm
    assert failed["credential.method"] == "kerberos" and failed["kerberos.preauth"] is True
    krb = dataset(events, "kerberos")
    assert [e.fields.get("kerberos.error_code") for e in krb] == [25, 24, None, 6]
    assert krb[0].fields["kerberos.service"] == "krbtgt/EXAMPLE.COM"
    assert krb[0].fields["kerberos.etypes"] == ["aes256-cts-hmac-sha1-96", "rc4-hmac"]
    assert krb[2].original["client"] == "alice/EXAMPLE.COM" and krb[2].original["success"] is True


def test_kerberos_over_tcp(tmp_path):
    request, reply = wire.as_req("bob", "CORP.LOCAL", preauth=True), wire.krb_error(18, "CORP.LOCAL")
    session = Session(88).handshake().dialogue(
        (True, struct.pack("!I", len(request)) + request[:10]), (True, request[10:]),
        (False, struct.pack("!I", len(reply)) + reply),
    ).close()  # fmt: skip
    events, _ = events_of(write(tmp_path / "krb.pcap", session.packets))
    assert auths(events) == [("bob", "failure")]
    assert dataset(events, "auth")[0].fields["kerberos.error"] == "KDC_ERR_CLIENT_REVOKED"


# -- garbage ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "client", "server", "service"),
    [
        (3306, b"", b"\x20\x00\x00\x00\x42" + b"\x00" * 32, "mysql"),
        (5432, b"\x00\x00\x00\x02garbage!", b"", "postgresql"),
        (389, b"\x41\x42\x43\x44\x45\x46\x47\x48", b"", "ldap"),
        (389, b"\x30\x85\x01\x02\x03\x04\x05\x06\x07\x08", b"", "ldap"),
        (88, struct.pack("!I", 8) + b"\x6a\x0a\x30\x08\xa1\x03\x02\x01", b"", "kerberos"),
        (88, struct.pack("!I", 0x7FFFFFF0) + b"x" * 16, b"", "kerberos"),
    ],
)
def test_garbage_protocol_payloads_are_counted_not_fatal(tmp_path, port, client, server, service):
    session = Session(port).handshake()
    if server:
        session.send(False, server)
    if client:
        session.send(True, client)
    events, summary = events_of(write(tmp_path / "garbage.pcap", session.close().packets))
    warnings = summary.inputs[0].warnings
    assert any(reason.startswith(f"{service}:") for reason in warnings), warnings
    assert not dataset(events, "auth") and len(dataset(events, "flow")) == 1


def test_truncated_and_random_datagrams_on_login_ports(tmp_path):
    noise = random.Random(88)  # seeded: a run must not depend on what the noise happens to spell
    packets = [udp(noise.randbytes(40), 40000 + i, 88, at=T0 + i) for i in range(20)]
    packets += [udp(wire.as_req("alice", "EXAMPLE.COM")[:25], 41000, 88, at=T0 + 30)]
    events, summary = events_of(write(tmp_path / "krb.pcap", packets))
    assert sum(v for k, v in summary.inputs[0].warnings.items() if k.startswith("kerberos:")) == 21
    assert not dataset(events, "auth")


def test_truncated_login_streams_never_raise(tmp_path):
    messages = {
        23: b"\xff\xfa\x18" + b"x" * 10,
        6667: b"PASS " + b"y" * 9000,
        3306: wire.mysql_login("u", "d", "p", b"z" * 20)[:30],
        5432: wire.pg_startup(user="x")[:-3],
        389: wire.ldap_simple_bind(1, "cn=x", "pw")[:-4],
        88: struct.pack("!I", 500) + wire.as_req("a", "B")[:40],
    }
    packets = []
    for index, (port, payload) in enumerate(messages.items()):
        packets += Session(port, client_port=42000 + index).handshake().send(True, payload).close().packets
    events, summary = events_of(write(tmp_path / "cut.pcap", packets))
    assert summary.inputs[0].error is None and len(dataset(events, "flow")) == len(messages)


# -- CLI: no clear password anywhere ------------------------------------------------------------


def test_scan_and_events_output_never_show_the_clear_passwords(tmp_path):
    ldap = Session(389, client_port=40100).handshake().dialogue(
        (True, wire.ldap_simple_bind(1, "cn=admin", "ldapClearPw1")), (False, wire.ldap_bind_response(1, 0)),
    ).close()  # fmt: skip
    pg = Session(5432, client_port=40101).handshake().dialogue(
        (True, wire.pg_startup(user="dave")), (False, wire.pg_auth(3)),
        (True, wire.pg_message(b"p", b"pgClearPw22\0")), (False, wire.pg_auth(0) + wire.PG_READY),
    ).close()  # fmt: skip
    capture = write(tmp_path / "mixed.pcap", telnet_session().packets + ldap.packets + pg.packets)
    runner = CliRunner()
    scanned = runner.invoke(cli, ["scan", "--format", "jsonl", str(capture)])
    listed = runner.invoke(cli, ["events", str(capture)])
    assert scanned.exception is None and listed.exception is None, (scanned.output, listed.output)
    for output in (scanned.output, listed.output):
        for secret in ("ldapClearPw1", "pgClearPw22", "wrongpass1", "telnet\xffsecret", "netsecret"):
            assert secret not in output
    users = {
        json.loads(line).get("user", {}).get("name")
        for line in scanned.output.splitlines()
        if line.startswith("{")
    }
    assert {"alice", "cn=admin", "dave"} <= users
    auth_only = runner.invoke(cli, ["events", "--category", "auth", str(capture)])
    assert len([line for line in auth_only.output.splitlines() if line.startswith("{")]) == 4
    revealed = runner.invoke(cli, ["events", "--reveal-secrets", "--category", "auth", str(capture)])
    assert "ldapClearPw1" in revealed.output


# -- the shared real captures -------------------------------------------------------------------


def _real(relative):
    events, summary = events_of(shared(relative))
    assert summary.inputs[0].error is None
    return events


@pytest.mark.parametrize(
    ("capture", "expected"),
    [
        ("pcaps/mysql/auth.pcap", [("root_nope", "failure")] * 5 + [("root", "failure")] * 4 + [("root", "success")]),
        ("pcaps/mysql/mysql8-navicat-login-failed.pcap", [("dsm1", "failure")]),
        ("pcaps/mysql/change-user-error.pcap", [("root", "success"), ("root2", "failure")]),
        ("pcaps/mysql/change-user-success.pcap", [("root", "success"), ("root2", "success")]),
        ("pcaps/mysql/mysql.pcap", [("tfoerste", "success")]),
        ("pcaps/mysql/tls-13-amazon-rds.pcap", []),
        ("pcaps/postgresql/psql-login.pcap", [("zeek", "success")]),
        ("pcaps/postgresql/psql-login-wrong.pcap", [("zeek", "failure")]),
        ("pcaps/postgresql/psql-login-fail.pcap", [("postgres", "failure")]),
        ("pcaps/postgresql/psql-login-no-role.pcap", [("test", "failure")]),
        ("pcaps/postgresql/greenhouse-app.pcap", [("user", "success"), ("user", "success")]),
        ("pcaps/postgresql/mysql-on-port-5432.pcap", [("root", "success"), ("root2", "success")]),
        ("pcaps/ldap/simpleauth-diff-port.pcap", [("xxxxxxxxxxx@xx.xxx.xxxxx.net", "success"),
                                                  ("CN=xxxxxxxx,OU=Users,OU=Accounts,DC=xx,DC=xxx,DC=xxxxx,DC=net", "success")]),
        ("pcaps/ldap/ldap-add.pcap", [("cn=admin,dc=example,dc=com", "success")]),
        ("pcaps/ldap/sasl-ntlm.pcap", [("sasladmin@slapd.ldap", "success")]),
        ("pcaps/ldap/aduser1-ntlm.pcap", [("User1", "success")]),
        ("pcaps/krb/kerberos_tso.pcapng", [("Administrator", "success")] * 2),
        ("pcaps/krb/auth.pcap", []),
        ("pcaps/irc-more-commands.pcap", [("tim", "success"), ("tim", "failure"), ("tim", "success"), ("tim", "success")]),
        ("pcaps/irc-basic.pcap", []),
    ],
)  # fmt: skip
def test_real_capture_logins(capture, expected):
    assert auths(_real(capture)) == expected


def test_real_ldap_invalid_credentials_name_the_ntlm_users():
    events = _real("pcaps/ldap/ldap_invalid_credentials.pcap")
    found = auths(events)
    assert len(found) == 12 and {outcome for _, outcome in found} == {"failure"}
    assert {user for user, _ in found} == {"Administrator", "DC01-ZION$", "DESKTOP-EVIL$", "DESKTOP-VICTIM$",
                                          "agent.smith", "mister.andersson"}  # fmt: skip
    assert all(e.fields["ldap.result"] == "invalidCredentials" for e in dataset(events, "auth"))


def test_real_kerberos_events():
    events = _real("pcaps/krb/kerberos_tso.pcapng")
    krb = dataset(events, "kerberos")
    assert [e.fields["kerberos.request_type"] for e in krb] == ["AS", "AS", "TGS", "TGS", "AS", "AS", "TGS"]
    assert (
        krb[0].fields["kerberos.error"] == "KDC_ERR_PREAUTH_REQUIRED"
        and krb[0].fields["user.name"] == "administrator"
    )
    assert krb[2].fields["kerberos.service"] == "cifs/win7.test.local"
    kinit = _real("pcaps/krb/kinit.pcap")
    outcomes = Counter(auths(kinit))
    assert outcomes[("valid_client_principal", "success")] == 44
    assert outcomes[("invalid_client_principal", "failure")] == 2
    assert outcomes[("lockout_policy_client_principal", "failure")] == 5
    reasons = {e.fields["user.name"]: e.fields.get("kerberos.error") for e in dataset(kinit, "auth")
               if e.fields["event.outcome"] == "failure"}  # fmt: skip
    assert reasons["invalid_client_principal"] == "KDC_ERR_C_PRINCIPAL_UNKNOWN"
    assert reasons["expired_password_client_principal"] == "KDC_ERR_KEY_EXPIRED"
    assert reasons["expired_client_principal"] == "KDC_ERR_NAME_EXP"


def test_real_irc_commands():
    events = _real("pcaps/irc-basic.pcap")
    commands = [e.original["command"] for e in dataset(events, "irc")]
    assert commands == ["USER", "NICK", "JOIN", "PRIVMSG", "QUIT"]
    assert dataset(events, "irc")[2].fields["irc.channel"] == "#brotest"
    more = _real("pcaps/irc-more-commands.pcap")
    passes = [e for e in dataset(more, "irc") if e.original["command"] == "PASS"]
    assert passes and all(e.original["arg"] == "****" for e in passes)
    dcc = _real("pcaps/irc-dcc-first-command.pcap")
    (offer,) = [e.fields for e in dataset(dcc, "irc")]
    assert offer["irc.dcc.file_name"] == "hello.txt" and offer["irc.dcc.address"] == "10.0.0.1"


def test_real_ldap_simple_bind_raises_the_cleartext_alert_masked():
    alerts, _ = scan(shared("pcaps/ldap/simpleauth.pcap"))
    found = [a for a in alerts if a.rule.title == CLEARTEXT]
    assert len(found) == 2
    document = json.dumps([a.document() for a in alerts])
    assert "passwor8d1" not in document and "****" in document


def test_real_telnet_stress_captures_stay_bounded():
    events = _real("pcaps/contentline/telnet-unclosed-suboption.pcapng.gz")
    assert not dataset(events, "auth")
    events = _real("pcaps/contentline/telnet-long-line-no-eol.pcapng.gz")
    assert not dataset(events, "auth")
