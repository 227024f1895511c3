"""/api/queues and /api/agents: the wallboard's live picture, the same payloads as the socket.io
push (docs/api.md), scoped to the leader's team."""

from __future__ import annotations

from aiohttp import web

from agent_ui.api.agents import LEADERS
from agent_ui.api import answers
from agent_ui.api.common import endpoint
from agent_ui.app_keys import WALLBOARD
from crm.models import User


@endpoint(*LEADERS, summary="The live picture of every queue the leader may see, and the alerts active now", answer=answers.LivePicture,
          notes="Team leaders: the queues their team works.")  # fmt: skip
async def get_queues(request: web.Request, user: User) -> web.Response:
    board = request.app[WALLBOARD]
    return web.json_response({"queues": board.queue_rows(user), "alerts": board.alerts_for(user)})


@endpoint(*LEADERS, summary="The agent grid: each agent's state, time in it, current call and today's calls", answer=answers.AgentGrid,
          notes="Team leaders: their team's agents.")  # fmt: skip
async def get_agents(request: web.Request, user: User) -> web.Response:
    board = request.app[WALLBOARD]
    return web.json_response({"agents": board.agent_rows(user)})


def routes(app: web.Application) -> None:
    app.router.add_get("/api/queues", get_queues)
    app.router.add_get("/api/agents", get_agents)
