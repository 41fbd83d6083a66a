"""Transport nodes that fail on purpose, for driving the real ``elasticsearch`` client.

Not a server: a node answers only what the shipping code sends (``_bulk`` and the
template check), from a script the test sets, and records what was delivered.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, ClassVar

from elastic_transport import ApiResponseMeta, BaseNode, ConnectionError, HttpHeaders
from elastic_transport._node._base import NodeApiResponse

from tocsin.elastic.client import ElasticSettings, make_client


class ScriptedNode(BaseNode):
    """Per request, the next entry of ``script``: ``refuse`` (connection refused), ``accept``,
    or an HTTP status for the whole request; once the script is used up, ``after`` applies.
    Within an accepted bulk request, ids in ``item_status`` get that status (once each)."""

    script: ClassVar[list[Any]] = []
    after: ClassVar[Any] = "accept"
    item_status: ClassVar[dict[str, int]] = {}
    delivered: ClassVar[Counter[str]] = Counter()
    sent: ClassVar[Counter[str]] = Counter()
    requests: ClassVar[int] = 0

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: Any = None,
        request_timeout: Any = None,
    ) -> NodeApiResponse:
        cls = type(self)
        cls.requests += 1
        step = cls.script.pop(0) if cls.script else cls.after
        if step == "refuse":
            raise ConnectionError("Connection refused (scripted)")
        if isinstance(step, int):
            return self._respond(
                step, {"error": {"type": "scripted", "reason": "scripted failure"}, "status": step}
            )
        if method == "HEAD":
            return self._respond(200, None)
        return self._respond(200, self._bulk(body or b""))

    def _bulk(self, body: bytes) -> dict[str, Any]:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        items = []
        cls = type(self)
        for header in lines[0::2]:
            op, meta = next(iter(header.items()))
            cls.sent[meta["_id"]] += 1
            status = cls.item_status.pop(meta["_id"], None)
            if status is None and cls.delivered[meta["_id"]]:
                status = 409
            if status is None:
                cls.delivered[meta["_id"]] += 1
                items.append({op: {"_id": meta["_id"], "_index": meta["_index"], "status": 201}})
            else:
                error = {
                    "type": "mapper_parsing_exception" if status == 400 else "scripted",
                    "reason": "scripted",
                }
                items.append(
                    {op: {"_id": meta["_id"], "_index": meta["_index"], "status": status, "error": error}}
                )
        return {"took": 1, "errors": any(i[next(iter(i))]["status"] >= 300 for i in items), "items": items}

    def _respond(self, status: int, body: dict[str, Any] | None) -> NodeApiResponse:
        headers = HttpHeaders({"content-type": "application/json", "x-elastic-product": "Elasticsearch"})
        meta = ApiResponseMeta(
            status=status, http_version="1.1", headers=headers, duration=0.0, node=self.config
        )
        return NodeApiResponse(meta, json.dumps(body).encode() if body is not None else b"")


def scripted_node(
    script: list[Any] | None = None, after: Any = "accept", item_status: dict[str, int] | None = None
) -> type[ScriptedNode]:
    """A fresh node class with its own script and delivery record."""
    return type(
        "Node",
        (ScriptedNode,),
        {
            "script": list(script or []),
            "after": after,
            "item_status": dict(item_status or {}),
            "delivered": Counter(),
            "sent": Counter(),
            "requests": 0,
        },
    )


def client_for(settings: ElasticSettings, node: type[ScriptedNode]) -> Any:
    return make_client(
        settings.model_copy(update={"product": "elasticsearch"}), node_class=node, max_retries=0
    )
