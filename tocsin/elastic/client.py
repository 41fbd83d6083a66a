"""Connection settings and the client: TLS verified by default, credentials only from
the environment or a 0600 configuration file, and never in an error message."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch
from opensearchpy import OpenSearch

from tocsin.elastic.cluster import CLUSTER_ERRORS, Cluster, ElasticCluster, OpenSearchCluster
from tocsin.settings import ElasticsearchSettings, Settings

#: What the clients raise on settings they cannot use.
_SETTINGS_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, *CLUSTER_ERRORS)


class ElasticError(Exception):
    """A cluster problem told to the user; the message holds no credential."""


class ElasticSettings(ElasticsearchSettings):
    """Where the cluster is and how to authenticate: the ``[elasticsearch]`` settings (``repr`` hides
    the secrets)."""

    @classmethod
    def from_config(cls, settings: Settings) -> ElasticSettings:
        """The ``[elasticsearch]`` section of ``settings``."""
        return cls.model_validate(dict(settings.elasticsearch))

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
        api_key, password = self.api_key.get_secret_value(), self.password.get_secret_value()
        found = [api_key, password]
        if self.username and password:
            found.append(base64.b64encode(f"{self.username}:{password}".encode()).decode())
        userinfo = urlsplit(self.url).password if self.url else None
        if userinfo:
            found.append(userinfo)
        return [secret for secret in found if secret]

    def redact(self, text: str) -> str:
        """``text`` with every credential replaced by ``****``."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, "****")
        return text


def make_client(settings: ElasticSettings, **transport: Any) -> Cluster:
    """The cluster at ``settings`` with its product's client: ``product = auto`` asks the root
    endpoint (OpenSearch names itself in ``version.distribution``). ``transport`` passes node
    options through to the Elasticsearch client (tests)."""
    if not settings.configured:
        raise ElasticError(
            "no Elasticsearch or OpenSearch cluster configured: set TOCSIN_ES_URL (or TOCSIN_ES_CLOUD_ID), "
            "or url in the [elasticsearch] section of the configuration file"
        )
    elastic_only = settings.cloud_id or settings.api_key.get_secret_value()
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
    if settings.api_key.get_secret_value():
        options["api_key"] = settings.api_key.get_secret_value()
    elif settings.username:
        options["basic_auth"] = (settings.username, settings.password.get_secret_value())
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
        options["http_auth"] = (settings.username, settings.password.get_secret_value())
    if settings.url.startswith("https"):
        options["verify_certs"] = settings.verify_certs
        if settings.ca_file:
            options["ca_certs"] = settings.ca_file
    try:
        return OpenSearch(**options)
    except _SETTINGS_ERRORS as exc:
        raise ElasticError(f"cannot use the OpenSearch settings: {settings.redact(str(exc))}") from None


def describe(exc: BaseException, settings: ElasticSettings) -> str:
    """A one-line, credential-free account of a client error."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{settings.where}: {type(exc).__name__}: {settings.redact(text)}"
