"""/api/tasks: follow-up tasks (crm.tasks): the ones due, open one by hand, take or give one, finish
one with its outcome. Dialling one is POST /api/me/dial with its task_id. Who sees which is crm.access's."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from agent_ui.api import answers
from agent_ui.api.common import STAFF, SESSIONS, RowId, disclosure, endpoint, path_id
from agent_ui.app_keys import SETTINGS
from agent_ui.auth import json_error
from crm.access import Scope
from crm.customers import names_of
from crm.db import utcnow
from crm.models import CustomerPhone, Role, Task, User
from crm.phones import InvalidPhoneNumber, normalize_phone
from crm.tasks import queries, store
from crm.tasks.store import TaskError
from crm.tasks.views import task_json
from crm.users import display_names

TASK_PATH = {"id": "the task's row id"}
SCOPE_NOTE = ("Only tasks you may see: your own and the untaken ones of the queues you serve; a leader's team's too; "
              "supervisors and admins all (docs/security.md).")  # fmt: skip


class TaskQuery(BaseModel):
    state: Literal["open", "overdue", "due_soon", "done", "all"] = "open"
    mine: bool = Field(default=False, description="only yours and the untaken ones you may take")
    customer_id: RowId | None = None
    offset: int = Field(default=0, ge=0, le=1_000_000)
    limit: int = Field(default=50, ge=1, le=200)


class NewTask(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(min_length=1, max_length=32, description="a tasks.kinds code; message: due in 20 min, urgent: 5 (handbook)")
    title: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=5000)
    customer_id: RowId | None = None
    phone_id: RowId | None = Field(default=None, description="the customer's number to call, by its id (masked roles cannot type it)")
    phone: str | None = Field(default=None, min_length=1, max_length=40, description="or a number to call, any format")
    due_at: AwareDatetime | None = Field(default=None, description="empty: the kind's due_min from now")
    assignee_id: RowId | None = Field(default=None, description="whose it is; empty: yours, unless it is for a queue")
    queue: str | None = Field(default=None, max_length=64, description="for any agent of this queue to take (no assignee)")

    @model_validator(mode="after")
    def _consistent(self) -> NewTask:
        if self.phone is not None and self.phone_id is not None:
            raise ValueError("give phone or phone_id, not both")
        if self.queue is not None and self.assignee_id is not None:
            raise ValueError("a task is someone's or its queue's, not both")
        return self


class TaskOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: str = Field(min_length=1, max_length=32, description="a tasks.outcomes code: a task is done only with one")
    note: str = Field(default="", max_length=5000)
    again_at: AwareDatetime | None = Field(default=None, description="try again then: the same follow-up opens, yours, due at this time")


class TaskAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: RowId = Field(description="yourself to take it; a leader gives it to their team, supervisors to anyone")


class Reader:
    """One request's view of tasks: the scope, the settings, what numbers it is shown, the clock."""

    def __init__(self, request: web.Request, user: User) -> None:
        settings = request.app[SETTINGS]
        self.settings, self.queues = settings.tasks, {q.name for q in settings.queues}
        self.user, self.scope, self.shown, self.now = user, Scope.of(user), disclosure(request, user), utcnow()

    async def json(self, session: AsyncSession, tasks: list[Task]) -> list[dict[str, Any]]:
        names = await display_names(session, {i for t in tasks for i in (t.assignee_id, t.done_by)})
        customers = await names_of(session, {t.customer_id for t in tasks})
        calls = await queries.linkedids_of(session, {t.call_id for t in tasks})
        drops = await queries.drops_of(session, [t.id for t in tasks])
        return [
            task_json(t, now=self.now, near_due_min=self.settings.near_due_min, shown=self.shown, names=names,
                      customer_name=customers.get(t.customer_id), call_linkedid=calls.get(t.call_id), drops=drops.get(t.id, 0))
            for t in tasks
        ]  # fmt: skip

    async def one(self, session: AsyncSession, task: Task) -> dict[str, Any]:
        return (await self.json(session, [task]))[0]

    async def load(self, request: web.Request, session: AsyncSession) -> Task:
        task = await queries.visible_task(session, self.scope.tasks(), path_id(request))
        if task is None:
            raise json_error(404, "no such task")
        return task

    async def load_open(self, request: web.Request, session: AsyncSession) -> Task:
        task = await self.load(request, session)
        if task.done_at is not None:
            raise json_error(409, "the task is already done")
        return task


@endpoint(*STAFF, summary="Follow-up tasks, the soonest due first", query=TaskQuery, answer=answers.FollowUpTasks, notes=SCOPE_NOTE)
async def search(request: web.Request, user: User, query: TaskQuery) -> web.Response:
    reader = Reader(request, user)
    wanted = queries.TaskFilter(state=query.state, mine_for=user.id if query.mine else None, customer_id=query.customer_id,
                                offset=query.offset, limit=query.limit)  # fmt: skip
    async with request.app[SESSIONS]() as session:
        total, rows = await queries.search(session, reader.scope.tasks(), wanted, now=reader.now, near_due_min=reader.settings.near_due_min)
        return web.json_response({"tasks": await reader.json(session, rows), "total": total, "offset": query.offset})


async def _phone(request: web.Request, session: AsyncSession, body: NewTask) -> tuple[str, int | None]:
    """The number to call and the customer it belongs to (a phone_id names both)."""
    if body.phone_id is not None:
        phone = await session.get(CustomerPhone, body.phone_id)
        if phone is None or (body.customer_id is not None and phone.customer_id != body.customer_id):
            raise json_error(400, f"phone_id: no phone {body.phone_id}" + (f" of customer {body.customer_id}" if body.customer_id else ""))
        return phone.number, phone.customer_id
    if body.phone is not None:
        try:
            normalize_phone(body.phone, request.app[SETTINGS].crm.default_region)
        except InvalidPhoneNumber as error:
            raise json_error(400, f"phone: {error}") from None
        return body.phone, body.customer_id
    return "", body.customer_id


@endpoint(*STAFF, summary="Open a follow-up task by hand", body=NewTask, answer=answers.FollowUpTask, status=201,
          notes="Yours unless you name an assignee (a leader: their team; supervisors: anyone) or a queue, whose agents "
          "may take it. Due at due_at, or the kind's due_min from now (message 20 min, urgent 5 min).")  # fmt: skip
async def create(request: web.Request, user: User, body: NewTask) -> web.Response:
    reader = Reader(request, user)
    if body.queue is not None and body.queue not in reader.queues:
        raise json_error(400, f"queue: no queue {body.queue!r}")
    async with request.app[SESSIONS]() as session, session.begin():
        assignee_id = None if body.queue is not None else (body.assignee_id or user.id)
        if assignee_id is not None and assignee_id != user.id:
            someone = await session.get(User, assignee_id)
            if someone is None:
                raise json_error(400, f"assignee_id: no user {assignee_id}")
            if not reader.scope.gives_task_to(someone):
                raise json_error(403, "a team leader gives tasks to their own team, supervisors to anyone")
        if body.queue is not None and reader.scope.role == Role.AGENT:
            raise json_error(403, "agents open tasks for themselves; a leader or supervisor gives one to a queue")
        number, customer_id = await _phone(request, session, body)
        opening = store.Opening(kind=body.kind, title=body.title, note=body.note, customer_id=customer_id, phone=number,
                                assignee_id=assignee_id, queue=body.queue, due_at=body.due_at)  # fmt: skip
        try:
            task = await store.open_task(session, reader.settings, opening, actor=user, now=reader.now)
        except TaskError as error:
            raise json_error(400, str(error)) from None
        payload = await reader.one(session, task)
    return web.json_response(payload, status=201)


@endpoint(*STAFF, summary="One follow-up task", answer=answers.FollowUpTask, path=TASK_PATH, notes=SCOPE_NOTE)
async def read(request: web.Request, user: User) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session:
        return web.json_response(await reader.one(session, await reader.load(request, session)))


@endpoint(*STAFF, summary="Finish a task with its outcome", body=TaskOutcome, answer=answers.TaskDone, path=TASK_PATH,
          notes="A task is done only with an outcome (tasks.outcomes). again_at opens the same follow-up again, yours, due "
          "then (no answer: try again at three). An untaken queue task becomes the finisher's. 409 if it is already done.")  # fmt: skip
async def finish(request: web.Request, user: User, body: TaskOutcome) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        task = await reader.load_open(request, session)
        try:
            again = await store.finish(session, reader.settings, task, body.outcome, body.note, actor=user, again_at=body.again_at)
        except TaskError as error:
            raise json_error(400, str(error)) from None
        payload = {"task": await reader.one(session, task), "again": await reader.one(session, again) if again else None}
    return web.json_response(payload)


@endpoint(*STAFF, summary="Take a task, or give it to someone", body=TaskAssignment, answer=answers.FollowUpTask, path=TASK_PATH,
          notes="Anyone who sees a task may take it (user_id: yourself); a leader gives it to their team, supervisors to anyone.")  # fmt: skip
async def assign(request: web.Request, user: User, body: TaskAssignment) -> web.Response:
    reader = Reader(request, user)
    async with request.app[SESSIONS]() as session, session.begin():
        task = await reader.load_open(request, session)
        someone = await session.get(User, body.user_id)
        if someone is None:
            raise json_error(400, f"user_id: no user {body.user_id}")
        if not reader.scope.gives_task_to(someone):
            raise json_error(403, "take it yourself; a team leader gives tasks to their own team, supervisors to anyone")
        try:
            await store.take(session, task, someone.id)
        except TaskError as error:
            raise json_error(400, str(error)) from None
        payload = await reader.one(session, task)
    return web.json_response(payload)


def routes(app: web.Application) -> None:
    app.router.add_get("/api/tasks", search)
    app.router.add_post("/api/tasks", create)
    app.router.add_get("/api/tasks/{id}", read)
    app.router.add_post("/api/tasks/{id}/done", finish)
    app.router.add_put("/api/tasks/{id}/assignee", assign)
