"""ECS index templates, ILM policies and data streams, and the idempotent ``es setup``.

Every object tocsin manages carries ``version`` (and ``_meta.managed_by``); setup
writes an object only when it is missing or of another version, so running it
again changes nothing. The ``@custom`` component templates are created empty,
once, and never overwritten: that is where a site adds its own mappings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from tocsin.elastic import ALERTS_PATTERN, ALERTS_STREAM, EVENTS_PATTERN, EVENTS_STREAM

#: Bump when any mapping, setting or policy below changes.
VERSION = 1
META = {"managed_by": "tocsin", "version": VERSION}
#: Above the built-in ``logs`` template (priority 100), which matches ``logs-*-*`` too.
PRIORITY = 200

KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 1024}
KEYWORD_TEXT: dict[str, Any] = {**KEYWORD, "fields": {"text": {"type": "match_only_text"}}}
TEXT: dict[str, Any] = {"type": "match_only_text"}
DATE: dict[str, Any] = {"type": "date"}
LONG: dict[str, Any] = {"type": "long", "ignore_malformed": True}
IP: dict[str, Any] = {"type": "ip", "ignore_malformed": True}
WILDCARD: dict[str, Any] = {"type": "wildcard"}


def _obj(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"properties": properties}


def _endpoint() -> dict[str, Any]:
    """ECS source/destination/client fields."""
    return _obj(
        ip=IP,
        address=KEYWORD,
        port=LONG,
        domain=KEYWORD,
        geo=_obj(
            location={"type": "geo_point", "ignore_malformed": True},
            city_name=KEYWORD,
            country_iso_code=KEYWORD,
            country_name=KEYWORD,
            postal_code=KEYWORD,
            region_name=KEYWORD,
        ),
        **{"as": _obj(number=LONG, organization=_obj(name=KEYWORD_TEXT))},
    )


def _user_fields() -> dict[str, Any]:
    return {"name": KEYWORD_TEXT, "id": KEYWORD, "email": KEYWORD, "full_name": KEYWORD_TEXT, "domain": KEYWORD}


#: The ECS fields tocsin's parsers emit, typed as ECS defines them. ``log.offset`` is the one
#: deliberate difference: tocsin's offset is a record locator (``12``, ``12#1``), not a byte count.
ECS_PROPERTIES: dict[str, Any] = {
    "@timestamp": DATE,
    "message": TEXT,
    "event": _obj(
        action=KEYWORD,
        category=KEYWORD,
        code=KEYWORD,
        dataset=KEYWORD,
        id=KEYWORD,
        kind=KEYWORD,
        outcome=KEYWORD,
        provider=KEYWORD,
        reason=KEYWORD,
        risk_score={"type": "float", "ignore_malformed": True},
        type=KEYWORD,
        original={"type": "keyword", "index": False, "doc_values": False},
    ),
    "user": _obj(
        **_user_fields(),
        invalid={"type": "boolean"},  # tocsin: the account does not exist on the host
        target=_obj(**_user_fields()),
        effective=_obj(**_user_fields()),
    ),
    "source": _endpoint(),
    "destination": _endpoint(),
    "client": _endpoint(),
    "host": _obj(name=KEYWORD, hostname=KEYWORD, ip=IP),
    "process": _obj(
        name=KEYWORD,
        pid=LONG,
        executable=KEYWORD,
        command_line=WILDCARD,
        working_directory=KEYWORD,
        tty=_obj(name=KEYWORD),
    ),
    "url": _obj(original=WILDCARD, domain=KEYWORD, path=WILDCARD),
    "http": _obj(request=_obj(method=KEYWORD), response=_obj(status_code=LONG)),
    "network": _obj(protocol=KEYWORD, transport=KEYWORD),
    "log": _obj(
        file=_obj(path=KEYWORD),
        offset=KEYWORD,
        level=KEYWORD,
        syslog=_obj(facility=_obj(name=KEYWORD), severity=_obj(name=KEYWORD)),
    ),
    "error": _obj(code=KEYWORD, message=TEXT),
    "cloud": _obj(account=_obj(id=KEYWORD), provider=KEYWORD, region=KEYWORD),
    "user_agent": _obj(original=KEYWORD_TEXT),
    "service": _obj(name=KEYWORD),
    "file": _obj(path=KEYWORD),
    "rule": _obj(name=KEYWORD),
    # Filebeat system module names for sshd/PAM details, as tocsin's auth.log parser emits them.
    "system": _obj(
        auth=_obj(
            ssh=_obj(event=KEYWORD, method=KEYWORD, signature=KEYWORD),
            pam=_obj(service=KEYWORD),
            sudo=_obj(failures=LONG),
        )
    ),
    "tocsin": _obj(
        format=KEYWORD,
        logsource=_obj(product=KEYWORD, service=KEYWORD, category=KEYWORD),
        # The exact epoch seconds (``@timestamp`` keeps milliseconds), kept for hunting parity.
        epoch={"type": "double", "index": False},
    ),
    # A source's own fields, whatever they are: one field in the mapping, however many keys.
    "original": {"type": "flattened", "ignore_above": 8191, "depth_limit": 20},
}

#: Fields no explicit mapping names (an ECS field a new parser adds): strings stay keywords.
DYNAMIC_TEMPLATES = [
    {"strings_as_keyword": {"match_mapping_type": "string", "mapping": KEYWORD}},
]

ALERT_PROPERTIES: dict[str, Any] = {
    "id": KEYWORD,
    "rule": _obj(
        id=KEYWORD,
        name=KEYWORD,
        title=KEYWORD_TEXT,
        level=KEYWORD,
        tags=KEYWORD,
        type=KEYWORD,
        description=TEXT,
        falsepositives=TEXT,
        source=KEYWORD,
    ),
    "event_count": {"type": "long"},
    "group_by": {"type": "flattened"},
    "window": _obj(start=DATE, end=DATE),
    "metric": _obj(name=KEYWORD, value={"type": "double"}),
    "evidence": KEYWORD,
    "evidence_truncated": {"type": "boolean"},
}


def ilm_policy(delete_after: str) -> dict[str, Any]:
    """Roll over daily or at 50 GB a primary shard; delete ``delete_after`` after rollover."""
    return {
        "_meta": META,
        "phases": {
            "hot": {"actions": {"rollover": {"max_primary_shard_size": "50gb", "max_age": "1d"}}},
            "warm": {"min_age": "7d", "actions": {"forcemerge": {"max_num_segments": 1}}},
            "delete": {"min_age": delete_after, "actions": {"delete": {}}},
        },
    }


ILM_POLICIES = {"tocsin-events": ilm_policy("90d"), "tocsin-alerts": ilm_policy("365d")}

COMPONENT_TEMPLATES: dict[str, dict[str, Any]] = {
    "tocsin-ecs@mappings": {
        "settings": {"index.mapping.total_fields.limit": 2000},
        "mappings": {"dynamic_templates": DYNAMIC_TEMPLATES, "properties": ECS_PROPERTIES},
    },
    "tocsin-alerts@mappings": {"mappings": {"properties": ALERT_PROPERTIES}},
    "tocsin-events@settings": {"settings": {"index.lifecycle.name": "tocsin-events"}},
    "tocsin-alerts@settings": {"settings": {"index.lifecycle.name": "tocsin-alerts"}},
}
CUSTOM_TEMPLATES = ("tocsin-events@custom", "tocsin-alerts@custom")

INDEX_TEMPLATES: dict[str, dict[str, Any]] = {
    "logs-tocsin.events": {
        "index_patterns": [EVENTS_PATTERN],
        "data_stream": {},
        "priority": PRIORITY,
        "composed_of": ["tocsin-ecs@mappings", "tocsin-events@settings", "tocsin-events@custom"],
    },
    "logs-tocsin.alerts": {
        "index_patterns": [ALERTS_PATTERN],
        "data_stream": {},
        "priority": PRIORITY,
        "composed_of": [
            "tocsin-ecs@mappings",
            "tocsin-alerts@mappings",
            "tocsin-alerts@settings",
            "tocsin-alerts@custom",
        ],
    },
}
DATA_STREAMS = (EVENTS_STREAM, ALERTS_STREAM)


def effective_mapping(index_template: str) -> dict[str, Any]:
    """The properties an index of ``index_template`` gets, merged as Elasticsearch composes them."""
    properties: dict[str, Any] = {}
    for component in INDEX_TEMPLATES[index_template]["composed_of"]:
        template = COMPONENT_TEMPLATES.get(component, {})
        properties.update(template.get("mappings", {}).get("properties", {}))
    return properties


@dataclass(frozen=True)
class Change:
    """One object ``setup`` looked at, and what it did."""

    kind: str
    name: str
    action: str  # created, updated, unchanged

    def __str__(self) -> str:
        return f"{self.action:9} {self.kind} {self.name}"


def setup(client: Elasticsearch) -> list[Change]:
    """Make the cluster hold every object above; an object already current is left alone."""
    changes: list[Change] = []
    for name, policy in ILM_POLICIES.items():
        changes.append(_ensure(
            "ILM policy", name,
            lambda name=name: client.ilm.get_lifecycle(name=name)[name]["policy"].get("_meta", {}),
            lambda name=name, policy=policy: client.ilm.put_lifecycle(name=name, policy=policy),
        ))
    for name, template in COMPONENT_TEMPLATES.items():
        changes.append(_ensure(
            "component template", name,
            lambda name=name: _component(client, name).get("_meta", {}),
            lambda name=name, template=template: client.cluster.put_component_template(
                name=name, template=template, version=VERSION, meta=META
            ),
        ))
    for name in CUSTOM_TEMPLATES:
        changes.append(_ensure(
            "component template", name,
            lambda name=name: META if _component(client, name) is not None else {},
            lambda name=name: client.cluster.put_component_template(
                name=name, template={}, meta={"description": "site additions; tocsin never overwrites it"}
            ),
        ))
    for name, template in INDEX_TEMPLATES.items():
        changes.append(_ensure(
            "index template", name,
            lambda name=name: client.indices.get_index_template(name=name)["index_templates"][0][
                "index_template"
            ].get("_meta", {}),
            lambda name=name, template=template: client.indices.put_index_template(
                name=name, **template, version=VERSION, meta=META
            ),
        ))
    for name in DATA_STREAMS:
        changes.append(_ensure(
            "data stream", name,
            lambda name=name: META if client.indices.get_data_stream(name=name)["data_streams"] else {},
            lambda name=name: client.indices.create_data_stream(name=name),
        ))
    return changes


def _component(client: Elasticsearch, name: str) -> dict[str, Any]:
    found = client.cluster.get_component_template(name=name)["component_templates"][0]
    return found["component_template"]


def _ensure(kind: str, name: str, current_meta: Callable[[], dict[str, Any]], write: Callable[[], Any]) -> Change:
    try:
        meta = current_meta()
    except NotFoundError:
        write()
        return Change(kind, name, "created")
    if meta.get("version") == VERSION:
        return Change(kind, name, "unchanged")
    write()
    return Change(kind, name, "updated")
