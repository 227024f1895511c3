"""The `callcenter` command."""

from agent_ui.cli.main import main

__all__ = ["main"]
