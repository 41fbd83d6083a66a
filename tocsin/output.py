"""Writing alerts (table, JSON Lines, JSON) and the end-of-run summary."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from typing import IO, Protocol

from rich.table import Table
from rich.text import Text

from tocsin.model.alert import Alert, Level
from tocsin.pipeline import BlindRule
from tocsin.scan import ReadSummary, ScanSummary
from tocsin.tabular import ALERT_COLUMNS, LEVEL_STYLES, SHORT_ID, alert_row, entities, write_csv
from tocsin.terminal import SafeConsole, styled


class AlertSink(Protocol):
    """Where alerts go: ``write`` as they are raised, ``close`` at the end of the run. A write that
    fails (disk full) is kept in ``failure`` instead of stopping the scan: the run still ends with its
    summary, then says what could not be written."""

    failure: str | None

    def write(self, alert: Alert) -> None: ...

    def flush(self) -> None:
        """The alerts written so far are on their way (a scan calls it after each batch)."""

    def close(self) -> None: ...


class JsonLinesSink:
    """One JSON document per line, written as soon as each alert is raised, or with ``batched`` as
    soon as each batch's alerts are (``flush``: one write for thousands of alerts, not one each).
    After a failed write the file is cut back to its last complete line and nothing more is written."""

    def __init__(self, stream: IO[str], batched: bool = False) -> None:
        self.stream = stream
        self.batched = batched
        self.failure: str | None = None
        self._written = 0
        self._pending: list[str] = []

    def write(self, alert: Alert) -> None:
        if self.failure:
            return
        self._pending.append(alert.json_text())
        if not self.batched:
            self.flush()

    def flush(self) -> None:
        if self.failure or not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        self._pending.clear()
        try:
            self.stream.write(text)
            self.stream.flush()
            self._written += len(text.encode("utf-8"))
        except OSError as exc:
            self.failure = f"{exc.strerror or exc} after {self._written:,} bytes of alerts"
            with contextlib.suppress(OSError, ValueError):
                self.stream.truncate(self._written)  # no half-written last line

    def close(self) -> None:
        self.flush()
        if not self.failure:
            try:
                self.stream.flush()
            except OSError as exc:
                self.failure = exc.strerror or str(exc)


class _SortedSink:
    """Alerts kept until the end of the run, then written most severe first by ``_write``."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.alerts: list[Alert] = []
        self.failure: str | None = None

    def write(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def flush(self) -> None:
        """Nothing yet: the alerts are sorted once all are raised."""

    def close(self) -> None:
        try:
            self._write(sort_alerts(self.alerts))
            self.stream.flush()
        except OSError as exc:
            self.failure = exc.strerror or str(exc)

    def _write(self, alerts: list[Alert]) -> None:
        raise NotImplementedError


class JsonSink(_SortedSink):
    """A single JSON array of all alerts, most severe first."""

    def _write(self, alerts: list[Alert]) -> None:
        json.dump([alert.document() for alert in alerts], self.stream, indent=2)
        self.stream.write("\n")


class CsvAlertSink(_SortedSink):
    """Alerts as formula-safe CSV rows, most severe first (scan --format csv)."""

    def _write(self, alerts: list[Alert]) -> None:
        write_csv(self.stream, ALERT_COLUMNS, (alert_row(alert.document()) for alert in alerts))


class TableSink:
    """A severity-sorted table: one row per correlation alert; single-event alerts of one rule
    about the same entities share a row, with their count."""

    def __init__(self, console: SafeConsole) -> None:
        self.console = console
        self.rows: dict[tuple[str, str, str], list[Alert]] = {}
        self.failure: str | None = None

    def write(self, alert: Alert) -> None:
        key = (
            alert.rule.id,
            entities(alert.entity, alert.group_by),
            alert.id if alert.rule.type == "correlation" else "",
        )
        self.rows.setdefault(key, []).append(alert)

    def flush(self) -> None:
        """Nothing yet: the table is drawn once all alerts are raised."""

    def close(self) -> None:
        if not self.rows:
            return
        table = Table(title="Alerts", header_style="bold")
        table.add_column("Id", no_wrap=True)  # a prefix `tocsin show` resolves (first of a shared row)
        table.add_column("Level", no_wrap=True)
        table.add_column("Rule")
        table.add_column("Entities", overflow="fold")
        table.add_column("Events", justify="right")
        table.add_column("First seen", no_wrap=True)
        table.add_column("Last seen", no_wrap=True)
        groups = sorted(
            self.rows.values(),
            key=lambda alerts: (-alerts[0].level, alerts[0].rule.title, min(a.timestamp for a in alerts)),
        )
        for alerts in groups:
            first = alerts[0]
            level = first.level.name
            starts = [a.window.start if a.window else a.timestamp for a in alerts]
            table.add_row(
                first.id[:SHORT_ID] + (f" +{len(alerts) - 1}" if len(alerts) > 1 else ""),
                Text(level, style=LEVEL_STYLES[level]),
                first.rule.title,
                entities(first.entity, first.group_by),
                str(sum(a.event_count for a in alerts)),
                min(starts).strftime("%Y-%m-%d %H:%M:%S"),
                max(a.timestamp for a in alerts).strftime("%Y-%m-%d %H:%M:%S"),
            )
        try:
            self.console.print(table)
        except OSError as exc:
            self.failure = exc.strerror or str(exc)


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    """Most severe first, then by time."""
    return sorted(alerts, key=lambda alert: (-alert.level, alert.timestamp))


def _print_coverage(console: SafeConsole, summary: ScanSummary, verbose: bool) -> None:
    """The rules that saw no event of their log source, by log source: the user's named, the
    built-in and installed packs' (which cover every vendor, so most scans leave some idle) counted."""
    user = summary.blind_user_rules
    if user:
        console.print(
            styled(
                "  [yellow]{} rule(s) saw no events of their log source[/]: {}"
                " (the events lack it? --logsource product=…,service=… sets it)",
                len(user),
                _by_logsource(user, limit=None if verbose else 8),
            )
        )
        for rule in user if verbose else user[:10]:
            console.print(f"    {rule.title} ({rule.logsource})")
        if not verbose and len(user) > 10:
            console.print(f"    … {len(user) - 10} more (use --verbose to list all)")
    builtin = [rule for rule in summary.coverage.blind if rule not in user]
    if builtin and (verbose or summary.read.events):
        console.print(
            styled(
                "  [dim]{}: {} rule(s) idle, no events of their log source: {}[/]",
                "built-in and installed packs" if summary.pack_paths else "built-in pack",
                len(builtin),
                _by_logsource(builtin, limit=None if verbose else 6),
            )
        )


def _by_logsource(rules: list[BlindRule], limit: int | None = None) -> str:
    counts = Counter(rule.logsource for rule in rules).most_common()
    shown = ", ".join(f"{name} ({count})" for name, count in counts[:limit])
    return shown + (f", … {len(counts) - limit} more" if limit is not None and len(counts) > limit else "")


#: How the diagnostics end that say events lacked what a rule needs (a timestamp, a group-by value, a
#: location): expected of mixed inputs, counted in one line unless ``--verbose``. Others (a rule stopped
#: after an engine error) are always listed.
_DATA_GAPS = (", not correlated", ", not checked for travel", ", not kept")
#: Rules and entities named in the summary's top lists.
_TOP = 5


def _print_diagnostics(console: SafeConsole, diagnostics: dict[str, int], verbose: bool) -> None:
    gaps = [reason for reason in diagnostics if reason.endswith(_DATA_GAPS)]
    for reason, count in diagnostics.items():
        if verbose or reason not in gaps:
            console.print(styled("  [yellow]detection[/] {}: {}", reason, count))
    if gaps and not verbose:
        console.print(
            styled(
                "  [dim]detection: {} rule(s) set aside events without a timestamp, group-by value or location"
                " they need (--verbose lists them)[/]",
                len(gaps),
            )
        )


def _most_common(counts: Counter[str]) -> str:
    shown = ", ".join(f"{name} ({count})" for name, count in counts.most_common(_TOP))
    return shown + (f", … {len(counts) - _TOP} more" if len(counts) > _TOP else "")


def print_tripped(console: SafeConsole, summary: ScanSummary, alert: Alert, fail_on: Level) -> None:
    """Name the alert that tripped ``--fail-on`` (level, rule, short id, entities) and how many more did."""
    others = sum(summary.alerts_by_level[level.name] for level in Level if level >= fail_on) - 1
    console.print(
        styled(
            "tocsin: --fail-on {}: [bold]{}[/] {} ({}) {}{}",
            fail_on.name,
            alert.level.name,
            alert.rule.title,
            alert.id[:SHORT_ID],
            entities(alert.entity, alert.group_by) or "no entity",
            f", and {others} more alert(s) at or above {fail_on.name}" if others else "",
        )
    )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def print_not_logs(console: SafeConsole, read: ReadSummary, verbose: bool) -> None:
    """The files of a folder passed over as not logs: counted by reason, each named with ``verbose``."""
    if not read.not_logs:
        return
    reasons = Counter(reason for _, reason in read.not_logs)
    console.print(
        styled(
            "  passed over {} file(s) that are not logs: {}",
            len(read.not_logs),
            ", ".join(f"{reason} ({count})" for reason, count in sorted(reasons.items(), key=_by_count)),
        )
    )
    for name, reason in read.not_logs if verbose else []:
        console.print(styled("    {}: not a log: {}", name, reason))


def print_summary(console: SafeConsole, summary: ScanSummary, verbose: bool = False) -> None:
    """The end-of-run summary (to stderr): inputs, skips, rules, alerts by level."""
    read = summary.read
    formats = Counter(stats.format for stats in read.inputs if stats.format and not stats.error)
    console.print(
        styled(
            "[bold]Read[/] {:,} input(s), {:,} events ({}) in {:.1f} s",
            len(read.inputs),
            read.events,
            ", ".join(f"{n} {fmt}" for fmt, n in sorted(formats.items())) or "no recognised input",
            summary.elapsed,
        )
    )
    for problem in read.failed_inputs:
        console.print(styled("  [yellow]not read[/]: {}", problem))
    print_not_logs(console, read, verbose)
    skipped = read.skipped
    if skipped:
        console.print(styled("  [yellow]skipped[/] {:,} record(s):", sum(skipped.values())))
        for reason, count in skipped.most_common():
            console.print(f"    {count:>8,}  {reason}")
    warnings: Counter[str] = Counter()
    for stats in read.inputs:
        warnings.update(stats.warnings)
    for reason, count in warnings.most_common():
        console.print(styled("  [yellow]warning[/] {:,} record(s): {}", count, reason))
    console.print(
        styled(
            "[bold]Rules[/] {} loaded from {} file(s), {} rejected",
            summary.rules_loaded,
            summary.rule_files,
            len(summary.rule_errors),
        )
    )
    for note in summary.rule_notes:
        console.print(styled("  {}", note))
    shown = summary.rule_errors if verbose else summary.rule_errors[:10]
    for error in shown:
        title = f" ({error.title})" if error.title else ""
        console.print(styled("  [yellow]rejected[/] {}{}: {}", error.source, title, error.reason))
    if len(shown) < len(summary.rule_errors):
        console.print(f"  … {len(summary.rule_errors) - len(shown)} more (use --verbose to list all)")
    _print_coverage(console, summary, verbose)
    if summary.yara_files:
        console.print(
            styled(
                "[bold]YARA[/] {} of {} rule file(s) compiled",
                summary.yara_files - len(summary.yara_errors),
                summary.yara_files,
            )
        )
        for yara_error in summary.yara_errors if verbose else summary.yara_errors[:10]:
            console.print(styled("  [yellow]rejected[/] {}: {}", yara_error.source, yara_error.reason))
    for what, count in summary.content_scan.items():
        console.print(f"  {what}: {count:,}")
    _print_diagnostics(console, summary.diagnostics, verbose)
    if summary.alerts:
        levels = ", ".join(
            f"{summary.alerts_by_level[level.name]} {level.name}"
            for level in sorted(Level, reverse=True)
            if summary.alerts_by_level[level.name]
        )
        hidden = f" ({summary.alerts_hidden} below --min-level not shown)" if summary.alerts_hidden else ""
        console.print(styled("[bold]Alerts[/] {}: {}{}", summary.alerts, levels, hidden))
        console.print(styled("  top rules: {}", _most_common(summary.alerts_by_rule)))
        if summary.alerts_by_entity:
            console.print(styled("  top entities: {}", _most_common(summary.alerts_by_entity)))
    elif summary.every_rule_ran:
        console.print(
            styled("[bold green]No alerts[/]: every rule ran over every event and nothing matched.")
        )
    elif summary.looked:
        blind, stopped = len(summary.coverage.blind), len(summary.coverage.stopped)
        missed = [f"{blind} saw none"] if blind else []
        if stopped:
            missed.append(f"{stopped} stopped after an engine error")
        console.print(
            styled(
                "[bold green]No alerts[/] from the {} rule(s) that saw events of their log source; {} (above).",
                summary.rules_loaded - blind,
                "; ".join(missed),
            )
        )
    if not summary.looked:
        why = (
            "no events were read"
            if summary.read.events == 0
            else "no rule could be loaded"
            if summary.rules_loaded == 0
            else "no rule saw an event of its log source"
        )
        console.print(styled("[bold red]Nothing was checked[/]: {}. This is not a clean result.", why))
