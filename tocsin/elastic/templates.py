"""ECS index templates, lifecycle policies and data streams, and the idempotent ``es setup``.

The same mappings and data streams on Elasticsearch and OpenSearch; what differs: the
lifecycle (an ILM policy named in the index settings on Elasticsearch, an ISM policy that
attaches itself through ``ism_template`` on OpenSearch, skipped and said so when the ISM
plugin is absent) and OpenSearch's ``flat_object`` where Elasticsearch has ``flattened``.

Every object tocsin manages carries ``version`` (and ``_meta.managed_by``); setup
writes an object only when it is missing or of another version, so running it
again changes nothing. The ``@custom`` component templates are created empty,
once, and never overwritten: that is where a site adds its own mappings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from tocsin.elastic import ALERTS_PATTERN, ALERTS_STREAM, EVENTS_PATTERN, EVENTS_STREAM
from tocsin.elastic.cluster import NOT_FOUND, Cluster

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
BOOLEAN: dict[str, Any] = {"type": "boolean"}


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
    return {
        "name": KEYWORD_TEXT,
        "id": KEYWORD,
        "email": KEYWORD,
        "full_name": KEYWORD_TEXT,
        "domain": KEYWORD,
    }


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
        # Fields ECS has no name for, as the parsers emit them.
        source=_obj(anonymizer=BOOLEAN),
        mfa=_obj(method=KEYWORD, result=KEYWORD),
        session=_obj(id=KEYWORD),
        token=_obj(id=KEYWORD),
        device=_obj(id=KEYWORD),
        object=_obj(id=KEYWORD, type=KEYWORD),
        report=_obj(
            reason=KEYWORD,
            reporter_age_days=LONG,
            reporter_followers=LONG,
            reporter_new=BOOLEAN,
            text_fingerprint=KEYWORD,
        ),
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


def ism_policy(delete_after: str, pattern: str) -> dict[str, Any]:
    """The ILM policy above in ISM's terms, attached to the data stream's backing indices."""
    return {
        "description": f"managed_by tocsin, version {VERSION}",
        "default_state": "hot",
        "states": [
            {
                "name": "hot",
                "actions": [{"rollover": {"min_primary_shard_size": "50gb", "min_index_age": "1d"}}],
                "transitions": [{"state_name": "warm", "conditions": {"min_index_age": "7d"}}],
            },
            {
                "name": "warm",
                "actions": [{"force_merge": {"max_num_segments": 1}}],
                "transitions": [{"state_name": "delete", "conditions": {"min_index_age": delete_after}}],
            },
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": [f".ds-{pattern}"], "priority": PRIORITY}],
    }


ILM_POLICIES = {"tocsin-events": ilm_policy("90d"), "tocsin-alerts": ilm_policy("365d")}
ISM_POLICIES = {
    "tocsin-events": ism_policy("90d", EVENTS_PATTERN),
    "tocsin-alerts": ism_policy("365d", ALERTS_PATTERN),
}

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


def component_templates(product: str) -> dict[str, dict[str, Any]]:
    """The component templates for ``product``: OpenSearch's lifecycle needs no index setting,
    and its ``flattened`` is ``flat_object`` (which takes no parameters)."""
    if product != "opensearch":
        return COMPONENT_TEMPLATES
    templates = _flat_objects(COMPONENT_TEMPLATES)
    templates["tocsin-events@settings"] = templates["tocsin-alerts@settings"] = {"settings": {}}
    return templates


def _flat_objects(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") == "flattened":
            return {"type": "flat_object"}
        return {key: _flat_objects(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_flat_objects(item) for item in value]
    return value


@dataclass(frozen=True)
class Change:
    """One object ``setup`` looked at, and what it did."""

    kind: str
    name: str
    action: str  # created, updated, unchanged, skipped
    reason: str = ""

    def __str__(self) -> str:
        line = f"{self.action:9} {self.kind} {self.name}"
        return f"{line}: {self.reason}" if self.reason else line


def setup(cluster: Cluster) -> list[Change]:
    """Make the cluster hold every object above; an object already current is left alone."""
    changes: list[Change] = []
    unavailable = cluster.lifecycle_unavailable()
    policies = ISM_POLICIES if cluster.product == "opensearch" else ILM_POLICIES
    for name, policy in policies.items():
        if unavailable:
            changes.append(Change(cluster.lifecycle, name, "skipped", unavailable))
            continue
        changes.append(
            _ensure(
                cluster.lifecycle,
                name,
                partial(cluster.lifecycle_meta, name),
                partial(cluster.put_lifecycle, name, policy),
            )
        )
    for name, template in component_templates(cluster.product).items():
        changes.append(
            _ensure(
                "component template",
                name,
                partial(_component_template_meta, cluster, name),
                partial(
                    cluster.put_component_template,
                    name,
                    {"template": template, "version": VERSION, "_meta": META},
                ),
            )
        )
    for name in CUSTOM_TEMPLATES:
        changes.append(
            _ensure(
                "component template",
                name,
                partial(_custom_template_meta, cluster, name),
                partial(
                    cluster.put_component_template,
                    name,
                    {"template": {}, "_meta": {"description": "site additions; tocsin never overwrites it"}},
                ),
            )
        )
    for name, template in INDEX_TEMPLATES.items():
        changes.append(
            _ensure(
                "index template",
                name,
                partial(_index_template_meta, cluster, name),
                partial(cluster.put_index_template, name, {**template, "version": VERSION, "_meta": META}),
            )
        )
    for name in DATA_STREAMS:
        changes.append(
            _ensure(
                "data stream",
                name,
                partial(_data_stream_meta, cluster, name),
                partial(cluster.create_data_stream, name),
            )
        )
    return changes


def _component_template_meta(cluster: Cluster, name: str) -> dict[str, Any]:
    return cluster.component_template(name).get("_meta", {})


def _custom_template_meta(cluster: Cluster, name: str) -> dict[str, Any]:
    """A site's own template is current once it exists (missing, the lookup raises NOT_FOUND)."""
    cluster.component_template(name)
    return META


def _index_template_meta(cluster: Cluster, name: str) -> dict[str, Any]:
    return cluster.index_template(name).get("_meta", {})


def _data_stream_meta(cluster: Cluster, name: str) -> dict[str, Any]:
    return META if cluster.has_data_stream(name) else {}


def _ensure(
    kind: str, name: str, current_meta: Callable[[], dict[str, Any]], write: Callable[[], Any]
) -> Change:
    try:
        meta = current_meta()
    except NOT_FOUND:
        write()
        return Change(kind, name, "created")
    if meta.get("version") == VERSION:
        return Change(kind, name, "unchanged")
    write()
    return Change(kind, name, "updated")
