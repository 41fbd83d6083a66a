"""The data tocsin passes between its parts: events in, alerts out."""
