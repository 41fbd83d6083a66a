"""YARA over captured payloads and plain files (yara-python)."""
