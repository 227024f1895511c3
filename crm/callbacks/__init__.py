"""Queue callbacks: a caller who asked to be called back, keeping their place (docs/callbacks.md)."""
