"""A task as the API and the desktop show it: its number as the reader may see it (masked for the
masked roles, who dial it by the task's id), and where it stands against its due time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crm.models import Task
from crm.privacy import Disclosure


def deadline(task: Task, now: datetime, near_due_min: float) -> str:
    if task.done_at is not None:
        return "done"
    if task.due_at <= now:
        return "overdue"
    return "due_soon" if task.due_at <= now + timedelta(minutes=near_due_min) else "on_time"


def task_json(task: Task, *, now: datetime, near_due_min: float, shown: Disclosure, names: dict[int, str],
              customer_name: str | None, call_linkedid: str | None, drops: int) -> dict[str, Any]:  # fmt: skip
    return {
        "id": task.id,
        "kind": task.kind,
        "title": task.title,
        "note": task.note,
        "customer_id": task.customer_id,
        "customer_name": customer_name,
        "phone": shown.phone(task.phone) or "",
        "dialable": bool(task.phone),
        "call_id": call_linkedid,
        "drops": drops,
        "ticket_id": task.ticket_id,
        "assignee_id": task.assignee_id,
        "assignee": names.get(task.assignee_id) if task.assignee_id else None,
        "queue": task.queue,
        "created_at": task.created_at.isoformat(),
        "due_at": task.due_at.isoformat(),
        "deadline": deadline(task, now, near_due_min),
        "done_at": task.done_at.isoformat() if task.done_at else None,
        "done_by": names.get(task.done_by) if task.done_by else None,
        "outcome": task.outcome,
        "outcome_note": task.outcome_note,
    }
