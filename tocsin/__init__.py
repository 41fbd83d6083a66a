"""tocsin: security-breach detection and response."""

__version__ = "0.1.0"


class MissingExtra(ImportError):
    """An optional part of tocsin whose dependencies are not installed; the message names the extra."""
