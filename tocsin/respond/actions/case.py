"""Case actions: incident updates, timeline entries and evidence preserved with a SHA-256 manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Literal

from tocsin.respond.actions.base import Params, Responder, ResponderError, StepContext


class UpdateParams(Params):
    status: Literal["open", "contained", "eradicated", "recovered", "closed", ""] = ""
    note: str = ""


class UpdateCase(Responder):
    params = UpdateParams

    def plan(self, params: UpdateParams, ctx: StepContext) -> str:
        return f"mark {ctx.incident_id} {params.status or '(status unchanged)'}" + (
            f": {params.note}" if params.note else ""
        )

    def execute(self, params: UpdateParams, ctx: StepContext) -> dict[str, Any]:
        if params.status:
            ctx.case.update_incident(ctx.incident_id, phase=params.status)
        ctx.case.add_timeline(ctx.incident_id, "update", params.note or f"phase: {params.status}")
        return {"phase": params.status}


class TimelineParams(Params):
    text: str


class TimelineEntry(Responder):
    params = TimelineParams

    def plan(self, params: TimelineParams, ctx: StepContext) -> str:
        return f"timeline: {params.text}"

    def execute(self, params: TimelineParams, ctx: StepContext) -> dict[str, Any]:
        ctx.case.add_timeline(ctx.incident_id, "note", params.text)
        return {}


class EvidenceParams(Params):
    paths: list[str] = []
    alerts: bool = True  # also preserve the incident's alert documents


class AttachEvidence(Responder):
    """Files may come only from ``response.evidence_dirs``; a path that resolves elsewhere is refused."""

    params = EvidenceParams

    def plan(self, params: EvidenceParams, ctx: StepContext) -> str:
        names = [str(_allowed(path, ctx)) for path in params.paths] + (
            ["alerts.jsonl"] if params.alerts else []
        )
        return f"preserve {', '.join(names) or 'nothing'} in {ctx.incident_dir / 'evidence'}"

    def execute(self, params: EvidenceParams, ctx: StepContext) -> dict[str, Any]:
        sources = [_allowed(path, ctx) for path in params.paths]
        folder = ctx.claim_incident_dir() / "evidence"
        folder.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, dict[str, Any]] = {}
        if params.alerts:
            target = folder / "alerts.jsonl"
            alerts = ctx.case.incident_record(ctx.incident_id)["alerts"]
            target.write_text("".join(json.dumps(a, sort_keys=True) + "\n" for a in alerts), encoding="utf-8")
            manifest["alerts.jsonl"] = {"source": f"{ctx.incident_id} alerts"}
        for source in sources:
            shutil.copy2(source, folder / source.name)
            manifest[source.name] = {"source": str(source)}
        for name, entry in manifest.items():
            data = (folder / name).read_bytes()
            entry.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
            ctx.case.add_evidence(ctx.incident_id, name, entry["sha256"], entry["size"], str(folder / name))
        (folder / "MANIFEST.sha256").write_text(
            "".join(f"{entry['sha256']}  {name}\n" for name, entry in sorted(manifest.items())),
            encoding="utf-8",
        )
        return {"files": sorted(manifest)}


def _allowed(text: str, ctx: StepContext) -> Path:
    roots = [Path(folder).resolve() for folder in ctx.settings.response.evidence_dirs]
    path = Path(text).resolve()
    if not any(path.is_relative_to(root) for root in roots):
        raise ResponderError(f"evidence path {text!r} is outside response.evidence_dirs")
    if not path.is_file():
        raise ResponderError(f"evidence {text!r} is not a file")
    return path
