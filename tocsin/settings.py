"""Settings: typed defaults, one optional TOML file, then ``TOCSIN_*`` environment variables.

The file is the first of ``--config FILE``, ``./tocsin.toml`` and ``~/.config/tocsin/tocsin.toml``.
``TOCSIN_<SECTION>__<KEY>`` overrides ``[section] key`` (``TOCSIN_SCAN__MIN_LEVEL=high``); the older
``TOCSIN_<SECTION>_<KEY>`` names and the ``TOCSIN_ES_*`` names of ``[elasticsearch]`` are aliases.
Lists are given comma-separated, tables as JSON. Command-line options override both. A misspelt key
or a value of the wrong type or range is an error naming the key and the file (or the variable).
Secrets are only read from a file that only its owner can read (mode 0600) and are masked when shown.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
)
from pydantic.fields import FieldInfo

#: The short names the documentation gives the ``[elasticsearch]`` settings; they win over the older
#: ``TOCSIN_ELASTICSEARCH_*`` names (both are aliases of ``TOCSIN_ELASTICSEARCH__*``), and are
#: ignored when empty.
ES_ALIASES = {
    "url": "TOCSIN_ES_URL",
    "cloud_id": "TOCSIN_ES_CLOUD_ID",
    "api_key": "TOCSIN_ES_API_KEY",
    "username": "TOCSIN_ES_USERNAME",
    "password": "TOCSIN_ES_PASSWORD",
    "ca_file": "TOCSIN_ES_CA_FILE",
    "product": "TOCSIN_ES_PRODUCT",
}


class ConfigError(Exception):
    """A configuration file or value that cannot be used."""


def _lower(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.lower()


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError("unknown time zone (use an IANA name such as Europe/Paris, or UTC)") from None
    return value


def _state_dir(value: Any) -> Any:
    """The Elasticsearch spool directory: ``value``, or the default under ``XDG_STATE_HOME``."""
    if value:
        return value
    return (
        Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        / "tocsin"
        / "elasticsearch"
    )


Count = Annotated[int, Field(ge=1)]
CountOrZero = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(ge=0)]
#: A string setting with a fixed set of values, written in any case.
AnyCase = BeforeValidator(_lower)
LevelName = Annotated[Literal["informational", "low", "medium", "high", "critical"], AnyCase]
TimeZone = Annotated[str, AfterValidator(_time_zone)]


class Section(BaseModel):
    """A ``[section]`` of the file: strict types, no unknown keys, read-only. Validation is built when
    first needed: a run with nothing configured takes the defaults as they are (``load_settings``)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


class ScanSettings(Section):
    rules: list[str] = []  # extra rule files or directories, in addition to the built-in pack
    builtin_rules: bool = True  # load the built-in rule pack
    min_level: LevelName = "informational"  # alerts below this level are counted but not printed
    batch_size: Count = 50_000  # events per engine batch
    timezone: TimeZone = "UTC"  # time zone of syslog timestamps that carry none
    max_record_bytes: Count = 1048576  # longer records are skipped and counted
    geoip: str = ""  # MaxMind City database locating logins for impossible travel (needs tocsin[geoip])


class SigmaSettings(Section):
    #: Values for |expand placeholders, e.g. admins = ["root", "admin"].
    placeholders: dict[str, list[str]] = {}


def _data_dir(value: Any) -> Any:
    """The installed rule packs: ``value``, or the default under ``XDG_DATA_HOME``."""
    if value:
        return value
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "tocsin" / "rules"


class RulePackSettings(Section):
    #: Where ``tocsin rules install`` keeps packs (default ``$XDG_DATA_HOME/tocsin/rules``).
    directory: Annotated[Path, Field(strict=False), BeforeValidator(_data_dir)] = Field(
        default_factory=lambda: _data_dir("")
    )
    enabled: bool = True  # scan, watch and es hunt load the installed packs beside the built-in one
    status: list[str] = [
        "stable",
        "test",
    ]  # statuses of installed rules that load (a rule without one: experimental)
    min_level: LevelName = "informational"  # installed rules below this level do not load
    tags: list[str] = []  # when set, only installed rules with one of these tags load (attack.t1110*)
    disabled: list[
        str
    ] = []  # rule ids that never load (built-in or installed), beside `tocsin rules disable`


class ElasticsearchSettings(Section):
    url: str = ""  # https://host:9200 (TOCSIN_ES_URL); or cloud_id (TOCSIN_ES_CLOUD_ID)
    #: auto asks the cluster (TOCSIN_ES_PRODUCT).
    product: Annotated[Literal["auto", "elasticsearch", "opensearch"], AnyCase] = "auto"
    cloud_id: str = ""
    #: TOCSIN_ES_API_KEY; or username/password (TOCSIN_ES_USERNAME/_PASSWORD).
    api_key: SecretStr = SecretStr("")
    username: str = ""
    password: SecretStr = SecretStr("")
    ca_file: str = ""  # CA bundle for the cluster's certificate (TOCSIN_ES_CA_FILE)
    verify_certs: bool = True  # never turn off outside a lab
    request_timeout: Seconds = 30  # seconds per request
    chunk_size: Count = 500  # documents per bulk request
    chunk_bytes: Count = 10485760  # bytes per bulk request
    max_retries: CountOrZero = 3  # retries of documents the cluster answers 429/5xx for
    #: Spool and dead-letter file (default ``$XDG_STATE_HOME/tocsin/elasticsearch``).
    state_dir: Annotated[Path, Field(strict=False), BeforeValidator(_state_dir)] = Field(
        default_factory=lambda: _state_dir("")
    )


class ResponseSettings(Section):
    db: str = "tocsin-cases.db"  # incident journal and audit log (SQLite, WAL); may be the scan --db file
    plan: str = ""  # incident-response plan YAML (default: the built-in plan.yml)
    playbooks: list[str] = []  # extra playbook files or directories, in addition to the built-in ones
    #: Seconds: an alert with the same key this close to an open incident joins it.
    dedup_window: CountOrZero = 86400
    #: local (usermod/passwd/chage) or scim.
    identity_backend: Annotated[Literal["local", "scim"], AnyCase] = "local"
    protected_accounts: list[str] = ["root"]  # identity actions refuse these (and every uid below 1000)
    evidence_dirs: list[str] = []  # folders evidence may be copied from
    template_dirs: list[str] = []  # folders of notification/report templates, before the built-in ones
    output_dir: str = "incidents"  # reports, evidence and communication drafts, one folder per incident
    user_email_domain: str = ""  # users without user.email are mailed at NAME@this domain


class WatchSettings(Section):
    batch_size: Count = 5000  # events per micro-batch, at most
    batch_delay: Seconds = 0.25  # seconds an event may wait for its batch to be committed
    lateness: CountOrZero = 300  # seconds an event may arrive late and still join its correlation window
    retention_days: Count = 30  # days events are kept in the watch case database


class SmtpSettings(Section):
    host: str = "localhost"
    port: Count = 25
    #: tls: implicit, port 465; none: only for a trusted local relay.
    security: Annotated[Literal["starttls", "tls", "none"], AnyCase] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")
    sender: str = "tocsin@localhost"
    ca_file: str = ""  # extra CA bundle; certificates are always verified
    timeout: Count = 30


class WebhookSettings(Section):
    url: str = ""  # JSON POST target (Slack and Teams incoming webhooks included)
    format: Annotated[Literal["json", "slack", "teams"], AnyCase] = "json"
    token: SecretStr = SecretStr("")  # sent as a Bearer token when set
    ca_file: str = ""
    timeout: Count = 10


class ScimSettings(Section):
    url: str = ""  # SCIM 2.0 base URL, e.g. https://idp.example.org/scim/v2
    token: SecretStr = SecretStr("")  # Bearer token
    ca_file: str = ""
    timeout: Count = 10


class FirewallSettings(Section):
    backend: Annotated[Literal["nftables", "file"], AnyCase] = "nftables"
    table: str = "tocsin"  # nftables table (inet family) holding the blocklist sets
    netns: str = ""  # network namespace to act in (default: the current one)
    blocklist_file: str = "tocsin-blocklist.txt"  # file backend: one address per line
    default_ttl: CountOrZero = 86400  # seconds a block lasts unless the step sets ttl
    never_block: list[str] = ["127.0.0.0/8", "::1/128"]  # addresses no playbook may block


def _networks(value: list[str]) -> list[str]:
    from ipaddress import ip_network

    for item in value:
        try:
            ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"not an address or CIDR network: {item!r}") from None
    return value


class WebSettings(Section):
    """Web server logs (docs/web-logs.md): whose X-Forwarded-For to believe, and what a login is."""

    #: Proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; empty: never.
    trusted_proxies: Annotated[list[str], AfterValidator(_networks)] = []
    #: Paths (globs, case-insensitive) where a request with one of ``login_methods`` is a login.
    login_paths: list[str] = [
        "/login",
        "/signin",
        "/sign-in",
        "/session",
        "/sessions",
        "/users/sign_in",
        "/api/*/auth*",
        "/oauth/token",
        "/wp-login.php",
        "/xmlrpc.php",
        "/user/login",
        "/account/login",
        "*/j_security_check",
    ]
    login_methods: list[str] = ["POST"]
    #: Paths where a request of any method is a login (HTTP authentication: 401 is a failure).
    login_paths_any_method: list[str] = ["/manager/html", "/manager/html/*"]
    #: Statuses of a login request that mean a failed login; 2xx and 3xx mean success, others no login.
    failure_statuses: list[Annotated[int, Field(ge=100, le=999)]] = [400, 401, 403, 407, 422, 429]


class Settings(BaseModel):
    """Every section; the file's values are the lowest-priority source, the environment overrides them
    (``load_settings``)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)

    scan: ScanSettings = Field(default_factory=ScanSettings)
    sigma: SigmaSettings = Field(default_factory=SigmaSettings)
    rule_packs: RulePackSettings = Field(default_factory=RulePackSettings)
    elasticsearch: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)
    response: ResponseSettings = Field(default_factory=ResponseSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    scim: ScimSettings = Field(default_factory=ScimSettings)
    firewall: FirewallSettings = Field(default_factory=FirewallSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file the settings were read from (None: defaults and environment only)."""
        return self._source


def section_fields(section: str) -> dict[str, FieldInfo]:
    """The settings of ``[section]``, by key."""
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, Section)
    return model.model_fields


def variables(section: str, key: str) -> list[str]:
    """The environment variables of ``[section] key``, the one that wins first."""
    names = [f"TOCSIN_{section}__{key}".upper()]
    if section == "elasticsearch" and key in ES_ALIASES:
        names.append(ES_ALIASES[key])
    return [*names, f"TOCSIN_{section}_{key}".upper()]


def _environment() -> dict[str, dict[str, Any]]:
    """``TOCSIN_<SECTION>__<KEY>`` and its aliases, read as the type of the setting, by section."""
    _refuse_unknown_variables()
    found: dict[str, dict[str, Any]] = {}
    for section in Settings.model_fields:
        for key, field in section_fields(section).items():
            for name in variables(section, key):
                raw = os.environ.get(name)
                if raw is None or (raw == "" and name in ES_ALIASES.values()):
                    continue
                found.setdefault(section, {})[key] = _from_text(raw, field, name)
                break
    return found


def _refuse_unknown_variables() -> None:
    """A ``TOCSIN_<SECTION>__<KEY>`` variable naming no setting is a misspelling, not a no-op."""
    for name in os.environ:
        section, sep, key = name.removeprefix("TOCSIN_").lower().partition("__")
        if not name.startswith("TOCSIN_") or not sep:
            continue
        if section not in Settings.model_fields:
            raise ConfigError(
                f"{name}: unknown section [{section}] (known: {', '.join(Settings.model_fields)})"
            )
        known = section_fields(section)
        if key not in known:
            raise ConfigError(f"{name}: unknown setting [{section}] {key} (known: {', '.join(known)})")


def _merged(lower: dict[str, Any], higher: dict[str, Any]) -> dict[str, Any]:
    """``lower`` with ``higher``'s values over it, tables merged key by key."""
    merged = dict(lower)
    for key, value in higher.items():
        below = merged.get(key)
        merged[key] = _merged(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged


def _from_text(raw: str, field: FieldInfo, name: str) -> Any:
    """An environment value as the type of its setting; strings the setting validates itself."""
    kind = field.annotation
    origin = getattr(kind, "__origin__", None)
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={raw!r}: expected true or false")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected an integer") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected a number") from None
    if origin is list:
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if _item_type(kind) is int:
            try:
                return [int(item) for item in items]
            except ValueError:
                raise ConfigError(f"{name}={raw!r}: expected integers separated by commas") from None
        return items
    if origin is dict:
        try:
            return json.loads(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected a JSON object") from None
    return raw


def _item_type(kind: Any) -> Any:
    """The type of a list setting's items, without its constraints (``Annotated``)."""
    (item,) = get_args(kind)
    return get_args(item)[0] if get_origin(item) is Annotated else item


def config_candidates(explicit: Path | None) -> list[Path]:
    if explicit:
        return [explicit]
    return [Path("tocsin.toml"), Path.home() / ".config" / "tocsin" / "tocsin.toml"]


def load_settings(explicit: Path | None = None) -> Settings:
    """The effective settings: defaults, the first configuration file found, the environment."""
    data: dict[str, Any] = {}
    source = None
    for candidate in config_candidates(explicit):
        if candidate.is_file():
            source = candidate
            data = _read_file(candidate)
            break
        if explicit:
            raise ConfigError(f"{candidate}: no such configuration file")
    for section, values in data.items():
        if section not in Settings.model_fields or not isinstance(values, dict):
            raise ConfigError(
                f"{source}: unknown section [{section}] (known: {', '.join(Settings.model_fields)})"
            )
    given = _merged(data, _environment())
    try:
        settings = Settings(**given) if given else _defaults()
    except ValidationError as exc:
        raise ConfigError(_explain(exc, data, source)) from None
    settings._source = source
    return settings


def _defaults() -> Settings:
    """The settings when nothing is configured: every section's defaults, taken without validating
    them (building the validators is most of what loading settings costs)."""
    sections: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        section = field.annotation
        assert isinstance(section, type) and issubclass(section, Section)
        sections[name] = section.model_construct()
    return Settings.model_construct(**sections)


def _explain(exc: ValidationError, data: dict[str, Any], source: Path | None) -> str:
    """The first problem, naming the key and where its value came from."""
    error = exc.errors()[0]
    section, key = str(error["loc"][0]), str(error["loc"][1]) if len(error["loc"]) > 1 else ""
    if error["type"] == "extra_forbidden":
        return f"{source}: unknown setting [{section}] {key} (known: {', '.join(section_fields(section))})"
    where = next((name for name in variables(section, key) if name in os.environ), str(source))
    value = data.get(section, {}).get(key) if where == str(source) else os.environ[where]
    return f"{where}: [{section}] {key} = {value!r}: {_problem(error)}"


def _problem(error: Any) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if len(error["loc"]) > 2 and kind == "string_type":
        return 'expected a list of strings, e.g. ["a", "b"]'
    problems = {
        "bool_type": "expected true or false",
        "int_type": "expected an integer",
        "float_type": "expected a number",
        "string_type": "expected a string",
        "list_type": 'expected a list of strings, e.g. ["a", "b"]',
        "dict_type": "expected a table",
        "literal_error": f"expected one of {str(context.get('expected', '')).replace(chr(39), '')}",
        "greater_than_equal": f"expected {'an integer' if isinstance(error['input'], int) else 'a number'} "
        f"of at least {context.get('ge')}",
    }
    return problems.get(kind, str(error["msg"]).removeprefix("Value error, "))


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if _holds_secrets(data) and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} holds secrets but others can read it; run: chmod 600 {path}")
    return data


def _holds_secrets(data: dict[str, Any]) -> bool:
    """Whether a setting of type ``SecretStr`` has a value in ``data``."""
    for section, values in data.items():
        if section in Settings.model_fields and isinstance(values, dict):
            fields = section_fields(section)
            if any(
                key in fields and fields[key].annotation is SecretStr and value
                for key, value in values.items()
            ):
                return True
    return False


def to_toml(settings: Settings) -> str:
    """The settings as TOML, every secret that is set shown as ``****`` (for ``tocsin config show``)."""
    lines: list[str] = []
    for section in Settings.model_fields:
        lines.append(f"[{section}]")
        values = getattr(settings, section)
        tables = []
        for key in section_fields(section):
            value = getattr(values, key)
            if isinstance(value, dict):
                tables.append((key, value))
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, table in tables:
            lines.append(f"\n[{section}.{key}]")
            lines.extend(f"{name} = {_toml_value(item)}" for name, item in table.items())
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return _toml_value("****" if value.get_secret_value() else "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
