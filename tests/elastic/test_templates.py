"""The index templates against ECS field definitions, for the fields tocsin emits."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SHARED
from tocsin.elastic.shipping import event_action
from tocsin.elastic.templates import (
    COMPONENT_TEMPLATES,
    CUSTOM_TEMPLATES,
    DYNAMIC_TEMPLATES,
    ILM_POLICIES,
    INDEX_TEMPLATES,
    ISM_POLICIES,
    component_templates,
    effective_mapping,
)
from tocsin.scan import ReadSummary, read_events
from tocsin.sources import ParseOptions

#: Types from the ECS 8.x field reference (ecs_flat) for the fields tocsin's parsers emit.
ECS_TYPES = {
    "@timestamp": "date",
    "message": "match_only_text",
    "event.action": "keyword",
    "event.category": "keyword",
    "event.code": "keyword",
    "event.dataset": "keyword",
    "event.id": "keyword",
    "event.kind": "keyword",
    "event.outcome": "keyword",
    "event.provider": "keyword",
    "event.reason": "keyword",
    "event.risk_score": "float",
    "event.type": "keyword",
    "event.original": "keyword",
    "user.name": "keyword",
    "user.id": "keyword",
    "user.email": "keyword",
    "user.full_name": "keyword",
    "user.domain": "keyword",
    "user.target.name": "keyword",
    "user.effective.name": "keyword",
    "source.ip": "ip",
    "source.address": "keyword",
    "source.port": "long",
    "source.domain": "keyword",
    "source.as.number": "long",
    "source.as.organization.name": "keyword",
    "source.geo.location": "geo_point",
    "source.geo.city_name": "keyword",
    "source.geo.country_iso_code": "keyword",
    "destination.ip": "ip",
    "destination.port": "long",
    "client.ip": "ip",
    "host.name": "keyword",
    "host.hostname": "keyword",
    "host.ip": "ip",
    "process.name": "keyword",
    "process.pid": "long",
    "process.executable": "keyword",
    "process.command_line": "wildcard",
    "url.original": "wildcard",
    "url.domain": "keyword",
    "http.request.method": "keyword",
    "http.response.status_code": "long",
    "network.protocol": "keyword",
    "network.transport": "keyword",
    "log.file.path": "keyword",
    "log.level": "keyword",
    "error.code": "keyword",
    "error.message": "match_only_text",
    "cloud.account.id": "keyword",
    "cloud.provider": "keyword",
    "cloud.region": "keyword",
    "user_agent.original": "keyword",
    "service.name": "keyword",
    "file.path": "keyword",
    "rule.name": "keyword",
}
#: tocsin's offset locates a record (``12``, ``12#1``), it is not ECS's byte count (long).
DEVIATIONS = {"log.offset": "keyword"}


def mapped_types(properties: dict, prefix: str = "") -> dict[str, str]:
    types = {}
    for name, spec in properties.items():
        if "properties" in spec:
            types.update(mapped_types(spec["properties"], f"{prefix}{name}."))
        else:
            types[f"{prefix}{name}"] = spec["type"]
    return types


def leaves(document: dict, prefix: str = "") -> set[str]:
    found = set()
    for key, value in document.items():
        if isinstance(value, dict) and f"{prefix}{key}" != "source.geo.location":
            found |= leaves(value, f"{prefix}{key}.")
        else:
            found.add(f"{prefix}{key}")
    return found


def test_events_mapping_types_follow_ecs():
    types = mapped_types(effective_mapping("logs-tocsin.events"))
    for field, ecs_type in {**ECS_TYPES, **DEVIATIONS}.items():
        assert types.get(field) == ecs_type, field
    assert types["original"] == "flattened"  # a source's own fields cannot grow the mapping
    assert DYNAMIC_TEMPLATES[0]["strings_as_keyword"]["mapping"]["type"] == "keyword"


def test_every_field_the_parsers_emit_is_mapped_explicitly():
    inputs = [str(Path(__file__).resolve().parents[2] / "tocsin" / "examples")]
    inputs += [str(SHARED / name) for name in ("authlogs", "cloud") if (SHARED / name).exists()]
    types = mapped_types(effective_mapping("logs-tocsin.events"))
    emitted = set()
    for event in read_events(inputs, None, ParseOptions(), ReadSummary()):
        emitted |= {
            name for name in leaves(event_action(event)["_source"]) if not name.startswith("original.")
        }
    assert emitted and emitted - set(types) == set()


def test_alerts_mapping_and_template_wiring():
    types = mapped_types(effective_mapping("logs-tocsin.alerts"))
    assert types["@timestamp"] == "date" and types["window.start"] == "date"
    assert (
        types["rule.level"] == "keyword" and types["source.ip"] == "ip" and types["group_by"] == "flattened"
    )
    assert types["evidence"] == "keyword" and types["event_count"] == "long"
    for name, template in INDEX_TEMPLATES.items():
        assert template["priority"] > 100  # above Elasticsearch's own logs-*-* template
        assert template["data_stream"] == {}
        for component in template["composed_of"]:
            assert component in COMPONENT_TEMPLATES or component in CUSTOM_TEMPLATES, (name, component)
        assert template["composed_of"][-1].endswith("@custom")  # site additions win
    for policy in ILM_POLICIES.values():
        assert "rollover" in policy["phases"]["hot"]["actions"] and "delete" in policy["phases"]


def test_opensearch_gets_the_same_mappings_with_flat_object_and_ism():
    templates = component_templates("opensearch")
    assert templates.keys() == COMPONENT_TEMPLATES.keys()
    text = str(templates)
    assert "flattened" not in text and "index.lifecycle" not in text
    alerts = templates["tocsin-alerts@mappings"]["mappings"]["properties"]
    assert alerts["group_by"] == {"type": "flat_object"} and alerts["evidence"] == {
        "type": "keyword",
        "ignore_above": 1024,
    }
    ecs = templates["tocsin-ecs@mappings"]["mappings"]["properties"]
    assert (
        ecs["original"] == {"type": "flat_object"}
        and ecs["source"] == COMPONENT_TEMPLATES["tocsin-ecs@mappings"]["mappings"]["properties"]["source"]
    )
    assert component_templates("elasticsearch") is COMPONENT_TEMPLATES
    for name, policy in ISM_POLICIES.items():
        assert [state["name"] for state in policy["states"]] == ["hot", "warm", "delete"]
        assert policy["ism_template"][0]["index_patterns"] == [f".ds-logs-{name.replace('-', '.')}-*"]
        assert policy["description"] == "managed_by tocsin, version 1"
