"""Fuzzing every parser entry point and rule loading (hypothesis), bounded in time.

Inputs are the committed seeds in ``corpus/`` (one small real-shaped file per format) mutated by
hypothesis — bytes flipped, cut, duplicated, hostile fragments spliced in — plus arbitrary bytes and
arbitrary JSON values for every parser. Properties: nothing raises out of a parser or of detection
(bad records are counted), every event serializes as strict JSON (no NaN/Infinity), and no value
reaches the terminal as markup or an escape sequence. ``TOCSIN_FUZZ_EXAMPLES`` sets the examples per
test (default 600: the whole file runs in about 10 s on two cores, well within its two-minute budget).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.model.event import Event
from tocsin.sources import PARSERS, InputSource, InputStats, ParseOptions, UnreadableInput
from tocsin.sources.detect import detect_format
from tocsin.terminal import console

CORPUS = Path(__file__).parent / "corpus"
SEEDS = {path.name: path.read_bytes() for path in sorted(CORPUS.iterdir()) if path.name != "README.md"}
SEED_FORMATS = {
    "auth0.jsonl": "auth0", "capture.pcap": "pcap", "cloudtrail.jsonl": "cloudtrail", "duo.jsonl": "duo",
    "entra.jsonl": "entra", "generic.csv": "csv", "generic.json": "json", "github.jsonl": "github",
    "google_workspace.jsonl": "google_workspace", "journald.json": "journald", "okta.jsonl": "okta",
    "onelogin.jsonl": "onelogin", "platform.jsonl": "platform", "report_stream.jsonl": "report_stream",
    "security.evtx": "evtx", "syslog.log": "syslog", "syslog5424.log": "syslog",
}  # fmt: skip
HOSTILE = [
    b"\x00", b"\xff\xfe", b"\x1b[2J", b"\x1b]8;;http://x\x1b\\", b"[/bold]", b"[link=http://x]", b"<script>",
    b"\r\n", b"\n" * 300, b"[" * 3000, b'{"a":' * 300, b"1e999", b"NaN", b"-Infinity", b"\xe2\x80\xae",
    b"=cmd|' /C calc'!A0", b"%s%n", b"\\u0000", b'"', b"\t" * 100,
]  # fmt: skip
EXAMPLES = int(os.environ.get("TOCSIN_FUZZ_EXAMPLES", "600"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])  # fmt: skip


@st.composite
def mutated_seed(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate", "hostile"]))
        if operation == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[at:at] = draw(st.binary(max_size=64))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif operation == "truncate":
            del data[at:]
        elif operation == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 512))]
        else:
            data[at:at] = draw(st.sampled_from(HOSTILE))
    return name, bytes(data)


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.sampled_from([h.decode("utf-8", "replace") for h in HOSTILE])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


def _source(data: bytes) -> InputSource:
    return InputSource("fuzz.input", lambda: io.BytesIO(data))


def _parse(format_name: str, data: bytes) -> tuple[list[Event], InputStats]:
    stats = InputStats("fuzz.input", format_name)
    events = list(PARSERS[format_name](ParseOptions(max_record_bytes=64 * 1024)).parse(_source(data), stats))
    return events, stats


def _check_outputs(events: list[Event], stats: InputStats) -> None:
    assert stats.events >= 0 and stats.records >= 0 and all(n > 0 for n in stats.skipped.values())
    screen = io.StringIO()
    terminal = console(file=screen, force_terminal=True, width=200)
    for event in events:
        json.dumps(event.to_document(), default=str, allow_nan=False)  # strict JSON, whatever the input
        for name in ("user.name", "source.address", "host.name", "message"):
            if name in event.fields:
                terminal.print(str(event.fields[name]))
    assert "\x1b]8;" not in screen.getvalue() and "\x1b[2J" not in screen.getvalue()


@FUZZ
@given(mutated_seed())
def test_parsers_survive_mutated_seeds(seed: tuple[str, bytes]) -> None:
    name, data = seed
    events, stats = _parse(SEED_FORMATS[name], data)
    _check_outputs(events, stats)
    with contextlib.suppress(UnreadableInput, OSError):  # reported as "not read", never raised further
        detect_format(_source(data))


@FUZZ
@given(st.sampled_from(sorted(PARSERS)), st.binary(max_size=2048))
def test_every_parser_survives_arbitrary_bytes(format_name: str, data: bytes) -> None:
    _check_outputs(*_parse(format_name, data))


@FUZZ
@given(st.sampled_from(sorted(n for n in PARSERS if n not in {"evtx", "pcap", "syslog", "csv"})),
       st.lists(JSON_VALUES, min_size=1, max_size=4), st.sampled_from(["lines", "array"]))  # fmt: skip
def test_json_parsers_survive_arbitrary_values(format_name: str, values: list[Any], shape: str) -> None:
    text = "\n".join(json.dumps(v) for v in values) if shape == "lines" else json.dumps(values)
    _check_outputs(*_parse(format_name, text.encode()))


RULE_SEED = (builtin_rules_path() / "authentication" / "brute_force_by_source.yml").read_text()


@FUZZ
@given(st.data())
def test_rule_loading_never_raises(tmp_path_factory: Any, data: st.DataObject) -> None:
    text = RULE_SEED
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        fragment = data.draw(st.sampled_from(
            ["\n", ": ", "- ", "|re: '(a+)+$'", "&a ", "*a", "{", "[", "'", "condition: ", "\t", "---\n",
             "title: [/bold]\x1b[2J", "detection: {}", "timespan: 99999d", "group-by: [" + "f," * 50 + "]"]
        ) | st.text(max_size=20))  # fmt: skip
        text = text[:at] + fragment + text[at + data.draw(st.integers(0, 20)) :]
    folder = tmp_path_factory.mktemp("rules")
    (folder / "fuzzed.yml").write_text(text, encoding="utf-8")
    ruleset = load_rules([folder])
    assert ruleset.loaded + len(ruleset.errors) >= 1 or ruleset.files == 1
