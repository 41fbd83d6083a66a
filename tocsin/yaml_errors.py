"""YAML parse errors as authors read them: ``file:line:column: problem``, never ``<unicode string>``."""

from __future__ import annotations

from pathlib import Path

import yaml


def describe(exc: Exception, file: Path | str) -> str:
    """One line naming the file, the line and column (1-based) and what is wrong there."""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.MarkedYAMLError) and mark is not None:
        context = f" ({exc.context} at line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        return f"{file}:{mark.line + 1}:{mark.column + 1}: {exc.problem}{context}"
    return f"{file}: {' '.join(str(exc).split())}"
