"""/api/meta: the configured code lists the pages need, with their zh-CN and en labels."""

from __future__ import annotations

from aiohttp import web

from agent_ui.api import answers
from agent_ui.api.common import EVERYONE, endpoint
from agent_ui.app_keys import SETTINGS
from config.settings import DISPOSITION_PAUSE, PHONE_PAUSE
from crm.models import User
from crm.records import CONNECT_FROM_DISPOSITION, CONNECT_STATUSES, HANDLING, OUTBOUND_TYPES


@endpoint(*EVERYONE, summary="Pause reasons, disposition codes (each with its direction), queues, the record form's choices, the ticket types and the task kinds and outcomes", answer=answers.Meta)
async def meta(request: web.Request, user: User) -> web.Response:
    settings = request.app[SETTINGS]
    return web.json_response(
        {
            "pause_reasons": [r.model_dump() for r in settings.agents.pause_reasons],
            "disposition_codes": [c.model_dump() for c in settings.agents.disposition_codes],
            "queues": [
                {"name": q.name, "display_name": q.display_name or q.name, "display_name_zh": q.display_name_zh or q.display_name or q.name}
                for q in settings.queues
            ],
            # The record form's fixed choices; the pages label them from their translation catalogues.
            "record_choices": {"handling": HANDLING, "call_type": OUTBOUND_TYPES, "connect_status": CONNECT_STATUSES},
            # An outbound attempt's connect status as the call's outcome already tells it (answered, busy...).
            "connect_status_of": CONNECT_FROM_DISPOSITION,
            "disposition_pause": DISPOSITION_PAUSE if settings.agents.disposition_required else None,
            "phone_pause": PHONE_PAUSE,
            "ticket_types": [t.model_dump() for t in settings.tickets.types],
            "task_kinds": [k.model_dump() for k in settings.tasks.kinds],
            "task_outcomes": [o.model_dump() for o in settings.tasks.outcomes],
            "task_near_due_min": settings.tasks.near_due_min,
        }
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/api/meta", meta)
