"""``tocsin rules list|test|check|convert``: tooling for rule authors; ``install|update|remove|disable|enable``:
the community rule packs scan, watch and es hunt load."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from rich.table import Table
from sigma.correlations import SigmaCorrelationRule

from tocsin.cli import EXIT_USAGE
from tocsin.cli.options import pass_settings
from tocsin.detectors.sigma.packs import Pack, PackError, PackStore, rule_selection
from tocsin.detectors.sigma.ruleset import builtin_rules_path, load_rules
from tocsin.elastic.convert import convert
from tocsin.elastic.kibana import detection_rules, ndjson, saved_objects
from tocsin.ruletest.check import check_rules
from tocsin.ruletest.listing import Listing, as_json, list_rules, navigator_layer
from tocsin.ruletest.reports import junit_xml, sarif
from tocsin.ruletest.runner import TestRun, context_paths, rule_infos, run_tests
from tocsin.settings import Settings
from tocsin.terminal import SafeConsole, stderr_console, styled, table_console

PATHS = click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
OUTPUT = click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Write to FILE."
)


def _stderr() -> SafeConsole:
    return stderr_console()


@click.group()
def rules() -> None:
    """Work with Sigma rules."""


@rules.command("test")
@PATHS
@click.option(
    "--format", "output_format", type=click.Choice(["text", "junit"]), default="text", show_default=True
)
@OUTPUT
@click.option("--no-builtin-rules", is_flag=True, help="Do not load the built-in pack beside PATHS.")
@click.option(
    "--require-tests", is_flag=True, help="Also fail when a rule file has no positive or no negative case."
)
def rules_test(
    paths: tuple[Path, ...], output_format: str, output: IO[str], no_builtin_rules: bool, require_tests: bool
) -> None:
    """Run every rule against its test cases (info.yml beside the rule, or SigmaHQ regression_data).

    PATHS are rule files or folders (default: the built-in pack). Exit 1 on any failure.
    """
    run = run_tests(list(paths), builtin=not no_builtin_rules)
    text = table_console(output) if output_format == "text" else None
    if text is not None:
        for result in run.results:
            mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
            text.print(
                styled(
                    mark + " {} — {}: {}", result.title or result.case.rule, result.case.name, result.reason
                )
            )
        for problem in run.problems:
            text.print(styled("[red]ERROR[/] {}: {}", problem.source, problem.reason))
    else:
        output.write(junit_xml(run))
    missing: list[tuple[str, str]] = []
    if require_tests:
        missing = untested_files(list(paths), run)
        for file, reason in missing:
            _stderr().print(styled("[red]UNTESTED[/] {}: {}", file, reason))
    passed = sum(1 for result in run.results if result.passed)
    _stderr().print(
        f"{passed} of {len(run.results)} cases passed"
        + (f", {len(run.problems)} layout problems" if run.problems else "")
        + (f", {len(missing)} rule files without a positive and a negative case" if missing else "")
    )
    if not run.results and not run.problems:
        _stderr().print(styled("[yellow]no test cases found[/]"))
    if not run.passed or missing:
        raise click.exceptions.Exit(1)


def untested_files(paths: list[Path], run: TestRun) -> list[tuple[str, str]]:
    """Rule files under ``paths`` (default: the pack) lacking a positive or a negative case; the pack
    is loaded beside them, since their correlations and stateful rules may refer to its building blocks."""
    roots = [path.resolve() for path in paths or [builtin_rules_path()]]
    infos = [
        info
        for info in rule_infos(load_rules(context_paths(paths)))
        if info.source
        and any(
            root == Path(info.source).resolve() or root in Path(info.source).resolve().parents
            for root in roots
        )
    ]
    source_by_title = {info.title: info.source for info in infos}
    tested: dict[str, set[str]] = {}
    for result in run.results:
        source = source_by_title.get(result.title or "")
        if source:
            tested.setdefault(source, set()).add("negative" if result.case.negative else "positive")
    missing = []
    for file in sorted({info.source for info in infos if info.source}):
        lacking = [kind for kind in ("positive", "negative") if kind not in tested.get(file, set())]
        if lacking:
            missing.append((file, f"no {' and no '.join(lacking)} case"))
    return missing


@rules.command("check")
@PATHS
@click.option(
    "--format", "output_format", type=click.Choice(["text", "sarif"]), default="text", show_default=True
)
@OUTPUT
@click.option("--online", is_flag=True, help="Let pySigma validators download their reference data.")
@click.option("--sigmahq-layout", is_flag=True, help="Also apply SigmaHQ's file-naming conventions.")
@click.option(
    "--fail-on", type=click.Choice(["error", "warning", "note", "never"]), default="error", show_default=True
)
def rules_check(
    paths: tuple[Path, ...],
    output_format: str,
    output: IO[str],
    online: bool,
    sigmahq_layout: bool,
    fail_on: str,
) -> None:
    """Lint rules: Sigma schema, SigmaHQ conventions (pySigma validators), duplicate ids, and
    whether tocsin's engine can run them. PATHS default to the built-in pack."""
    targets = list(paths) or [builtin_rules_path()]
    report = check_rules(targets, online=online, layout=sigmahq_layout)
    if output_format == "sarif":
        output.write(sarif(report, Path.cwd()))
    else:
        text = table_console(output)
        colours = {"error": "red", "warning": "yellow", "note": "cyan"}
        for finding in report.findings:
            who = finding.title or finding.rule_id or ""
            text.print(
                styled(
                    f"[{colours[finding.severity]}]{{}}[/] {{}}{{}}: {{}} {{}}",
                    finding.severity,
                    finding.file,
                    f" ({who})" if who else "",
                    f"[{finding.check}]",
                    finding.message,
                )
            )
    stderr = _stderr()
    for name, reason in sorted(report.skipped.items()):
        stderr.print(styled("  [yellow]skipped validator[/] {}: {}", name, reason))
    counts = {
        severity: sum(1 for f in report.findings if f.severity == severity)
        for severity in ("error", "warning", "note")
    }
    stderr.print(
        f"{report.rules} rules in {report.files} files, {len(report.validators)} validators run, "
        f"{len(report.skipped)} skipped: {counts['error']} errors, {counts['warning']} warnings, {counts['note']} notes"
    )
    order = ["note", "warning", "error"]
    if fail_on != "never" and any(counts[s] for s in order[order.index(fail_on) :]):
        raise click.exceptions.Exit(1)


@rules.command("list")
@PATHS
@click.option("--building-blocks", is_flag=True, help="Also list rules that raise no alert of their own.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "navigator"]),
    default="table",
    show_default=True,
    help="json: every rule and the coverage counts; navigator: an ATT&CK Navigator layer of the coverage.",
)
@OUTPUT
@pass_settings
def rules_list(
    paths: tuple[Path, ...], building_blocks: bool, output_format: str, output: IO[str], settings: Settings
) -> None:
    """Table of rules (Sigma, correlation, stateful and YARA) with their ATT&CK tactics and techniques,
    then coverage counts. PATHS default to the built-in pack with its YARA rules and the installed
    rule packs (as scan loads them), which are then listed with their rules per log source."""
    pack_paths, selection = rule_selection(settings.rule_packs, installed=not paths)
    listing = list_rules(
        list(paths) or [builtin_rules_path(), *pack_paths], building_blocks, selection=selection
    )
    if output_format != "table":
        document = as_json(listing) if output_format == "json" else navigator_layer(listing)
        output.write(json.dumps(document, indent=2) + "\n")
        for error in listing.errors:
            _stderr().print(styled("  [yellow]not loaded[/]: {}", error))
        return
    listing_console = table_console(output)
    table = Table(title=f"{len(listing.rules)} rules")
    for column in ("Level", "Title", "Type", "Tactics", "Techniques", "File"):
        table.add_column(column)
    for rule in listing.rules:
        table.add_row(
            rule.level + ("" if rule.alerts else " (block)"), rule.title, rule.kind,
            ", ".join(rule.tactics), ", ".join(rule.techniques), _short(rule.source),
        )  # fmt: skip
    listing_console.print(table)
    coverage_table = Table(title="ATT&CK coverage (alerting rules)")
    coverage_table.add_column("Tactic")
    coverage_table.add_column("Rules", justify="right")
    coverage_table.add_column("Techniques")
    techniques = listing.technique_coverage()
    for tactic, count in sorted(listing.tactic_coverage().items(), key=lambda item: (-item[1], item[0])):
        used = sorted({t for rule in listing.rules if tactic in rule.tactics for t in rule.techniques})
        coverage_table.add_row(tactic, str(count), ", ".join(f"{t} ({techniques[t]})" for t in used))
    listing_console.print(coverage_table)
    if not paths:
        _print_packs(listing_console, listing, settings)
    for error in listing.errors:
        _stderr().print(styled("  [yellow]not loaded[/]: {}", error))


def _print_packs(console: SafeConsole, listing: Listing, settings: Settings) -> None:
    """The installed packs with their loaded rules per log source, what the filters left out and the
    disabled rule ids."""
    store = _store(settings)
    packs, _ = store.packs()
    table = Table(title=f"{len(packs)} installed rule pack(s) in {store.root}")
    for column in ("Pack", "Installed", "Rules", "Loaded", "Loaded per log source", "Source"):
        table.add_column(column)
    for pack in packs:
        root = str(pack.rules_path)
        loaded = [rule for rule in listing.rules if rule.source.startswith(root)]
        per_source = Counter(rule.logsource or rule.kind for rule in loaded)
        table.add_row(
            pack.name, pack.installed[:19], str(len(pack.rules)), str(len(loaded)),
            ", ".join(f"{name} ({count})" for name, count in per_source.most_common()), pack.source,
        )  # fmt: skip
    console.print(table)
    rule_packs = settings.rule_packs
    console.print(
        styled(
            "installed rules load with status {}, level ≥ {}{}",
            ", ".join(rule_packs.status),
            rule_packs.min_level,
            f", tags {', '.join(rule_packs.tags)}" if rule_packs.tags else "",
        )
    )
    for reason, count in sorted(listing.left_out.items()):
        console.print(styled("  left out: {} rule(s): {}", count, reason))
    try:
        disabled = [*rule_packs.disabled, *store.disabled()]
    except PackError as exc:
        console.print(styled("  [yellow]disabled rules unreadable[/]: {}", str(exc)))
        disabled = []
    console.print(styled("disabled rule ids: {}", ", ".join(disabled) or "none"))


def _short(source: str) -> str:
    path = Path(source)
    pack = builtin_rules_path()
    try:
        return str(path.relative_to(pack))
    except ValueError:
        return source


def _opensearch_monitors(
    paths: list[Path], placeholders: dict[str, list[str]], output: Any, console: SafeConsole
) -> list[str]:
    """One Alerting monitor per single-event rule that raises alerts; correlations (and the building
    blocks they count) stay with tocsin's engine (``es hunt``)."""
    failures, monitors, correlations = [], 0, 0
    for converted in convert(paths, "monitor_rule", language="opensearch", placeholders=placeholders):
        if isinstance(converted.rule, SigmaCorrelationRule) or not converted.emits_alerts:
            correlations += 1
        elif converted.error:
            failures.append(f"{converted.rule.title}: {converted.error}")
        else:
            for monitor in converted.query if isinstance(converted.query, list) else [converted.query]:
                output.write(json.dumps(monitor, default=str) + "\n")
                monitors += 1
    console.print(
        f"{monitors} OpenSearch monitors; {correlations} correlations and building blocks are left to tocsin es hunt"
    )
    return failures


@rules.command("convert")
@click.argument("rule_paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATHS]...")
@click.option(
    "--target",
    type=click.Choice(
        ["kibana-ndjson", "kibana-saved-objects", "opensearch-monitor", "lucene", "esql", "eql", "duckdb"]
    ),
    required=True,
    help="kibana-ndjson: Elastic Security detection rules; kibana-saved-objects: data view and dashboard; "
    "opensearch-monitor: OpenSearch Alerting monitors (JSON Lines).",
)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Write to FILE.")
@pass_settings
def rules_convert(target: str, rule_paths: tuple[Path, ...], output: Any, settings: Settings) -> None:
    """Convert rules for Elasticsearch/Kibana or OpenSearch (pySigma's backends), or show tocsin's DuckDB predicates.

    PATHS are rule files or folders, as for rules list/test/check (default: the built-in pack).
    """
    paths = list(rule_paths) or [builtin_rules_path()]
    placeholders = settings.sigma.placeholders
    console = _stderr()
    failures: list[str] = []
    if target == "kibana-ndjson":
        objects, failed = detection_rules(paths, placeholders)
        output.write(ndjson(objects))
        failures = [f"{item.rule.title}: {item.error}" for item in failed]
        console.print(f"{len(objects)} detection rules")
    elif target == "kibana-saved-objects":
        output.write(ndjson(saved_objects()))
    elif target == "opensearch-monitor":
        failures = _opensearch_monitors(paths, placeholders, output, console)
    elif target == "duckdb":
        ruleset = load_rules(paths, placeholders)
        for rule in ruleset.detections:
            output.write(f"# {rule.info.title} [{rule.info.id}]\n{rule.predicate}\n\n")
        for correlation in ruleset.correlations:
            output.write(
                f"# {correlation.info.title} [{correlation.info.id}]\n"
                f"# {correlation.kind} correlation: evaluated by tocsin's streaming engine\n\n"
            )
        failures = [f"{error.source}: {error.reason}" for error in ruleset.errors]
    else:
        for converted in convert(paths, "default", language=target, placeholders=placeholders):
            if converted.error:
                failures.append(f"{converted.rule.title}: {converted.error}")
                continue
            queries = converted.query if isinstance(converted.query, list) else [converted.query]
            body = "\n".join(q if isinstance(q, str) else json.dumps(q) for q in queries)
            output.write(f"# {converted.rule.title} [{converted.rule.id}]\n{body}\n\n")
    for failure in failures:
        console.print(styled("  [yellow]not converted[/]: {}", failure))


def _store(settings: Settings) -> PackStore:
    return PackStore(settings.rule_packs.directory)


@contextmanager
def _pack_errors() -> Iterator[None]:
    """A pack that cannot be installed, updated or removed: its reason on stderr, exit 2."""
    try:
        yield
    except PackError as exc:
        _stderr().print(styled("tocsin: error: {}", str(exc)))
        raise click.exceptions.Exit(EXIT_USAGE) from None
    except OSError as exc:
        _stderr().print(
            styled("tocsin: error: {}: {}", exc.filename or "rule directory", exc.strerror or exc)
        )
        raise click.exceptions.Exit(EXIT_USAGE) from None


SOURCE = click.argument("source", type=click.Path(exists=True, path_type=Path))


@rules.command("install")
@SOURCE
@click.option("--name", help="Pack name (default: the folder's or archive's name).")
@pass_settings
def rules_install(source: Path, name: str | None, settings: Settings) -> None:
    """Install community Sigma rules as a pack that scan, watch and es hunt then load.

    SOURCE is a SigmaHQ checkout, a folder of Sigma rules or a release archive (.zip, .tar.gz). The
    rules are copied into the rule directory ([rule_packs] directory); installed rules load when
    their status is in [rule_packs] status (stable, test by default), see docs/rule-packs.md.
    """
    with _pack_errors():
        pack = _store(settings).install(source, name)
    _stderr().print(
        styled(
            "installed pack {}: {} rule(s) from {} in {}", pack.name, len(pack.rules), pack.source, pack.path
        )
    )
    _print_skipped(pack)


@rules.command("update")
@SOURCE
@click.option("--pack", "name", help="The pack to replace (default: the one installed from SOURCE).")
@pass_settings
def rules_update(source: Path, name: str | None, settings: Settings) -> None:
    """Replace an installed pack with the rules of SOURCE; list the rules added, removed and changed."""
    with _pack_errors():
        pack, changes = _store(settings).update(source, name)
    console = _stderr()
    console.print(
        styled(
            "updated pack {}: {} rule(s); {} added, {} removed, {} changed",
            pack.name,
            len(pack.rules),
            len(changes.added),
            len(changes.removed),
            len(changes.changed),
        )
    )
    for what, ids in (("added", changes.added), ("removed", changes.removed), ("changed", changes.changed)):
        for rule_id in ids:
            console.print(styled("  {} {}", what, rule_id))
    _print_skipped(pack)


@rules.command("remove")
@click.argument("name")
@pass_settings
def rules_remove(name: str, settings: Settings) -> None:
    """Remove an installed pack."""
    with _pack_errors():
        pack = _store(settings).remove(name)
    _stderr().print(styled("removed pack {} ({} rule(s))", pack.name, len(pack.rules)))


@rules.command("disable")
@click.argument("rule_ids", nargs=-1, required=True, metavar="ID...")
@pass_settings
def rules_disable(rule_ids: tuple[str, ...], settings: Settings) -> None:
    """Never load these rules (ids of built-in or installed rules), until `tocsin rules enable`."""
    store = _store(settings)
    with _pack_errors():
        store.set_disabled([*store.disabled(), *rule_ids])
    _stderr().print(styled("disabled: {}", ", ".join(rule_ids)))


@rules.command("enable")
@click.argument("rule_ids", nargs=-1, required=True, metavar="ID...")
@pass_settings
def rules_enable(rule_ids: tuple[str, ...], settings: Settings) -> None:
    """Load again rules that `tocsin rules disable` turned off."""
    store = _store(settings)
    with _pack_errors():
        disabled = store.disabled()
        enabled = {rule_id.lower() for rule_id in rule_ids}
        store.set_disabled([rule_id for rule_id in disabled if rule_id.lower() not in enabled])
    unknown = [rule_id for rule_id in rule_ids if rule_id.lower() not in {d.lower() for d in disabled}]
    _stderr().print(styled("enabled: {}", ", ".join(rule_ids)))
    if unknown:
        _stderr().print(styled("  [yellow]were not disabled[/]: {}", ", ".join(unknown)))
    if any(rule_id.lower() in enabled for rule_id in settings.rule_packs.disabled):
        _stderr().print(
            styled("  [yellow]still disabled by {} in the configuration[/]", "[rule_packs] disabled")
        )


def _print_skipped(pack: Pack) -> None:
    for reason, count in sorted(pack.skipped.items()):
        _stderr().print(styled("  not copied: {} file(s): {}", count, reason))
