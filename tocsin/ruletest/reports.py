"""CI output: JUnit XML for rule tests, SARIF 2.1.0 for rule lint findings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

from tocsin import __version__
from tocsin.ruletest.check import CheckReport
from tocsin.ruletest.runner import TestRun

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def junit_xml(run: TestRun) -> str:
    """One ``testsuite`` per ``info.yml``, one ``testcase`` per case; suite problems are errors."""
    root = ET.Element("testsuites", name="tocsin rules test")
    by_suite: dict[str, list[Any]] = defaultdict(list)
    for result in run.results:
        by_suite[str(result.case.info_file)].append(result)
    total = failures = errors = 0
    for suite_name, results in by_suite.items():
        suite = ET.SubElement(root, "testsuite", name=suite_name)
        suite_failures = 0
        seconds = 0.0
        for result in results:
            case = ET.SubElement(
                suite, "testcase",
                name=result.case.name,
                classname=result.title or result.case.rule,
                file=str(result.case.path),
                time=f"{result.seconds:.3f}",
            )  # fmt: skip
            seconds += result.seconds
            if not result.passed:
                suite_failures += 1
                failure = ET.SubElement(case, "failure", message=result.reason, type="match_count")
                failure.text = result.reason
            else:
                ET.SubElement(case, "system-out").text = result.reason
        suite.set("tests", str(len(results)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("time", f"{seconds:.3f}")
        total += len(results)
        failures += suite_failures
    if run.problems:
        suite = ET.SubElement(root, "testsuite", name="test layout", tests=str(len(run.problems)),
                              failures="0", errors=str(len(run.problems)), time="0")  # fmt: skip
        for problem in run.problems:
            case = ET.SubElement(suite, "testcase", name=problem.source, classname="info.yml")
            ET.SubElement(case, "error", message=problem.reason, type="layout").text = problem.reason
        total += len(run.problems)
        errors += len(run.problems)
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def sarif(report: CheckReport, base: Path | None = None) -> str:
    """Findings as a SARIF 2.1.0 log with one run; skipped validators become tool notifications."""
    rule_ids = sorted({finding.check for finding in report.findings})
    results = []
    for finding in report.findings:
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": _uri(finding.file, base)}}
        }
        if finding.title or finding.rule_id:
            location["logicalLocations"] = [{"name": finding.title or finding.rule_id, "kind": "rule",
                                             "fullyQualifiedName": finding.rule_id or finding.title}]  # fmt: skip
        results.append({
            "ruleId": finding.check,
            "ruleIndex": rule_ids.index(finding.check),
            "level": finding.severity,
            "message": {"text": finding.message},
            "locations": [location],
        })  # fmt: skip
    notifications = [
        {
            "level": "note",
            "message": {"text": f"validator {name} skipped: {reason}"},
            "descriptor": {"id": name},
        }
        for name, reason in sorted(report.skipped.items())
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tocsin rules check",
                "version": __version__,
                "informationUri": "https://github.com/SigmaHQ/pySigma",
                "rules": [{"id": rule_id, "shortDescription": {"text": rule_id.replace("_", " ")}} for rule_id in rule_ids],
            }},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }  # fmt: skip
    return json.dumps(log, indent=2) + "\n"


def _uri(file: str, base: Path | None) -> str:
    path = Path(file)
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix() if not path.is_absolute() else path.as_uri()
