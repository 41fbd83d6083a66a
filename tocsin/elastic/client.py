"""Connection settings and the client: TLS verified by default, credentials only from
the environment or a 0600 configuration file, and never in an error message."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch
from opensearchpy import OpenSearch

from tocsin.elastic.cluster import CLUSTER_ERRORS, Cluster, ElasticCluster, OpenSearchCluster

#: The short environment names the documentation uses; they win over the config file and
#: over the generic ``TOCSIN_ELASTICSEARCH_*`` names.
ENVIRONMENT = {
    "url": "TOCSIN_ES_URL",
    "cloud_id": "TOCSIN_ES_CLOUD_ID",
    "api_key": "TOCSIN_ES_API_KEY",
    "username": "TOCSIN_ES_USERNAME",
    "password": "TOCSIN_ES_PASSWORD",
    "ca_file": "TOCSIN_ES_CA_FILE",
    "product": "TOCSIN_ES_PRODUCT",
}
PRODUCTS = ("auto", "elasticsearch", "opensearch")


class ElasticError(Exception):
    """A cluster problem told to the user; the message holds no credential."""


@dataclass(frozen=True)
class ElasticSettings:
    """Where the cluster is and how to authenticate (``repr`` hides the secrets)."""

    url: str = ""
    product: str = "auto"
    cloud_id: str = ""
    api_key: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""
    verify_certs: bool = True
    request_timeout: float = 30
    chunk_size: int = 500
    chunk_bytes: int = 10 * 1024 * 1024
    max_retries: int = 3
    state_dir: Path = field(default_factory=lambda: default_state_dir())

    @classmethod
    def from_config(cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> ElasticSettings:
        """The ``[elasticsearch]`` section with ``TOCSIN_ES_*`` variables applied."""
        environ = os.environ if environ is None else environ
        section = dict(config.get("elasticsearch", {}))
        for key, variable in ENVIRONMENT.items():
            if environ.get(variable):
                section[key] = environ[variable]
        return cls(
            url=str(section.get("url") or ""),
            product=_product(section.get("product") or "auto"),
            cloud_id=str(section.get("cloud_id") or ""),
            api_key=str(section.get("api_key") or ""),
            username=str(section.get("username") or ""),
            password=str(section.get("password") or ""),
            ca_file=str(section.get("ca_file") or ""),
            verify_certs=bool(section.get("verify_certs", True)),
            request_timeout=float(section.get("request_timeout", 30)),
            chunk_size=int(section.get("chunk_size", 500)),
            chunk_bytes=int(section.get("chunk_bytes", 10 * 1024 * 1024)),
            max_retries=int(section.get("max_retries", 3)),
            state_dir=Path(section["state_dir"]) if section.get("state_dir") else default_state_dir(),
        )

    @property
    def configured(self) -> bool:
        return bool(self.url or self.cloud_id)

    @property
    def where(self) -> str:
        """The cluster address without any user information, for messages."""
        if self.cloud_id:
            return f"cloud id {self.cloud_id.partition(':')[0]}"
        parts = urlsplit(self.url)
        host = parts.hostname or self.url
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"

    def secrets(self) -> list[str]:
        """Every form in which a credential could surface in text."""
        found = [self.api_key, self.password]
        if self.username and self.password:
            found.append(base64.b64encode(f"{self.username}:{self.password}".encode()).decode())
        userinfo = urlsplit(self.url).password if self.url else None
        if userinfo:
            found.append(userinfo)
        return [secret for secret in found if secret]

    def redact(self, text: str) -> str:
        """``text`` with every credential replaced by ``****``."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, "****")
        return text


def _product(value: Any) -> str:
    product = str(value).strip().lower()
    if product not in PRODUCTS:
        raise ElasticError(f"product must be one of {', '.join(PRODUCTS)}, not {value!r}")
    return product


def default_state_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "tocsin" / "elasticsearch"


def make_client(settings: ElasticSettings, **transport: Any) -> Cluster:
    """The cluster at ``settings`` with its product's client: ``product = auto`` asks the root
    endpoint (OpenSearch names itself in ``version.distribution``). ``transport`` passes node
    options through to the Elasticsearch client (tests)."""
    if not settings.configured:
        raise ElasticError(
            "no Elasticsearch or OpenSearch cluster configured: set TOCSIN_ES_URL (or TOCSIN_ES_CLOUD_ID), "
            "or url in the [elasticsearch] section of the configuration file"
        )
    elastic_only = settings.cloud_id or settings.api_key
    product = "elasticsearch" if settings.product == "auto" and elastic_only else settings.product
    if product == "elasticsearch":
        return ElasticCluster(_elasticsearch(settings, transport))
    if elastic_only:
        raise ElasticError("OpenSearch has no cloud ids or API keys: set username and password instead")
    opensearch = _opensearch(settings)
    if product == "auto" and detect_product(opensearch) != "opensearch":
        return ElasticCluster(_elasticsearch(settings, transport))
    return OpenSearchCluster(opensearch)


def detect_product(client: OpenSearch) -> str:
    """``opensearch``, ``elasticsearch``, or ``unknown`` when the root endpoint does not answer
    (the cluster is down: what is shipped is spooled whichever client is used)."""
    try:
        info = client.info()
    except CLUSTER_ERRORS:
        return "unknown"
    return "opensearch" if info.get("version", {}).get("distribution") == "opensearch" else "elasticsearch"


def _elasticsearch(settings: ElasticSettings, transport: dict[str, Any]) -> Elasticsearch:
    options: dict[str, Any] = {
        "request_timeout": settings.request_timeout,
        "retry_on_timeout": True,
        "max_retries": 2,
        **transport,
    }
    if settings.cloud_id:
        options["cloud_id"] = settings.cloud_id
    else:
        options["hosts"] = [settings.url]
    if settings.api_key:
        options["api_key"] = settings.api_key
    elif settings.username:
        options["basic_auth"] = (settings.username, settings.password)
    if settings.url.startswith("https") or settings.cloud_id:
        options["verify_certs"] = settings.verify_certs
        if settings.ca_file:
            options["ca_certs"] = settings.ca_file
    try:
        return Elasticsearch(**options)
    except (ValueError, TypeError) as exc:
        raise ElasticError(f"cannot use the Elasticsearch settings: {settings.redact(str(exc))}") from None


def _opensearch(settings: ElasticSettings) -> OpenSearch:
    options: dict[str, Any] = {
        "hosts": [settings.url],
        "timeout": settings.request_timeout,
        "retry_on_timeout": True,
        "max_retries": 2,
    }
    if settings.username:
        options["http_auth"] = (settings.username, settings.password)
    if settings.url.startswith("https"):
        options["verify_certs"] = settings.verify_certs
        if settings.ca_file:
            options["ca_certs"] = settings.ca_file
    try:
        return OpenSearch(**options)
    except (ValueError, TypeError, *CLUSTER_ERRORS) as exc:
        raise ElasticError(f"cannot use the OpenSearch settings: {settings.redact(str(exc))}") from None


def describe(exc: BaseException, settings: ElasticSettings) -> str:
    """A one-line, credential-free account of a client error."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{settings.where}: {type(exc).__name__}: {settings.redact(text)}"
