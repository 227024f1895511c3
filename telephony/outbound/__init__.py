"""Calls we place: click-to-dial for agents, and listen/whisper/barge for team leaders."""
