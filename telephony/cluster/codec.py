"""Domain events and live snapshots as JSON, and back into the same dataclasses (pydantic
validates them, so a malformed entry is refused rather than half-read)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from telephony.agents.state import AgentSnapshot
from telephony.calls.state import CallSnapshot
from telephony.events import CALL_EVENTS, AgentMonitored, AgentStateChanged, CallbackRequested, DomainEvent, SurveyAnswered

EVENT_TYPES: dict[str, type[DomainEvent]] = {cls.name: cls for cls in (*CALL_EVENTS, CallbackRequested, SurveyAnswered, AgentStateChanged, AgentMonitored)}
_EVENTS = {name: TypeAdapter(cls) for name, cls in EVENT_TYPES.items()}
CALLS: TypeAdapter[CallSnapshot] = TypeAdapter(CallSnapshot)
AGENTS: TypeAdapter[AgentSnapshot] = TypeAdapter(AgentSnapshot)


class BadEntry(ValueError):
    """An entry that is not one of our events or snapshots."""


def encode_event(event: DomainEvent) -> str:
    return json.dumps({"event": event.name, "data": _EVENTS[event.name].dump_python(event, mode="json")})


def decode_event(raw: str | bytes) -> DomainEvent:
    try:
        entry = json.loads(raw)
        return _EVENTS[entry["event"]].validate_python(entry["data"])  # type: ignore[no-any-return]
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        raise BadEntry(f"not a domain event: {type(error).__name__}") from None


def encode(adapter: TypeAdapter[Any], value: Any) -> str:
    return adapter.dump_json(value).decode()


def decode(adapter: TypeAdapter[Any], raw: str | bytes) -> Any:
    try:
        return adapter.validate_json(raw)
    except ValidationError as error:
        raise BadEntry(f"not a {adapter.core_schema.get('cls', 'value')}: {error.error_count()} errors") from None
