"""The Sigma log source of a generic or ECS record, inferred from the record's own fields.

Exports in ECS shape (Elastic Agent, Filebeat, Logstash, a SIEM's JSON export) name where a
record comes from in a handful of fields; the tables below, data rather than code, map those
names to SigmaHQ's logsource taxonomy, so rules written for ``product: linux, service: sshd``
see sshd events however they were exported. The first field that names a known source wins,
in the order of ``HINT_FIELDS``; ``--logsource`` forces a log source instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tocsin.memo import bounded_cache
from tocsin.model.event import LogSource
from tocsin.sources.linux_auth import PROGRAMS

#: The fields that may name a record's source, most specific first.
HINT_FIELDS = (
    "event.dataset",
    "data_stream.dataset",
    "event.module",
    "event.provider",
    "process.name",
    "service.type",
)

#: ``event.dataset`` / ``data_stream.dataset`` values: (product, services).
DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "system.auth": ("linux", ("auth", "syslog")),
    "system.syslog": ("linux", ("syslog",)),
    "system.security": ("windows", ("security",)),
    "windows.security": ("windows", ("security",)),
    "windows.sysmon_operational": ("windows", ("sysmon",)),
    "okta.system": ("okta", ("okta",)),
    "aws.cloudtrail": ("aws", ("cloudtrail",)),
    "azure.signinlogs": ("azure", ("signinlogs",)),
    "azure.auditlogs": ("azure", ("auditlogs",)),
    "azure.activitylogs": ("azure", ("activitylogs",)),
    "github.audit": ("github", ("audit",)),
    "auth0.logs": ("auth0", ("auth0",)),
    "cisco_duo.auth": ("cisco", ("duo",)),
    "google_workspace.login": ("gcp", ("google_workspace.login",)),
    "google_workspace.admin": ("gcp", ("google_workspace.admin",)),
    "google_workspace.drive": ("gcp", ("google_workspace.drive",)),
    "apache.access": ("apache", ("access", "apache")),
    "apache.error": ("apache", ("error", "apache")),
    "nginx.access": ("nginx", ("access", "nginx")),
    "nginx.error": ("nginx", ("error", "nginx")),
    "tomcat.access": ("tomcat", ("access", "tomcat")),
    "iis.access": ("iis", ("access", "iis")),
    "aws.elb": ("aws", ("elb",)),
    "aws.cloudfront": ("aws", ("cloudfront",)),
    "haproxy.log": ("haproxy", ()),
}
#: ``event.dataset`` / ``data_stream.dataset`` values that also name a SigmaHQ category.
DATASET_CATEGORIES: dict[str, str] = {
    "apache.access": "webserver",
    "nginx.access": "webserver",
    "iis.access": "webserver",
}
#: Dataset families whose second part is the service: ``zeek.dns`` is product zeek, service dns.
DATASET_FAMILIES = {"zeek": "zeek", "suricata": "suricata"}
#: ``event.module`` values naming only a product.
MODULES: dict[str, str] = {
    "system": "linux",
    "auditd": "linux",
    "okta": "okta",
    "aws": "aws",
    "azure": "azure",
    "github": "github",
    "zeek": "zeek",
    "suricata": "suricata",
    "windows": "windows",
    "sysmon": "windows",
    "google_workspace": "gcp",
}
#: Program names (``process.name``, ``event.provider``, ``service.type``) beyond the syslog programs.
PROVIDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "microsoft-windows-security-auditing": ("windows", ("security",)),
    "microsoft-windows-sysmon": ("windows", ("sysmon",)),
    **{name.lower(): ("linux", (*services, "syslog")) for name, (_, services) in PROGRAMS.items()},
}
#: Which tables each hint field is looked up in.
_LOOKUPS: dict[str, tuple[str, ...]] = {
    "event.dataset": ("dataset",),
    "data_stream.dataset": ("dataset",),
    "event.module": ("module",),
    "event.provider": ("provider",),
    "process.name": ("provider",),
    "service.type": ("module", "provider"),
}


def infer_logsource(get: Callable[[str], Any]) -> LogSource:
    """The log source of a record whose fields ``get`` returns (None when absent)."""
    hints = tuple(_text(get(name)) for name in HINT_FIELDS)
    categories = _categories(get("event.category"))
    extra = [DATASET_CATEGORIES[hint] for hint in hints[:2] if hint in DATASET_CATEGORIES]  # the datasets
    return _logsource(hints, tuple(sorted({*categories, *extra})) if extra else categories)


def forced_logsource(spec: str) -> LogSource:
    """``product=linux,service=sshd[,category=...]`` (services and categories may repeat)."""
    products: set[str] = set()
    services: set[str] = set()
    categories: set[str] = set()
    targets = {"product": products, "service": services, "category": categories}
    for part in spec.split(","):
        key, separator, value = part.partition("=")
        key, value = key.strip().lower(), value.strip().lower()
        if not separator or key not in targets or not value:
            raise ValueError(f"expected product=…,service=…,category=… (got {part.strip()!r})")
        targets[key].add(value)
    return LogSource(frozenset(products), frozenset(services), frozenset(categories))


def _text(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _categories(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(sorted({str(item).lower() for item in value if item is not None}))
    return (str(value).lower(),) if value else ()


@bounded_cache(entries=4096, longest=2048)
def _logsource(hints: tuple[str | None, ...], categories: tuple[str, ...]) -> LogSource:
    for name, value in zip(HINT_FIELDS, hints, strict=True):
        if value is None:
            continue
        for table in _LOOKUPS[name]:
            found = _find(table, value)
            if found is not None:
                product, services = found
                return LogSource(frozenset([product]), frozenset(services), frozenset(categories))
    return LogSource(categories=frozenset(categories))


def _find(table: str, value: str) -> tuple[str, tuple[str, ...]] | None:
    if table == "dataset":
        if value in DATASETS:
            return DATASETS[value]
        family, _, service = value.partition(".")
        if family in DATASET_FAMILIES and service:
            return DATASET_FAMILIES[family], (service,)
        return None
    if table == "module":
        return (MODULES[value], ()) if value in MODULES else None
    return PROVIDERS.get(value)
