"""Inbound routing: the FastAGI service the dialplan asks before ``Queue()`` (docs/agi.md)."""
