"""A ticket as the API and the pages show it. Who complained (customer, contact, number) is left
out for a reader who does not handle a ticket marked confidential (客户保密)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.tickets import TicketType
from crm.models import Ticket, TicketEvent
from crm.tickets.lifecycle import deadline_state, reachable


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_summary(ticket: Ticket, kind: TicketType, *, now: datetime, near_due_h: float, shows_complainant: bool,
                   customer_name: str | None, owner: str | None) -> dict[str, Any]:  # fmt: skip
    hidden = ticket.confidential and not shows_complainant
    closed = ticket.closed_at is not None
    return {
        "id": ticket.id,
        "number": ticket.number,
        "type": ticket.type,
        "category": ticket.category,
        "severity": ticket.severity,
        "major": ticket.major,
        "confidential": ticket.confidential,
        "status": ticket.status,
        "title": ticket.title,
        "customer_id": None if hidden else ticket.customer_id,
        "customer_name": None if hidden else customer_name,
        "complainant_hidden": hidden,
        "owner_id": ticket.owner_id,
        "owner": owner,
        "opened_at": _when(ticket.opened_at),
        "due_at": _when(ticket.due_at),
        "responded_at": _when(ticket.responded_at),
        "closed_at": _when(ticket.closed_at),
        "deadline": deadline_state(closed=closed, responded_at=ticket.responded_at, due_at=ticket.due_at, now=now, near_due_h=near_due_h),
        "next_steps": [] if closed else reachable(kind, ticket.status),
    }


def event_json(event: TicketEvent, actor: str | None) -> dict[str, Any]:
    return {"kind": event.kind, "step": event.step, "values": event.values, "note": event.note, "actor": actor, "at": _when(event.at)}


def ticket_detail(summary: dict[str, Any], ticket: Ticket, *, events: list[dict[str, Any]], calls: list[dict[str, Any]],
                  handles: bool, closes: bool) -> dict[str, Any]:  # fmt: skip
    hidden = summary["complainant_hidden"]
    return {
        **summary,
        "description": ticket.description,
        "fields": ticket.fields,
        "contact": None if hidden else ticket.contact,
        "contact_phone": None if hidden else ticket.contact_phone,
        "events": events,
        "calls": calls,
        "may_handle": handles,
        "may_close": closes,
    }
