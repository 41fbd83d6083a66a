"""Configuration: defaults, one optional TOML file, then ``TOCSIN_*`` environment variables.

The file is the first of ``--config FILE``, ``./tocsin.toml`` and
``~/.config/tocsin/tocsin.toml``. An environment variable
``TOCSIN_<SECTION>_<KEY>`` overrides ``[section] key`` (``TOCSIN_SCAN_MIN_LEVEL=high``).
Command-line options override both. Secrets (keys named like password,
token, secret, api_key) are only read from a file that only its owner can
read (mode 0600) and are always masked when shown.
"""

from __future__ import annotations

import copy
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Every setting and its default. Other modules add their sections here.
DEFAULTS: dict[str, dict[str, Any]] = {
    "scan": {
        "rules": [],  # extra rule files or directories, in addition to the built-in pack
        "builtin_rules": True,  # load the built-in rule pack
        "min_level": "informational",  # alerts below this level are counted but not printed
        "batch_size": 5000,  # events per engine batch
        "timezone": "UTC",  # time zone of syslog timestamps that carry none
        "max_record_bytes": 1048576,  # longer records are skipped and counted
        "geoip": "",  # MaxMind City database locating logins for impossible travel (needs tocsin[geoip])
    },
    "sigma": {
        "placeholders": {},  # values for |expand placeholders, e.g. admins = ["root", "admin"]
    },
    "elasticsearch": {
        "url": "",  # https://host:9200 (TOCSIN_ES_URL); or cloud_id (TOCSIN_ES_CLOUD_ID)
        "product": "auto",  # auto (asks the cluster), elasticsearch or opensearch (TOCSIN_ES_PRODUCT)
        "cloud_id": "",
        "api_key": "",  # TOCSIN_ES_API_KEY; or username/password (TOCSIN_ES_USERNAME/_PASSWORD)
        "username": "",
        "password": "",
        "ca_file": "",  # CA bundle for the cluster's certificate (TOCSIN_ES_CA_FILE)
        "verify_certs": True,  # never turn off outside a lab
        "request_timeout": 30,  # seconds per request
        "chunk_size": 500,  # documents per bulk request
        "chunk_bytes": 10485760,  # bytes per bulk request
        "max_retries": 3,  # retries of documents the cluster answers 429/5xx for
        "state_dir": "",  # spool and dead-letter file (default ~/.local/state/tocsin/elasticsearch)
    },
    "response": {
        "db": "tocsin-cases.db",  # incident journal and audit log (SQLite, WAL); may be the scan --db file
        "plan": "",  # incident-response plan YAML (default: the built-in plan.yml)
        "playbooks": [],  # extra playbook files or directories, in addition to the built-in ones
        "dedup_window": 86400,  # seconds: an alert with the same key this close to an open incident joins it
        "identity_backend": "local",  # local (usermod/passwd/chage) or scim
        "protected_accounts": ["root"],  # identity actions refuse these (and every uid below 1000)
        "evidence_dirs": [],  # folders evidence may be copied from
        "template_dirs": [],  # folders of notification/report templates, before the built-in ones
        "output_dir": "incidents",  # reports, evidence and communication drafts, one folder per incident
        "user_email_domain": "",  # users without user.email are mailed at NAME@this domain
    },
    "watch": {
        "batch_size": 5000,  # events per micro-batch, at most
        "batch_delay": 0.25,  # seconds an event may wait for its batch to be committed
        "lateness": 300,  # seconds an event may arrive late and still join its correlation window
        "retention_days": 30,  # days events are kept in the watch case database
    },
    "smtp": {
        "host": "localhost",
        "port": 25,
        "security": "starttls",  # starttls, tls (implicit, port 465) or none (only for a trusted local relay)
        "username": "",
        "password": "",
        "sender": "tocsin@localhost",
        "ca_file": "",  # extra CA bundle; certificates are always verified
        "timeout": 30,
    },
    "webhook": {
        "url": "",  # JSON POST target (Slack and Teams incoming webhooks included)
        "format": "json",  # json, slack or teams
        "token": "",  # sent as a Bearer token when set
        "ca_file": "",
        "timeout": 10,
    },
    "scim": {
        "url": "",  # SCIM 2.0 base URL, e.g. https://idp.example.org/scim/v2
        "token": "",  # Bearer token
        "ca_file": "",
        "timeout": 10,
    },
    "firewall": {
        "backend": "nftables",  # nftables or file
        "table": "tocsin",  # nftables table (inet family) holding the blocklist sets
        "netns": "",  # network namespace to act in (default: the current one)
        "blocklist_file": "tocsin-blocklist.txt",  # file backend: one address per line
        "default_ttl": 86400,  # seconds a block lasts unless the step sets ttl
        "never_block": ["127.0.0.0/8", "::1/128"],  # addresses no playbook may block
    },
}

SECRET_KEY = re.compile(r"pass(word)?|secret|token|api_?key|credential", re.IGNORECASE)

#: Integer settings that may be 0; every other integer setting must be at least 1.
_ZERO_ALLOWED = {"max_retries", "dedup_window", "lateness", "default_ttl"}
#: Settings with a fixed set of values.
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("scan", "min_level"): ("informational", "low", "medium", "high", "critical"),
    ("response", "identity_backend"): ("local", "scim"),
    ("smtp", "security"): ("starttls", "tls", "none"),
    ("webhook", "format"): ("json", "slack", "teams"),
    ("firewall", "backend"): ("nftables", "file"),
}


class ConfigError(Exception):
    """A configuration file or value that cannot be used."""


def config_candidates(explicit: Path | None) -> list[Path]:
    if explicit:
        return [explicit]
    return [Path("tocsin.toml"), Path.home() / ".config" / "tocsin" / "tocsin.toml"]


def load_config(
    explicit: Path | None = None, environ: dict[str, str] | None = None
) -> tuple[dict[str, Any], Path | None]:
    """The effective configuration and the file it came from (None when only defaults and environment)."""
    config = copy.deepcopy(DEFAULTS)
    source = None
    for candidate in config_candidates(explicit):
        if candidate.is_file():
            source = candidate
            _merge(config, _read_file(candidate))
            break
        if explicit:
            raise ConfigError(f"{candidate}: no such configuration file")
    environ = os.environ if environ is None else environ
    _apply_environment(config, environ)
    for section, values in config.items():
        if section not in DEFAULTS or not isinstance(values, dict):
            raise ConfigError(f"{source}: unknown section [{section}] (known: {', '.join(DEFAULTS)})")
        for key, value in values.items():
            if key not in DEFAULTS[section]:
                raise ConfigError(f"{source}: unknown setting [{section}] {key} (known: {', '.join(DEFAULTS[section])})")
            problem = _check(section, key, value)
            if problem:
                variable = f"TOCSIN_{section}_{key}".upper()
                where = variable if variable in environ else str(source)
                raise ConfigError(f"{where}: [{section}] {key} = {value!r}: {problem}")
    return config, source


def _check(section: str, key: str, value: Any) -> str | None:
    """Why ``value`` cannot be ``[section] key``, or None: the type of its default, and its range."""
    default = DEFAULTS[section][key]
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            return "expected an integer"
        least = 0 if key in _ZERO_ALLOWED else 1
        return None if value >= least else f"expected an integer of at least {least}"
    if isinstance(default, float):
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            return "expected a number of at least 0"
        return None
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return "expected a list of strings, e.g. [\"a\", \"b\"]"
        return None
    if isinstance(default, dict):
        return None if isinstance(value, dict) else "expected a table"
    if not isinstance(value, str):
        return "expected a string"
    choices = _CHOICES.get((section, key))
    if choices and value.lower() not in choices:
        return f"expected one of {', '.join(choices)}"
    if (section, key) == ("scan", "timezone"):
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            return "unknown time zone (use an IANA name such as Europe/Paris, or UTC)"
    return None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if _has_secrets(data) and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} holds secrets but others can read it; run: chmod 600 {path}")
    return data


def _has_secrets(data: Any) -> bool:
    if isinstance(data, dict):
        return any((SECRET_KEY.search(key) and value) or _has_secrets(value) for key, value in data.items())
    return False


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _apply_environment(config: dict[str, Any], environ: dict[str, str] | os._Environ[str]) -> None:
    for section, values in config.items():
        for key, default in list(values.items()):
            raw = environ.get(f"TOCSIN_{section}_{key}".upper())
            if raw is not None:
                values[key] = _coerce(raw, default, f"TOCSIN_{section}_{key}".upper())


def _coerce(raw: str, default: Any, name: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={raw!r}: expected true or false")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected an integer") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected a number") from None
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def masked(config: Any, key: str = "") -> Any:
    """A copy of ``config`` with every secret value replaced by ``****``."""
    if isinstance(config, dict):
        return {k: masked(v, k) for k, v in config.items()}
    if key and SECRET_KEY.search(key) and config:
        return "****"
    return config


def to_toml(config: dict[str, Any]) -> str:
    """Render a two-level configuration as TOML (for ``tocsin config show``)."""
    lines: list[str] = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        nested = {k: v for k, v in values.items() if isinstance(v, dict)}
        for key, value in values.items():
            if key not in nested:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, value in nested.items():
            lines.append(f"\n[{section}.{key}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in value.items())
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
