"""Bad input never crashes the scan: malformed lines, wrong encodings, truncated gzip, binary garbage,
a 100 MB line, an empty file. Each is counted and reported (``--strict`` to fail instead); the rest is
scanned. Every case runs the real command line in a subprocess, on files built from real sshd lines.
"""

from __future__ import annotations

import bz2
import gzip
import itertools
import json
import os
import random
import re
import subprocess
import sys
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import shared
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import ParseOptions

ATTACKER = "183.62.140.253"
MAX_RECORD = 1 << 20  # the default scan.max_record_bytes
MALFORMED = [
    b"this is not a syslog line",
    b'{"not": "syslog"}',
    b"Dec 10 garbage",
    b"-----8<-----",
    b"12345",
    b"=?utf-8?q?junk?=",
]
BIG_LINE_MB = 100
BAD_ELEMENT = 30  # index of the element damaged in the JSON array


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    maxrss_kb: int = 0
    alerts: list[dict] = field(default_factory=list)

    def summary(self) -> Summary:
        return Summary.parse(self.stderr)

    def brute_force(self, ip: str = ATTACKER) -> list[dict]:
        return [
            a
            for a in self.alerts
            if a["rule"]["title"] == "Brute Force From One Source" and a.get("source", {}).get("ip") == ip
        ]


@dataclass
class Summary:
    """The end-of-run summary on stderr, of ``scan`` or of ``events``."""

    inputs: int
    events: int
    skipped: dict[str, int]
    warnings: dict[str, int]
    not_read: list[str]

    @classmethod
    def parse(cls, stderr: str) -> Summary:
        read = re.search(r"^Read (\d+) input\(s\), ([\d,]+) events", stderr, re.M)
        if read:  # scan
            inputs, events = int(read[1]), int(read[2].replace(",", ""))
            skipped = {
                m[2]: int(m[1].replace(",", ""))
                for m in re.finditer(r"^ {4} *([\d,]+)  (\S.*)$", stderr, re.M)
            }
        else:  # events
            read = re.search(r"^([\d,]+) events from (\d+) input\(s\)", stderr, re.M)
            assert read, stderr
            inputs, events = int(read[2]), int(read[1].replace(",", ""))
            skipped = {
                m[2]: int(m[1].replace(",", ""))
                for m in re.finditer(r"^  skipped ([\d,]+): (.+)$", stderr, re.M)
            }
        warnings = {
            m[2]: int(m[1].replace(",", ""))
            for m in re.finditer(r"^  warning ([\d,]+) record\(s\): (.+)$", stderr, re.M)
        }
        not_read = re.findall(r"^  not read: (.+)$", stderr, re.M)
        return cls(inputs, events, skipped, warnings, not_read)


def tocsin(*args: str | Path, stdin: bytes | None = None) -> Result:
    """Run the real CLI; alerts are parsed from stdout for ``scan`` (always --format jsonl)."""
    argv = [sys.executable, "-m", "tocsin", *map(str, args)]
    if args[0] == "scan":
        argv += ["--format", "jsonl"]
    env = {**os.environ, "COLUMNS": "1000"}  # no wrapping of the summary lines
    env.pop("TOCSIN_DEBUG", None)
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=120, env=env)
    result = Result(
        proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    if args[0] == "scan":
        result.alerts = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result


def tocsin_measured(*args: str | Path, stdout_path: Path) -> Result:
    """Run the CLI and measure the child's own peak RSS (os.wait4), with stdout to a file."""
    env = {**os.environ, "COLUMNS": "1000"}
    with open(stdout_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", *map(str, args)], stdout=out, stderr=subprocess.PIPE, env=env
        )
        stderr = proc.stderr.read()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = stdout_path.read_text()
    result = Result(proc.returncode, text, stderr.decode("utf-8", "replace"), usage.ru_maxrss)
    assert "Traceback" not in result.stderr, result.stderr
    result.alerts = [json.loads(line) for line in text.splitlines() if line.strip()]
    return result


def failures_from(lines: list[bytes], ip: str = ATTACKER) -> int:
    return sum(1 for line in lines if b"]: Failed " in line and ip.encode() in line)


def failed_documents(documents: list[dict], ip: str = ATTACKER) -> int:
    return sum(
        1
        for doc in documents
        if doc.get("event", {}).get("type") == "start"
        and doc.get("event", {}).get("outcome") == "failure"
        and doc.get("source", {}).get("ip") == ip
    )


def in_process(path: Path) -> ReadSummary:
    """What the library reads from ``path``, in this process."""
    summary = ReadSummary()
    for _ in read_events([str(path)], None, ParseOptions(), summary):
        pass
    return summary


@dataclass
class Corpus:
    """Bad inputs built at test time from real OpenSSH lines, each in a file of one directory."""

    root: Path
    lines: list[bytes]
    burst: list[bytes]
    files: dict[str, Path] = field(default_factory=dict)
    expected_events: dict[str, int] = field(default_factory=dict)
    #: The burst's events as ECS JSON documents (what ``tocsin events`` prints), for the JSON inputs.
    documents: list[dict] = field(default_factory=list)

    def write(self, name: str, data: bytes, events: int | None = None) -> Path:
        path = self.root / name
        path.write_bytes(data)
        self.files[name] = path
        if events is not None:
            self.expected_events[name] = events
        return path


def join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    lines = shared("authlogs/OpenSSH_2k.log").read_bytes().splitlines()
    linux = shared("authlogs/Linux_2k.log").read_bytes().splitlines()
    # Lines 1020-1080: the start of the brute force from 183.62.140.253, with its PAM and disconnect notices.
    burst = lines[1019:1080]
    assert failures_from(burst) == 18 and not any(b"message repeated" in line for line in burst)
    corpus = Corpus(tmp_path_factory.mktemp("bad-inputs"), lines, burst)

    mixed = list(burst)
    for index, junk in enumerate(MALFORMED):
        mixed.insert(3 + index * 9, junk)
    corpus.write("malformed.log", join(mixed), events=len(burst))

    latin1 = [line.replace(b"zhangyan", b"jos\xe9") for line in burst]
    corpus.write("latin1.log", join(latin1), events=len(burst))

    nul = list(burst)
    first_failure = next(i for i, line in enumerate(nul) if b"]: Failed password for root" in line)
    nul[first_failure] = nul[first_failure].replace(b"Failed password", b"Failed\x00password")
    nul.insert(20, b"\x00\x01\x02\x03\xff\xfe")
    corpus.write("nul.log", join(nul), events=len(burst) - 1)

    corpus.write("utf16.log", join(burst).decode().encode("utf-16"), events=0)
    garbage = random.Random(1905).randbytes(64 * 1024)
    assert not garbage.startswith((b"\x1f\x8b", b"BZh", b"PK\x03\x04", b"\xfd7zXZ"))
    corpus.write("garbage.log", garbage, events=0)

    compressed = gzip.compress(join(lines[1019:]), mtime=0)
    corpus.write("trunc.log.gz", compressed[: len(compressed) // 2])

    corpus.write("openssh.log.bz2", bz2.compress(join(lines)), events=2008)

    archive = corpus.root / "archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("logs/burst.log", join(burst))
        handle.writestr("logs/linux.log", join(linux[:200]))
        handle.writestr("README.txt", b"Collected from the jump host after the incident, see ticket 4711.\n")
    corpus.files["archive.zip"] = archive
    corpus.expected_events["archive.zip"] = len(burst) + 200

    big = corpus.root / "big.log"
    with open(big, "wb") as handle:
        handle.write(join(lines[:10]))
        handle.write(lines[10])
        chunk = b"A" * (1 << 20)
        for _ in range(BIG_LINE_MB):
            handle.write(chunk)
        handle.write(b"\n")
        handle.write(join(burst))
    corpus.files["big.log"] = big
    corpus.expected_events["big.log"] = 10 + len(burst)

    corpus.write("empty.log", b"", events=0)

    documents = [
        event.to_document()
        for event in read_events([str(corpus.files["malformed.log"])], None, ParseOptions(), ReadSummary())
    ]
    assert len(documents) == len(burst)
    corpus.documents = documents
    records = [json.dumps(doc, default=str).encode() for doc in documents]
    jsonl = [*records[:25], b'{"@timestamp": "2025-12-10T10:54:40Z", "event": {"category": ', *records[25:]]
    jsonl[-1] = jsonl[-1][: len(jsonl[-1]) // 2]  # the last object is cut off, without a line end
    corpus.write("events.jsonl", b"\n".join(jsonl), events=len(burst) - 1)

    array = [json.dumps(doc, default=str, indent=1) for doc in documents]
    array[BAD_ELEMENT] = (
        '{\n "@timestamp": "2025-12-10T10:54:50Z",\n "event": {"category": "authentication", oops}\n}'
    )
    corpus.write("events.json", ("[\n" + ",\n".join(array) + "\n]\n").encode())
    return corpus


# --- one kind of damage at a time ----------------------------------------------------------------


def test_malformed_lines_are_counted_and_the_rest_scanned(corpus):
    result = tocsin("scan", corpus.files["malformed.log"])
    assert result.code == 0
    summary = result.summary()
    assert summary.events == len(corpus.burst) == 61
    assert summary.skipped == {"not a syslog line": len(MALFORMED)}
    (alert,) = result.brute_force()
    assert alert["event_count"] == 18
    strict = tocsin("scan", "--strict", corpus.files["malformed.log"])
    assert strict.code == 2
    assert "tocsin: error: records or inputs were skipped (--strict)" in strict.stderr
    assert strict.summary().skipped == {"not a syslog line": 6}
    assert strict.brute_force()[0]["event_count"] == 18  # --strict fails the run, not the scan


def test_latin1_bytes_are_kept_with_a_warning(corpus):
    result = tocsin("scan", "--strict", corpus.files["latin1.log"])
    assert result.code == 0  # a warning is not a skip: --strict passes
    summary = result.summary()
    replaced = sum(1 for line in corpus.burst if b"zhangyan" in line)
    assert replaced == 3
    assert summary.events == 61 and summary.skipped == {}
    assert summary.warnings == {"not UTF-8, read as Latin-1": replaced}
    assert result.brute_force()[0]["event_count"] == 18
    events = tocsin("events", corpus.files["latin1.log"])
    users = [json.loads(line).get("user", {}).get("name") for line in events.stdout.splitlines()]
    assert users.count("josé") == 2 and "zhangyan" not in users


def test_nul_bytes_skip_the_line(corpus):
    result = tocsin("scan", corpus.files["nul.log"])
    assert result.code == 0
    summary = result.summary()
    assert summary.skipped == {"binary data (NUL bytes)": 2}
    assert summary.events == 60
    assert result.brute_force()[0]["event_count"] == 17  # the damaged attempt is not counted
    assert tocsin("scan", "--strict", corpus.files["nul.log"]).code == 2


@pytest.mark.parametrize("name", ["utf16.log", "garbage.log"])
def test_unrecognised_file_is_reported_and_the_others_scanned(corpus, name):
    bad = corpus.files[name]
    result = tocsin("scan", bad, corpus.files["malformed.log"])
    # An input named on the command line that cannot be read fails the run (exit 2)...
    assert result.code == 2
    summary = result.summary()
    assert summary.inputs == 2 and summary.events == 61
    (problem,) = summary.not_read
    assert problem.startswith(f"{bad}: unrecognised format (starts with ")
    assert problem.endswith("); use --format-in")
    assert f"tocsin: error: cannot read {bad}: unrecognised format" in result.stderr
    # ...but not before the readable one was scanned.
    assert result.brute_force()[0]["event_count"] == 18


def test_truncated_gzip_scans_the_readable_part(corpus):
    path = corpus.files["trunc.log.gz"]
    result = tocsin("scan", path)
    assert result.code == 0
    summary = result.summary()
    assert summary.skipped == {"truncated or corrupt compressed data (EOFError)": 1}
    total = len(corpus.lines) - 1019
    assert 61 <= summary.events < total  # the burst at the start is read, the lost half is not
    assert result.brute_force(), result.alerts
    events = tocsin("events", path)
    assert len(events.stdout.splitlines()) == summary.events
    assert events.summary().skipped == {"truncated or corrupt compressed data (EOFError)": 1}
    assert tocsin("scan", "--strict", path).code == 2


def test_truncated_gzip_keeps_every_complete_line(corpus, tmp_path):
    data = corpus.files["trunc.log.gz"].read_bytes()
    readable = zlib.decompressobj(wbits=31).decompress(data)
    complete = readable[: readable.rindex(b"\n") + 1]
    plain = tmp_path / "recoverable.log"
    plain.write_bytes(complete)
    expected = in_process(plain).events
    assert expected > 0
    assert tocsin("events", corpus.files["trunc.log.gz"]).summary().events == expected


def test_bz2_and_zip_inputs(corpus):
    result = tocsin("scan", "--strict", corpus.files["openssh.log.bz2"])
    assert result.code == 0
    summary = result.summary()
    assert summary.events == 2008 and summary.skipped == {} and summary.not_read == []
    assert result.brute_force()[0]["event_count"] == 286
    result = tocsin("scan", corpus.files["archive.zip"])
    # The member README.txt is found in the archive, not named: passed over as not a log.
    assert result.code == 0
    summary = result.summary()
    assert summary.inputs == 2 and summary.events == 61 + 200 and summary.not_read == []
    assert "  passed over 1 file(s) that are not logs: documentation (1)" in result.stderr.splitlines()
    assert result.brute_force()[0]["event_count"] == 18
    events = tocsin("events", corpus.files["archive.zip"])
    paths = {json.loads(line)["log"]["file"]["path"] for line in events.stdout.splitlines()}
    assert paths == {
        f"{corpus.files['archive.zip']}!logs/burst.log",
        f"{corpus.files['archive.zip']}!logs/linux.log",
    }


def test_a_100_mb_line_is_skipped_in_bounded_memory(corpus, tmp_path):
    big = corpus.files["big.log"]
    assert big.stat().st_size > BIG_LINE_MB << 20
    small = tmp_path / "small.log"
    small.write_bytes(join(corpus.lines[:11] + corpus.burst))  # the same lines, line 11 short
    baseline = tocsin_measured("scan", "--format", "jsonl", small, stdout_path=tmp_path / "small.jsonl")
    result = tocsin_measured("scan", "--format", "jsonl", big, stdout_path=tmp_path / "big.jsonl")
    assert baseline.code == result.code == 0
    summary = result.summary()
    assert summary.skipped == {f"record longer than {MAX_RECORD} bytes": 1}
    assert summary.events == 10 + 61 == baseline.summary().events - 1  # line 11 is the long one
    assert result.brute_force()[0]["event_count"] == 18  # the lines after the long one were scanned
    growth_mb = (result.maxrss_kb - baseline.maxrss_kb) / 1024
    # Growth beside the same scan without the long line, not an absolute figure: a forked child's
    # peak RSS starts at the size of the test process it was forked from.
    assert growth_mb < 50, f"peak RSS grew by {growth_mb:.0f} MB for a {BIG_LINE_MB} MB line"


def test_empty_file_is_reported_not_an_error(corpus):
    result = tocsin("scan", "--strict", corpus.files["empty.log"], corpus.files["malformed.log"])
    assert result.code == 2  # the malformed lines are what --strict objects to
    result = tocsin("scan", "--strict", corpus.files["empty.log"], corpus.files["latin1.log"])
    assert result.code == 0
    assert re.search(r"^Read 2 input\(s\), 61 events \(1 empty, 1 syslog\)", result.stderr, re.M)
    assert result.summary().not_read == []
    alone = tocsin("scan", corpus.files["empty.log"])
    assert alone.code == 0
    assert "(1 empty)" in alone.stderr
    assert "Nothing was checked: no events were read. This is not a clean result." in alone.stderr
    assert tocsin("events", corpus.files["empty.log"]).summary().events == 0


def test_stdin(corpus):
    data = corpus.files["malformed.log"].read_bytes()
    result = tocsin("scan", "-", stdin=data)
    assert result.code == 0
    summary = result.summary()
    assert summary.inputs == 1 and summary.events == 61
    assert summary.skipped == {"not a syslog line": 6}
    assert result.brute_force()[0]["event_count"] == 18
    assert tocsin("scan", "--strict", "-", stdin=data).code == 2
    piped = tocsin("events", "-", stdin=gzip.compress(join(corpus.lines)))
    assert piped.summary().events == 2008 and len(piped.stdout.splitlines()) == 2008
    assert {json.loads(line)["log"]["file"]["path"] for line in piped.stdout.splitlines()} == {"<stdin>"}


def test_jsonl_with_a_malformed_line_and_a_truncated_last_object(corpus):
    result = tocsin("scan", corpus.files["events.jsonl"])
    assert result.code == 0
    summary = result.summary()
    assert summary.skipped == {"malformed JSON": 2}
    assert summary.events == 60 and re.search(r"60 events \(1 json\)", result.stderr)
    assert result.brute_force()[0]["event_count"] == failed_documents(corpus.documents[:-1]) == 18
    assert tocsin("scan", "--strict", corpus.files["events.jsonl"]).code == 2


def test_json_array_with_a_bad_element(corpus):
    result = tocsin("scan", corpus.files["events.json"])
    assert result.code == 0
    summary = result.summary()
    assert sum(summary.skipped.values()) == 1
    (reason,) = summary.skipped
    assert "JSON" in reason
    assert summary.events >= BAD_ELEMENT  # everything before the bad element is read
    assert tocsin("scan", "--strict", corpus.files["events.json"]).code == 2


def test_json_array_keeps_the_elements_after_a_bad_one(corpus):
    result = tocsin("scan", corpus.files["events.json"])
    summary = result.summary()
    assert summary.events == len(corpus.documents) - 1 == 60
    assert sum(summary.skipped.values()) == 1
    good = corpus.documents[:BAD_ELEMENT] + corpus.documents[BAD_ELEMENT + 1 :]
    assert result.brute_force()[0]["event_count"] == failed_documents(good)


def test_nonexistent_path_is_a_usage_error(corpus, tmp_path):
    missing = tmp_path / "no-such.log"
    for command in ("scan", "events"):
        result = tocsin(command, corpus.files["malformed.log"], missing)
        assert result.code == 2
        assert result.stdout == ""
        errors = [line for line in result.stderr.splitlines() if "Error" in line or "error" in line]
        assert errors == [f"Error: no such file or directory: {missing}"]


# --- everything at once ----------------------------------------------------------------------------


def test_a_directory_of_bad_inputs(corpus):
    result = tocsin("scan", corpus.root)
    assert result.code == 0  # nothing here was named explicitly: problems are reported, not fatal
    summary = result.summary()
    # The zip holds three members; its README.txt is not a log, passed over rather than read.
    assert summary.inputs == len(corpus.files) + 1 == 13
    assert "  passed over 1 file(s) that are not logs: documentation (1)" in result.stderr.splitlines()
    root = corpus.root.absolute()
    assert sorted(problem.split(": ", 1)[0] for problem in summary.not_read) == [
        str(root / "garbage.log"),
        str(root / "utf16.log"),
    ]
    assert all(": unrecognised format (starts with " in problem for problem in summary.not_read)
    # The JSON array's own skip is pinned by the tests above; here it only has to be added in.
    array = in_process(corpus.files["events.json"])
    expected_skipped = (
        Counter(
            {
                "not a syslog line": 6,
                "binary data (NUL bytes)": 2,
                "truncated or corrupt compressed data (EOFError)": 1,
                f"record longer than {MAX_RECORD} bytes": 1,
                "malformed JSON": 2,
            }
        )
        + array.skipped
    )
    assert summary.skipped == expected_skipped
    assert summary.warnings == {"not UTF-8, read as Latin-1": 3}
    expected = sum(corpus.expected_events.values())
    expected += in_process(corpus.files["trunc.log.gz"]).events + array.events
    assert summary.events == expected
    assert re.search(r"^Read 13 input\(s\), [\d,]+ events \(1 empty, 2 json, 8 syslog\)", result.stderr, re.M)
    assert result.brute_force(), "the brute force in the readable inputs is still detected"
    strict = tocsin("scan", "--strict", corpus.root)
    assert strict.code == 2
    assert "tocsin: error: records or inputs were skipped (--strict)" in strict.stderr
    assert strict.summary().events == expected


@pytest.mark.parametrize("shape", ["jsonl", "array"])
def test_unpaired_surrogate_escapes_are_read_as_replacement_characters(corpus, tmp_path, shape):
    """JSON can spell half a UTF-16 pair (``\\ud800``); orjson refuses it, Python's decoder lets it
    through, and no UTF-8 output can hold it: the scan stopped on it. An attacker-chosen user name is
    now read with U+FFFD in its place, counted, and the record analysed like any other."""
    documents = json.loads(json.dumps(corpus.documents, default=str))
    named = [document for document in documents if document.get("user", {}).get("name")]
    for document in named:
        document["user"]["name"] += "\ud800"
    texts = [json.dumps(document) for document in documents]  # ensure_ascii: the escape, as sent
    assert sum("\\ud800" in text for text in texts) == len(named) > 0
    path = tmp_path / f"surrogates.{'jsonl' if shape == 'jsonl' else 'json'}"
    path.write_text("\n".join(texts) + "\n" if shape == "jsonl" else "[\n" + ",\n".join(texts) + "\n]\n")
    result = tocsin("scan", path)
    assert result.code == 0
    summary = result.summary()
    assert summary.events == len(documents) and not summary.skipped
    assert summary.warnings == {
        "JSON string with an unpaired surrogate escape, read with U+FFFD in its place": len(named)
    }
    assert result.brute_force()[0]["event_count"] == failed_documents(corpus.documents) == 18
    users = {alert.get("user", {}).get("name") for alert in result.alerts} - {None}
    assert users and all(name.endswith("\ufffd") for name in users)


def one_rule_folder(tmp_path: Path, title: str, logsource: str, selection: str) -> Path:
    """A folder holding one high-level Sigma rule: ``logsource`` and ``selection`` as YAML flow mappings."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rule.yml").write_text(
        f"title: {title}\nid: 0b9d7d7e-9999-4c3a-9d1e-000000000001\nlogsource: {logsource}\n"
        f"detection:\n  selection: {selection}\n  condition: selection\nlevel: high\n"
    )
    return folder


#: Times no date can show: as epoch seconds (plain, beyond 64 bits, hundreds of digits), and as text.
IMPOSSIBLE_TIMES = [1e300, 2**70, 10**400, -1e20, "9999-12-31T23:59:59-05:00"]


def test_impossible_timestamps_are_no_time_not_a_stopped_scan(corpus, tmp_path):
    """An alert is dated by its event: a ``@timestamp`` of 1e300 made that date raise and stopped the
    scan. Such a record now has no time: its alert is dated when raised, correlations set it aside
    (and say so), and every other record is analysed as before."""
    documents = json.loads(json.dumps(corpus.documents, default=str))
    failures = [document for document in documents if "Failed password" in document.get("message", "")]
    hostile = failures[::5]
    for document, value in zip(hostile, itertools.cycle(IMPOSSIBLE_TIMES)):
        document["@timestamp"] = value
    path = tmp_path / "times.jsonl"
    path.write_text("".join(json.dumps(document) + "\n" for document in documents))
    rules = one_rule_folder(
        tmp_path,
        "Failed Password",
        "{product: linux, service: sshd}",
        "{message|contains: 'Failed password'}",
    )
    result = tocsin("scan", path, "--rules", rules)
    assert result.code == 0
    assert result.summary().events == len(documents)
    single = [alert for alert in result.alerts if alert["rule"]["title"] == "Failed Password"]
    assert len(single) == len(failures) > len(hostile) > 0
    assert 0 < result.brute_force()[0]["event_count"] < failed_documents(corpus.documents)
    assert "set aside events without a timestamp" in result.stderr


def test_entities_of_any_json_type_are_named_as_text_and_reported(tmp_path):
    """A record may give ``host.name`` or ``user.name`` any JSON type. Alerts copied it as it came, and
    the HTML report, which groups alerts by host, stopped on a list ("unhashable") or on a boolean
    beside a text ("'<' not supported"). An alert now names its entities as text, as rules compare them."""
    values = [["web-01", "web-02"], {"name": "web-03"}, True, 7, 1.5, ["web-04"], "web-05"]
    # an object is no field value: the record has no host.name (nor user.name) then
    expected = ['["web-01","web-02"]', None, "true", "7", "1.5", "web-04", "web-05"]
    records = [
        {
            "@timestamp": f"2025-03-01T00:00:0{n}Z",
            "message": "admin login",
            "host.name": value,
            "user.name": value,
        }
        for n, value in enumerate(values)
    ]
    path = tmp_path / "entities.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    rules = one_rule_folder(tmp_path, "Admin", "{product: p}", "{message|contains: admin}")
    db = tmp_path / "case.db"
    result = tocsin(
        "scan", path, "--rules", rules, "--no-builtin-rules", "--logsource", "product=p", "--db", db
    )
    assert result.code == 0
    by_time = sorted(result.alerts, key=lambda alert: alert["@timestamp"])
    assert [alert.get("host", {}).get("name") for alert in by_time] == expected
    assert [alert.get("user", {}).get("name") for alert in by_time] == expected
    report = tmp_path / "report.html"
    assert tocsin("report", "--db", db, "-o", report).code == 0
    assert "web-05" in report.read_text(encoding="utf-8")
