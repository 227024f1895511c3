"""Agents: their state as Asterisk and their calls show it, and the queue actions that change it."""
