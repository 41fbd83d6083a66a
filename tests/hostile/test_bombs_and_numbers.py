"""Finding 15: decompression bombs are cut off with a reason, JSON 1e999/NaN never reach JSON output as
Infinity/NaN, and a CSV header longer than the detection sample is still recognised."""

from __future__ import annotations

import gzip
import json
import time
import zipfile

from tests.hostile.conftest import Tocsin
from tests.hostile.test_input_shape import okta, sshd_failures


def test_zip_and_gzip_bombs_are_cut_off_and_the_rest_read(tocsin: Tocsin) -> None:
    # Written in chunks: a test process that once held 256 MB would inflate every child's measured peak RSS.
    newlines = b"\n" * (1 << 20)
    with (
        zipfile.ZipFile(tocsin.cwd / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("a.log", "w") as member,
    ):
        for _ in range(256):
            member.write(newlines)
    with gzip.open(tocsin.cwd / "bomb.log.gz", "wb") as stream:
        stream.write(sshd_failures(12).encode())
        for _ in range(256):
            stream.write(newlines)
    started = time.monotonic()
    result = tocsin.run("scan", "bomb.zip", "bomb.log.gz", "--format", "jsonl")
    assert time.monotonic() - started < 60
    assert "bomb.zip!a.log: cannot read: compressed data expanding more than 100:1" in result.stderr
    assert "1  compressed data expanding more than 100:1" in result.stderr  # bomb.log.gz, after its lines
    assert "Brute Force From One Source" in result.stdout
    assert "(--strict)" in tocsin.run("scan", "bomb.log.gz", "--strict", check=2).stderr


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def test_non_finite_json_numbers_stay_valid_json(tocsin: Tocsin) -> None:
    record = json.loads(okta(1))
    text = json.dumps(record)[:-1] + ', "debug": {"big": 1e999, "nan": NaN, "low": -Infinity}}'
    (tocsin.cwd / "okta.jsonl").write_text(text + "\n")
    output = tocsin.run("events", "okta.jsonl").stdout
    document = json.loads(output, parse_constant=_refuse)  # strict JSON: NaN/Infinity literals refused
    assert document["original"]["debug"] == {"big": "1e999", "nan": "NaN", "low": "-Infinity"}


def test_csv_header_longer_than_the_sample_is_recognised(tocsin: Tocsin) -> None:
    columns = [f"column_{n:05d}" for n in range(6000)]  # ~78 KiB of header
    rows = [",".join(columns), ",".join(str(n) for n in range(6000)), ",".join("x" for _ in range(6000))]
    (tocsin.cwd / "wide.csv").write_text("\n".join(rows) + "\n")
    result = tocsin.run("events", "wide.csv", "--map", "user.name=column_00001")
    assert "2 events from 1 input(s)" in result.stderr
    assert [json.loads(line)["user"]["name"] for line in result.stdout.splitlines()] == ["1", "x"]
