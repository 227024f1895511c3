"""Calls: one call per Asterisk Linkedid, followed from its first channel to its last hangup."""
