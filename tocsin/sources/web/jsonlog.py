"""JSON access logs: nginx ``log_format ... escape=json`` records with the usual variable names
(and the names other servers and frameworks log), and ECS documents with ``http.*`` fields.

``KEYS`` lists, for each part of a request, the keys it is read from, first found wins; the
record itself is kept as the event's original fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from tocsin.model.event import LogSource, lookup_path
from tocsin.sources.base import InputSource, InputStats, Sample
from tocsin.sources.jsonstream import first_json_record, iter_json_records
from tocsin.sources.logsource import DATASETS
from tocsin.sources.timeparse import parse_time
from tocsin.sources.web.batch import WebParser, WebRecords
from tocsin.sources.web.requests import Clock, Requests, integer, request_line

#: Part of a request → the keys of a flat JSON access log record that may hold it.
KEYS: dict[str, tuple[str, ...]] = {
    "client": ("remote_addr", "client_ip", "clientip", "remote_ip"),
    "port": ("remote_port",),
    "user": ("remote_user",),
    "time": ("time_iso8601", "time_local", "@timestamp", "timestamp", "time", "msec"),
    "request": ("request",),
    "method": ("request_method", "method"),
    "target": ("request_uri", "uri", "path"),
    "query": ("args", "query_string"),
    "status": ("status", "status_code"),
    "size": ("body_bytes_sent", "bytes_sent"),
    "referrer": ("http_referer", "http_referrer", "referer", "referrer"),
    "agent": ("http_user_agent", "user_agent"),
    "duration": ("request_time",),
    "host": ("host", "http_host", "server_name"),
    "forwarded": ("http_x_forwarded_for", "x_forwarded_for"),
    "authorization": ("http_authorization",),
    "version": ("server_protocol",),
}
#: Keys only an access log record has: one of them (with ``status``) makes a record one.
_MARKERS = ("remote_addr", "body_bytes_sent", "request_uri", "http_user_agent", "time_local")
#: ECS field → part of a request, for ECS documents.
ECS_KEYS: dict[str, str] = {
    "source.ip": "client",
    "source.port": "port",
    "user.name": "user",
    "http.request.method": "method",
    "url.original": "target",
    "http.response.status_code": "status",
    "http.response.body.bytes": "size",
    "http.request.referrer": "referrer",
    "user_agent.original": "agent",
    "url.domain": "host",
    "http.version": "version",
}
#: The dataset of a record that names none: nginx's variable names, or an ECS document's.
_NGINX, _ECS = "nginx.access", "web.access"


def _flat(record: dict[str, Any], name: str) -> Any:
    value = record.get(name)
    return lookup_path(record, name) if value is None else value


def _ecs(record: dict[str, Any]) -> bool:
    return (
        _flat(record, "http.request.method") is not None
        or _flat(record, "http.response.status_code") is not None
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text if text and text != "-" else None


class JsonAccessParser(WebParser):
    name = "web-json"
    description = "JSON access logs: nginx escape=json variables, ECS http.* documents"

    @classmethod
    def recognizes(cls, record: Any) -> int:
        if not isinstance(record, dict):
            return 0
        if "status" in record and any(key in record for key in _MARKERS):
            return 70
        return 60 if _ecs(record) and (_flat(record, "url.original") or _flat(record, "url.path")) else 0

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        return cls.recognizes(first_json_record(sample.head))

    def batches(self, source: InputSource, stats: InputStats, size: int) -> Iterator[WebRecords]:
        readers: dict[str, Requests] = {}
        clock = Clock(self.options.timezone)
        with source.open() as stream:
            records = iter_json_records(stream, stats, self.options.max_record_bytes)
            while chunk := list(islice(records, size)):
                batch = WebRecords(source.name, self.name)
                for offset, raw, record in chunk:
                    stats.records += 1
                    if not self.recognizes(record):
                        stats.skip("not a JSON access log record")
                        continue
                    parts = self._parts(record)
                    dataset = _text(_flat(record, "event.dataset")) or (_ECS if _ecs(record) else _NGINX)
                    requests = readers.get(dataset)
                    if requests is None:
                        product, services = DATASETS.get(dataset, (None, ("access",)))
                        logsource = LogSource.of(product, services, "webserver")
                        requests = readers[dataset] = Requests(self.options, dataset, logsource)
                    timestamp = self._time(parts.pop("time", None), clock)
                    if timestamp is None:
                        stats.warn("record without a readable timestamp")
                    fields, logsource = requests.fields(**parts)
                    batch.add(
                        fields, timestamp, raw, int(offset) if offset.isdigit() else 0, logsource, record
                    )
                stats.events += len(batch)
                if len(batch):
                    yield batch

    @staticmethod
    def _time(value: Any, clock: Clock) -> float | None:
        if isinstance(value, str) and value[2:3] == "/":  # $time_local
            return clock.clf(value)
        return parse_time(value)

    @staticmethod
    def _parts(record: dict[str, Any]) -> dict[str, Any]:
        """The parts of the request a record holds, as ``Requests.fields`` takes them."""
        found: dict[str, Any] = {}
        if _ecs(record):
            for name, part in ECS_KEYS.items():
                found[part] = _text(_flat(record, name))
            found["client"] = found["client"] or _text(_flat(record, "client.ip"))
            if found["target"] is None:
                path, query = _text(_flat(record, "url.path")), _text(_flat(record, "url.query"))
                found["target"] = f"{path}?{query}" if path and query else path
            found["host"] = found["host"] or _text(_flat(record, "destination.domain"))
            found["time"] = _flat(record, "@timestamp")
            nanoseconds = _flat(record, "event.duration")
            found["duration"] = nanoseconds / 1e9 if isinstance(nanoseconds, int | float) else None
        else:
            for part, keys in KEYS.items():
                found[part] = next((record[key] for key in keys if record.get(key) is not None), None)
                if part not in ("time", "duration"):
                    found[part] = _text(found[part])
            request = found.pop("request")
            method, target, version = request_line(request) if request else (None, None, None)
            found["method"] = found["method"] or method
            if found["target"] is None:
                found["target"] = target
            elif found["query"] and "?" not in found["target"]:
                found["target"] = f"{found['target']}?{found['query']}"
            found["version"] = version or (found["version"] or "").partition("/")[2] or None
            duration = found["duration"]
            try:
                found["duration"] = float(duration) if duration is not None else None
            except (TypeError, ValueError):
                found["duration"] = None
        found.pop("query", None)
        found["status"] = integer(str(found["status"])) if found.get("status") is not None else None
        found["size"] = integer(str(found["size"])) if found.get("size") is not None else None
        found["port"] = integer(str(found["port"])) if found.get("port") is not None else None
        return found
