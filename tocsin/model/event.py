"""The normalized event: ECS fields plus the source's original fields.

Events are plain slotted objects rather than pydantic models: a scan creates
hundreds of thousands per second and validation would dominate the cost.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tocsin.memo import bounded_cache


@dataclass(frozen=True, slots=True)
class LogSource:
    """Which Sigma logsources an event belongs to (lower-case values).

    An event can belong to several services at once: an sshd line is both
    ``service: sshd`` and ``service: auth`` in SigmaHQ's taxonomy.
    """

    products: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, product: str | None = None, services: tuple[str, ...] = (), category: str | None = None
    ) -> LogSource:
        return cls(
            frozenset([product] if product else []),
            frozenset(services),
            frozenset([category] if category else []),
        )

    def with_category(self, category: str) -> LogSource:
        return LogSource(self.products, self.services, self.categories | {category})

    def accepts(self, product: str | None, service: str | None, category: str | None) -> bool:
        """True when a rule with this (product, service, category) applies to the event."""
        return (
            (product is None or product.lower() in self.products)
            and (service is None or service.lower() in self.services)
            and (category is None or category.lower() in self.categories)
        )

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "product": sorted(self.products),
            "service": sorted(self.services),
            "category": sorted(self.categories),
        }


def record_id(scope: tuple[str, ...], raw: str) -> str:
    """The id of the record ``raw`` read at ``scope`` (``Event.identify``), for batches that know
    a row's id before (or without) making its event."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update("".join(f"{part}\0" for part in scope).encode())
    digest.update(raw.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def complete_ecs(fields: dict[str, Any]) -> None:
    """Fill the ECS fields every parser would otherwise derive the same way, so rules can rely on them.

    * ``source.address``: the source as the log gave it, an IP or a host name; rules that group
      by source use it, so a brute force from a named host counts like one from an IP.
    * ``user.target.name`` of an ``iam`` event: the account the change applies to; when the
      record names no other account, the actor changed their own.
    * ``event.provider``: the software that logged the event; cloud parsers name their service,
      a syslog line its program (``sshd``), a capture the protocol (``ftp``), so rules can count
      per service.
    """
    if "source.address" not in fields:
        address = fields.get("source.ip") or fields.get("source.domain")
        if address is not None:
            fields["source.address"] = address
    if "user.target.name" not in fields and fields.get("event.category") == "iam":
        actor = fields.get("user.name")
        if actor is not None:
            fields["user.target.name"] = actor
    if "event.provider" not in fields:
        provider = fields.get("process.name") or fields.get("network.protocol")
        if provider is not None:
            fields["event.provider"] = provider


@dataclass(slots=True)
class Event:
    """One normalized record.

    ``fields`` holds ECS fields with dotted keys (``user.name``); ``original``
    holds the source's own fields as the source named them (nested dicts for
    JSON sources), so that community Sigma rules written against native field
    names still match. ``raw`` is the record as read, used for keyword search.
    """

    timestamp: float | None
    fields: dict[str, Any]
    original: dict[str, Any]
    raw: str
    logsource: LogSource
    input: str
    offset: str
    format: str
    _id: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        complete_ecs(self.fields)

    @property
    def id(self) -> str:
        """A stable id: the same record of the same input always gets the same id."""
        return self._id if self._id is not None else self.identify(self.input, self.offset)

    def identify(self, *scope: str) -> str:
        """Set the id to a digest of ``scope`` and the raw record, and return it.

        ``scope`` says where the record was read (by default its input and offset); a reader whose
        input or offsets are not stable on their own (a followed file, a live capture) names its own.
        """
        self._id = record_id(scope, self.raw)
        return self._id

    def get(self, name: str) -> Any:
        """Value of an ECS or original field (dotted path), or None."""
        value = self.fields.get(name)
        if value is None and self.original and may_resolve(tuple(self.original), name):
            value = lookup_path(self.original, name)
        return value

    def to_document(self) -> dict[str, Any]:
        """The event as a nested ECS document (what ``tocsin events`` prints)."""
        doc: dict[str, Any] = {"@timestamp": iso_timestamp(self.timestamp)}
        for key, value in self.fields.items():
            if value is not None:
                set_path(doc, key, value)
        event = doc.setdefault("event", {})
        event["id"] = self.id
        event["original"] = self.raw
        doc["log"] = {**doc.get("log", {}), "file": {"path": self.input}, "offset": self.offset}
        # Beside the event's own tocsin.* fields (tocsin.source.anonymizer, tocsin.session.id...).
        doc["tocsin"] = {
            **doc.get("tocsin", {}),
            "format": self.format,
            "logsource": self.logsource.as_dict(),
        }
        if self.original:
            doc["original"] = self.original
        return doc


def iso_timestamp(ts: float | None) -> str | None:
    """ISO 8601 UTC with millisecond precision, the form used in every output."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@bounded_cache(entries=4096, longest=4096)  # asked for every field a rule reads of every event
def may_resolve(keys: tuple[str, ...], path: str) -> bool:
    """Whether ``lookup_path`` can find ``path`` in a dict with these top-level keys: one of them
    equals, ignoring case, the path's first part or the whole dotted path."""
    folded = folded_keys(keys)
    return path.lower() in folded or path.partition(".")[0].lower() in folded


@bounded_cache(entries=4096, longest=4096)  # records of one source share their keys
def folded_keys(keys: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Each lower-cased key of a dict with these keys, with the position and spelling of its first key."""
    folded: dict[str, tuple[int, str]] = {}
    for position, key in enumerate(keys):
        folded.setdefault(key.lower(), (position, key))
    return folded


def lookup_path(data: dict[str, Any], path: str) -> Any:
    """Resolve a dotted path in nested dicts: exact keys first, then case-insensitively.

    A literal key containing dots (``"a.b": 1``) also resolves, as flattened
    sources such as CSV exports produce them. Where a part is not an exact key, the dict's first
    key equal to it or to the rest of the path, ignoring case, is taken. Through a list of objects
    (``targetResources.modifiedProperties.newValue`` in an Entra ID audit record) the path
    resolves to the list of what it resolves to in each of them (``_through_list``).
    """
    if path in data:
        return data[path]
    current: Any = data
    parts = path.split(".")
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if not isinstance(current, dict):
            return _through_list(current, ".".join(parts[index:])) if isinstance(current, list) else None
        if part in current:
            current = current[part]
            continue
        folded = folded_keys(tuple(current))
        step = folded.get(part.lower())
        if index < last:
            whole = folded.get(".".join(parts[index:]).lower())
            if whole is not None and (step is None or whole[0] < step[0]):
                return current[whole[1]]
        if step is None:
            return None
        current = current[step[1]]
    return current


def _through_list(items: list[Any], path: str) -> list[Any] | None:
    """What ``path`` resolves to in each object of ``items``, the lists among them flattened, as
    Elasticsearch flattens an array of objects; None where it resolves in none."""
    found: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            value = lookup_path(item, path)
            if isinstance(value, list):
                found.extend(value)
            elif value is not None:
                found.append(value)
    return found or None


def set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in a nested dict, creating the intermediate objects."""
    parts = dotted.split(".")
    target = doc
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    target[parts[-1]] = value


class ListText(str):
    """A list of several values (or of one object or list) as the engine holds it: its compact JSON
    text, what a comparison of the whole value reads, and each value's text (``elements``), one of
    which a rule's value matches when it matches the field (``tocsin.detectors.sigma.ruleset.ElementTest``)."""

    __slots__ = ("elements",)
    elements: list[str | None]

    def __new__(cls, values: list[Any]) -> ListText:
        text = super().__new__(cls, json.dumps(values, separators=(",", ":"), default=str))
        text.elements = [sql_text(value) for value in values]
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return str, (str(self),)  # to another process, the text the engine compared


def sql_value(value: Any) -> Any:
    """Represent a field value for a SQLite column the way Sigma rules expect to compare it: a list
    of one value as that value, of several as a ``ListText``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list):
        if len(value) == 1 and not isinstance(value[0], dict | list):
            return sql_value(value[0])
        return ListText(value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def sql_text(value: Any) -> str | None:
    """``sql_value`` as text, the form every engine column holds."""
    compared = sql_value(value)
    return compared if compared is None or isinstance(compared, str) else str(compared)
