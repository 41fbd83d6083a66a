"""A scan's progress on a terminal: percentage of the bytes to read, events per second, time left
and the file being read; nothing at all when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task
from rich.text import Text

from tocsin.sources.inputs import ReadMeter
from tocsin.terminal import visible

#: Characters of the input's name shown: its end, the file name rather than the folders above it.
NAME_WIDTH = 48


class _Status(ProgressColumn):
    """``42%  12.1/28.9 MB  40,000 events, 9,120/s  ETA 0:00:02  auth.log``."""

    def render(self, task: Task) -> Text:
        parts = [f"{task.percentage:3.0f}%"] if task.total else []
        if task.total or task.completed:  # nothing to say of a stream (standard input) but its events
            parts.append(
                f"{task.completed / 1e6:,.1f}" + (f"/{task.total / 1e6:,.1f}" if task.total else "") + " MB"
            )
        events, elapsed = task.fields["events"], task.elapsed or 0.0
        parts.append(f"{events:,} events" + (f", {events / elapsed:,.0f}/s" if elapsed >= 1 else ""))
        if task.total and task.completed < task.total and task.time_remaining is not None:
            parts.append(f"ETA {_clock(task.time_remaining)}")
        parts.append(task.fields["file"])
        return Text("  ".join(parts), no_wrap=True, overflow="ellipsis")


def _clock(seconds: float) -> str:
    minutes, second = divmod(int(seconds + 0.5), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{second:02}"


def _short(name: str) -> str:
    """The end of ``name`` (a path, maybe ``archive.zip!member``), control characters made visible."""
    shown = visible(name, lines=False)
    return shown if len(shown) <= NAME_WIDTH else "…" + shown[-NAME_WIDTH + 1 :]


class _MeteredProgress(Progress):
    """A progress display that calls ``before_drawing`` (to read its figures from a meter) each time
    it is drawn."""

    def before_drawing(self) -> None:
        pass

    def get_renderables(self) -> Iterable[RenderableType]:
        self.before_drawing()
        yield from super().get_renderables()


class ScanProgress:
    """Progress of a scan on ``console``, drawn ten times a second while it is open, when the console
    is a terminal. Pass :attr:`meter` to the scan (None when nothing is shown: reading is then not
    metered at all) and :meth:`add_events` as its batch callback."""

    def __init__(self, console: Console) -> None:
        self.meter = ReadMeter() if console.is_terminal else None
        self.events = 0
        self._progress = _MeteredProgress(
            SpinnerColumn(),
            BarColumn(bar_width=24),
            _Status(),
            console=console,
            transient=True,
            disable=self.meter is None,
        )
        self._task = self._progress.add_task("scan", total=None, events=0, file="")
        self._progress.before_drawing = self.refresh  # type: ignore[method-assign]

    def add_events(self, count: int) -> None:
        self.events += count

    def refresh(self) -> None:
        """Bring the figures up to date with the meter (called before each drawing)."""
        if self.meter is None:
            return
        self._progress.update(
            self._task,
            total=self.meter.total or None,
            completed=self.meter.read,
            events=self.events,
            file="all read, correlating" if self.meter.ended else _short(self.meter.name or ""),
        )

    def __enter__(self) -> ScanProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._progress.stop()
