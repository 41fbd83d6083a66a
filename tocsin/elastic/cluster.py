"""One cluster, Elasticsearch or OpenSearch, behind the few calls tocsin makes.

Each product is spoken to with its own official client: ``elasticsearch`` for Elasticsearch
(it refuses any other server), ``opensearch-py`` for OpenSearch. The two differ in call
style (keyword arguments against request bodies), in the lifecycle plugin (ILM against
ISM) and in a few mapping types; everything else tocsin does -- documents, ids, data
streams, Lucene ``query_string`` hunting -- is the same on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import elastic_transport
import elasticsearch
import opensearchpy
from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk as elastic_streaming_bulk
from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk as opensearch_streaming_bulk

#: Every error a cluster call can raise, from either client.
CLUSTER_ERRORS: tuple[type[Exception], ...] = (
    elastic_transport.TransportError,
    elasticsearch.ApiError,
    opensearchpy.exceptions.OpenSearchException,
)
NOT_FOUND: tuple[type[Exception], ...] = (elasticsearch.NotFoundError, opensearchpy.NotFoundError)
UNREACHABLE: tuple[type[Exception], ...] = (elastic_transport.ConnectionError, opensearchpy.ConnectionError)
#: The plugin that gives OpenSearch index lifecycle policies (ISM); not part of the core server.
ISM_PLUGIN = "opensearch-index-management"

Hits = Iterator[list[dict[str, Any]]]


class ElasticCluster:
    """Elasticsearch through the official client."""

    product = "elasticsearch"
    lifecycle = "ILM policy"

    def __init__(self, client: Elasticsearch) -> None:
        self.client = client

    def streaming_bulk(self, actions: Iterable[dict[str, Any]], **options: Any) -> Iterator[tuple[bool, Any]]:
        yield from elastic_streaming_bulk(self.client, actions, **options)

    def has_index_template(self, name: str) -> bool:
        return bool(self.client.indices.exists_index_template(name=name).body)

    def lifecycle_unavailable(self) -> str | None:
        return None

    def lifecycle_meta(self, name: str) -> dict[str, Any]:
        return self.client.ilm.get_lifecycle(name=name)[name]["policy"].get("_meta", {})

    def put_lifecycle(self, name: str, policy: dict[str, Any]) -> None:
        self.client.ilm.put_lifecycle(name=name, policy=policy)

    def component_template(self, name: str) -> dict[str, Any]:
        found = self.client.cluster.get_component_template(name=name)["component_templates"][0]
        return found["component_template"]

    def put_component_template(self, name: str, body: dict[str, Any]) -> None:
        self.client.cluster.put_component_template(name=name, **_keywords(body))

    def index_template(self, name: str) -> dict[str, Any]:
        return self.client.indices.get_index_template(name=name)["index_templates"][0]["index_template"]

    def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        self.client.indices.put_index_template(name=name, **_keywords(body))

    def has_data_stream(self, name: str) -> bool:
        return bool(self.client.indices.get_data_stream(name=name)["data_streams"])

    def create_data_stream(self, name: str) -> None:
        self.client.indices.create_data_stream(name=name)

    def search_pages(
        self, index: str, query: dict[str, Any], page_size: int, newest_first: bool = False
    ) -> Hits:
        """Every hit of ``query``, a page at a time, over one point in time."""
        pit = self.client.open_point_in_time(index=index, keep_alive="2m", ignore_unavailable=True)["id"]
        order = "desc" if newest_first else "asc"
        search_after: list[Any] | None = None
        try:
            while True:
                response = self.client.search(
                    pit={"id": pit, "keep_alive": "2m"},
                    query=query,
                    size=page_size,
                    sort=[{"@timestamp": order}, {"_shard_doc": order}],
                    search_after=search_after,
                    track_total_hits=False,
                )
                pit = response.get("pit_id", pit)
                hits = response["hits"]["hits"]
                if not hits:
                    return
                yield hits
                search_after = hits[-1]["sort"]
        finally:
            self.client.close_point_in_time(id=pit)

    def count(self, index: str, query: dict[str, Any] | None = None) -> int:
        return int(self.client.count(index=index, query=query or {"match_all": {}})["count"])

    def refresh(self, index: str) -> None:
        self.client.indices.refresh(index=index)


class OpenSearchCluster:
    """OpenSearch through ``opensearch-py``."""

    product = "opensearch"
    lifecycle = "ISM policy"

    def __init__(self, client: OpenSearch) -> None:
        self.client = client

    def streaming_bulk(self, actions: Iterable[dict[str, Any]], **options: Any) -> Iterator[tuple[bool, Any]]:
        """As Elasticsearch's helper reports them: a request that never reached the node raises
        (opensearch-py would turn it into per-document errors and hide the outage)."""
        for ok, item in opensearch_streaming_bulk(self.client, actions, **options):
            error = next(iter(item.values())).get("exception")
            if isinstance(error, UNREACHABLE):
                raise error
            yield ok, item

    def has_index_template(self, name: str) -> bool:
        return bool(self.client.indices.exists_index_template(name=name))

    def lifecycle_unavailable(self) -> str | None:
        """Why no ISM policy can be written here, or None when the plugin is installed."""
        plugins = {row.get("component") for row in self.client.cat.plugins(format="json")}
        return None if ISM_PLUGIN in plugins else f"the {ISM_PLUGIN} plugin is not installed on the cluster"

    def lifecycle_meta(self, name: str) -> dict[str, Any]:
        policy = self.client.transport.perform_request("GET", f"/_plugins/_ism/policies/{name}")["policy"]
        return _meta_from_description(policy.get("description", ""))

    def put_lifecycle(self, name: str, policy: dict[str, Any]) -> None:
        try:
            current = self.client.transport.perform_request("GET", f"/_plugins/_ism/policies/{name}")
        except NOT_FOUND:
            self.client.transport.perform_request(
                "PUT", f"/_plugins/_ism/policies/{name}", body={"policy": policy}
            )
            return
        params = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
        self.client.transport.perform_request(
            "PUT", f"/_plugins/_ism/policies/{name}", params=params, body={"policy": policy}
        )

    def component_template(self, name: str) -> dict[str, Any]:
        found = self.client.cluster.get_component_template(name=name)["component_templates"][0]
        return found["component_template"]

    def put_component_template(self, name: str, body: dict[str, Any]) -> None:
        self.client.cluster.put_component_template(name=name, body=body)

    def index_template(self, name: str) -> dict[str, Any]:
        return self.client.indices.get_index_template(name=name)["index_templates"][0]["index_template"]

    def put_index_template(self, name: str, body: dict[str, Any]) -> None:
        self.client.indices.put_index_template(name=name, body=body)

    def has_data_stream(self, name: str) -> bool:
        return bool(self.client.indices.get_data_stream(name=name)["data_streams"])

    def create_data_stream(self, name: str) -> None:
        self.client.indices.create_data_stream(name=name)

    def search_pages(
        self, index: str, query: dict[str, Any], page_size: int, newest_first: bool = False
    ) -> Hits:
        """Every hit of ``query``, a page at a time, over one scroll (a consistent view)."""
        order = "desc" if newest_first else "asc"
        body = {"query": query, "sort": [{"@timestamp": order}, "_doc"], "size": page_size}
        response = self.client.search(index=index, body=body, scroll="2m", ignore_unavailable=True)
        scroll_id = response.get("_scroll_id")
        try:
            while True:
                hits = response["hits"]["hits"]
                if not hits:
                    return
                yield hits
                response = self.client.scroll(body={"scroll_id": scroll_id, "scroll": "2m"})
                scroll_id = response.get("_scroll_id", scroll_id)
        finally:
            if scroll_id:
                self.client.clear_scroll(body={"scroll_id": [scroll_id]}, ignore=(404,))

    def count(self, index: str, query: dict[str, Any] | None = None) -> int:
        return int(self.client.count(index=index, body={"query": query or {"match_all": {}}})["count"])

    def refresh(self, index: str) -> None:
        self.client.indices.refresh(index=index)


Cluster = ElasticCluster | OpenSearchCluster


def _keywords(body: dict[str, Any]) -> dict[str, Any]:
    """A template body as the Elasticsearch client's keyword arguments (``_meta`` is ``meta``)."""
    return {("meta" if key == "_meta" else key): value for key, value in body.items()}


def _meta_from_description(description: str) -> dict[str, Any]:
    """ISM policies hold no ``_meta``: tocsin writes ``managed_by tocsin, version N`` as the description."""
    words = description.replace(",", " ").split()
    if "tocsin" in words and "version" in words:
        position = words.index("version") + 1
        if position < len(words) and words[position].isdigit():
            return {"managed_by": "tocsin", "version": int(words[position])}
    return {}
