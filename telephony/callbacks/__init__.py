"""Queue callbacks that keep the caller's place (docs/callbacks.md)."""
