"""The column-at-a-time reader of combined logs gives exactly what the line-at-a-time reader gives."""

from __future__ import annotations

import pytest

from tests.sources.web_support import write
from tocsin.batch import EventList
from tocsin.settings import WebSettings
from tocsin.sources import InputSource, InputStats, ParseOptions
from tocsin.sources.inputs import resolve_inputs
from tocsin.sources.web.columns import CombinedRows
from tocsin.sources.web.lines import ApacheAccessParser, LineFormat, NginxAccessParser
from tocsin.sources.web.requests import SIGMA_FIELDS

LINES = [
    '203.0.113.7 - - [27/Jun/2019:12:00:00 +0000] "GET /index.html?lang=en HTTP/1.1" 200 5120 "https://x/" "Mozilla/5.0"',
    '198.51.100.23 - alice [27/Jun/2019:12:00:01 +0200] "POST /login/ HTTP/1.1" 401 230 "-" "curl/8.5.0"',
    '198.51.100.23 - alice [27/Jun/2019:12:00:02 +0200] "post /LOGIN HTTP/1.1" 302 - "-" "curl/8.5.0"',
    '198.51.100.23 - - [27/Jun/2019:12:00:02 +0200] "PUT /manager/html/upload HTTP/1.1" 200 1',
    '198.51.100.23 - - [27/Jun/2019:12:00:02 +0200] "GET /api/v1/auth HTTP/1.1" 500 1 "" ""',
    '2001:db8::17 - - [27/Jun/2019:12:00:02 +0000] "GET /a.tar.GZ HTTP/2.0" 404 153 "-" "-"',
    'www.example.com:443 203.0.113.7 - - [27/Jun/2019:12:00:04 +0000] "GET /x.php HTTP/1.1" 200 812 "-" "M" 15023',
    'shop.example 203.0.113.7 - - [27/Jun/2019:12:00:04 +0000] "GET /y HTTP/1.1" 200 8 "-" "M" "1.2.3.4" 0.004',
    '203.0.113.8 - - [27/Jun/2019:12:00:05 +0000] "\\x16\\x03\\x01" 400 226 "-" "-"',
    '203.0.113.8 - - [27/Jun/2019:12:00:05 +0000] "/no-method?q" 400 226',
    '203.0.113.8 - - [27/Jun/2019:12:00:05 +0000] "" 400 0',
    '203.0.113.8 - - [27/Jun/2019:12:00:05 +0000] "GET http://evil.example:8080/p?q=1 HTTP/1.1" 200 1',
    '203.0.113.8 - - [27/Jun/2019:12:00:05 +0000] "CONNECT evil.example:443 HTTP/1.1" 200 1',
    'crawler.example.net - - [27/Jun/2019:12:00:06 +0000] "GET / HTTP/1.1" 200 1',
    '203.0.113.9 - - [27/Jun/2019:12:00:06 +0000] "GET /caf\u00e9 HTTP/1.1" 200 1 "-" "\u00fcnicode \x1b[31m"',
    '203.0.113.9 - - [31/Feb/2019:12:00:06 +0000] "GET / HTTP/1.1" 200 1',
    '203.0.113.9 - - [27/Jun/2019:12:00:06 +0000] "GET / HTTP/1.1" 200 99999999999999999999999',
    '203.0.113.9 - - [27/Jun/2019:12:00:06 +0000] "GET /\\"quoted\\" HTTP/1.1" - 1 "-" "a \\"b\\""',
    "garbage",
    '- - - [27/Jun/2019:12:00:07 +0000] "GET / HTTP/1.0" 200 1 "-" "-"\t',
]
NAMES = [
    "source.ip",
    "source.address",
    "source.domain",
    "source.port",
    "client.ip",
    "user.name",
    "url.original",
    "url.path",
    "url.query",
    "url.extension",
    "url.domain",
    "destination.domain",
    "http.request.method",
    "http.version",
    "http.response.status_code",
    "http.response.body.bytes",
    "http.request.referrer",
    "user_agent.original",
    "event.duration",
    "event.kind",
    "event.dataset",
    "event.provider",
    "event.category",
    "event.type",
    "event.action",
    "event.outcome",
    "message",
    *SIGMA_FIELDS,
]


def _both(path, parser_class, options):
    (source,) = resolve_inputs([str(path)])
    assert isinstance(source, InputSource)
    parser = parser_class(options)
    columns_stats, rows_stats = InputStats(source.name), InputStats(source.name)
    columns = list(parser.batches(source, columns_stats, 7))
    rows = list(LineFormat.batches(parser, source, rows_stats, 7))
    return columns, columns_stats, rows, rows_stats


@pytest.mark.parametrize(
    ("parser_class", "web"),
    [
        (ApacheAccessParser, None),
        (NginxAccessParser, None),
        (ApacheAccessParser, WebSettings(trusted_proxies=["203.0.113.0/24"])),
        (
            ApacheAccessParser,
            WebSettings(login_paths=["/y", "/a*"], login_paths_any_method=[], failure_statuses=[404]),
        ),
    ],
)
def test_columns_and_rows_agree(tmp_path, parser_class, web):
    path = write(tmp_path, "access.log", "\n".join(LINES * 3) + "\n")
    columns, columns_stats, rows, rows_stats = _both(path, parser_class, ParseOptions(web=web))
    assert all(isinstance(batch, CombinedRows) for batch in columns)
    assert columns_stats == rows_stats
    assert columns_stats.skipped == {f"line not in the {parser_class.name} format": 3, "invalid timestamp": 3}
    assert [len(batch) for batch in columns] == [len(batch) for batch in rows]
    for fast, slow in zip(columns, rows, strict=True):
        every = list(range(len(fast)))
        assert fast.logsource_groups() == slow.logsource_groups()
        assert fast.raw(every) == slow.raw(every)
        for name in NAMES:
            assert fast.values(name, every) == slow.values(name, every), name
            assert fast.values(name, every[::2]) == [
                EventList.field_value(slow.event(row), name) for row in every[::2]
            ]
        for row in every:
            one, other = fast.event(row), slow.event(row)
            assert (one.fields, one.timestamp, one.original, one.raw, one.offset, one.logsource, one.id) == (
                other.fields,
                other.timestamp,
                other.original,
                other.raw,
                other.offset,
                other.logsource,
                other.id,
            )
