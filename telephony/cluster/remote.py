"""Commands across workers: a follower's TelephonyCommands call travels to the owner over a Redis
list and its answer comes back on a list of its own. The same methods, the same plain arguments
(issue 16 made them so); what the owner raises is raised again here, as the same class.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, get_type_hints

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from telephony.agents.state import AgentSnapshot
from telephony.calls.control import CallControl
from telephony.calls.state import CallSnapshot
from telephony.cluster.stream import Follower, cancelled_inside
from telephony.commands import (
    AgentControlError, BadTarget, CallControlError, DialError, NotDialable, OwnerUnreachable, ProvisionError, TelephonyCommands,
    WantedState,
)  # fmt: skip
from telephony.outbound.dialer import Dialer

log = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 15.0  # longer than any command's own wait for Asterisk (transfers: ~10 s)
# A request not started within this share of the asker's wait is dropped: an owner that comes back
# (or a new one) never dials or transfers for someone who was told it failed long ago.
START_WITHIN = 1 / 3
REQUEST_MAX_BYTES = 64_000

# What may be asked, and of which class the method is (its return annotation decodes the answer).
COMMANDS: dict[str, Any] = {
    "set_agent_state": TelephonyCommands.set_agent_state,
    "phone_fault": TelephonyCommands.phone_fault,
    "browser_phone": TelephonyCommands.browser_phone,
    "disposition_pending": TelephonyCommands.disposition_pending,
    "disposition_settled": TelephonyCommands.disposition_settled,
    "click_to_dial": Dialer.click_to_dial,
    "dial_for_campaign": Dialer.dial_for_campaign,
    "spy": Dialer.spy,
    "stop_spy": Dialer.stop_spy,
    **{f"calls.{name}": getattr(CallControl, name)
       for name in ("hang_up", "hold", "resume", "blind_transfer", "attended_transfer", "complete_transfer", "pause_recording",
                    "resume_recording")},
}  # fmt: skip
ANSWERS = {name: TypeAdapter(get_type_hints(method).get("return", Any)) for name, method in COMMANDS.items()}
ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (AgentControlError, BadTarget, CallControlError, DialError, NotDialable, ProvisionError)
}


class CommandFailed(CallControlError, AgentControlError, DialError, ProvisionError):
    """The owner could not run the command (unknown, bad arguments, or it failed there). One of each
    error a command may raise, so every handler answers it as a refusal with its message rather
    than failing."""


ERRORS[CommandFailed.__name__] = CommandFailed


def _keys(prefix: str) -> tuple[str, str]:
    return f"{prefix}:commands", f"{prefix}:answers:"


class CommandServer:
    """The owner's side: runs each request on its TelephonyCommands, concurrently, and answers."""

    def __init__(self, redis: Redis, prefix: str, commands: TelephonyCommands) -> None:
        self._redis, self._commands = redis, commands
        self._requests, self._answers = _keys(prefix)
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._serve(), name="cluster-commands")

    async def stop(self) -> None:
        tasks = [*self._running, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self) -> None:
        while True:
            try:
                popped = await self._redis.blpop([self._requests], timeout=1)
                cancelled_inside()
            except RedisError as error:
                cancelled_inside(error)
                log.warning("cluster: cannot read commands (%s)", error)
                await asyncio.sleep(0.5)
                continue
            if popped is None:
                continue
            task = asyncio.create_task(self._run(popped[1]))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, raw: bytes) -> None:
        try:
            request = json.loads(raw) if len(raw) <= REQUEST_MAX_BYTES else None
            name, reply_to = request["command"], str(uuid.UUID(request["reply_to"]))  # type: ignore[index]
            args, kwargs = list(request.get("args", [])), dict(request.get("kwargs", {}))
            start_by = float(request.get("start_by", "inf"))
        except (ValueError, KeyError, TypeError):
            log.warning("cluster: a malformed command was dropped")
            return
        if time.time() > start_by:
            log.warning("cluster: command %s came %.1f s too late to be run; dropped", name[:40], time.time() - start_by)
            return
        if name not in COMMANDS:
            answer: dict[str, Any] = {"error": "CommandFailed", "message": f"unknown command {name[:40]!r}"}
        else:
            try:
                result = await self._method(name)(*args, **kwargs)
                answer = {"result": ANSWERS[name].dump_python(result, mode="json")}
            except tuple(ERRORS.values()) as error:
                answer = {"error": type(error).__name__, "message": str(error)}
            except TypeError as error:  # arguments that do not fit the method
                answer = {"error": "CommandFailed", "message": f"bad arguments: {error}"}
            except Exception as error:  # noqa: BLE001 - the asker gets an answer, the owner goes on
                log.exception("cluster: command %s failed", name)
                answer = {"error": "CommandFailed", "message": f"{name} failed on the owner: {type(error).__name__}"}
        key = self._answers + reply_to
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, json.dumps(answer))
                pipe.expire(key, int(ANSWER_TIMEOUT_S) + 5)
                await pipe.execute()
        except RedisError as error:
            cancelled_inside(error)
            log.warning("cluster: the answer to %s was lost (%s)", name, error)

    def _method(self, name: str) -> Any:
        target: Any = self._commands
        for part in name.split("."):
            target = getattr(target, part)
        return target


class _RemoteCalls:
    def __init__(self, ask: Any) -> None:
        self._ask = ask

    async def hang_up(self, linkedid: str) -> None:
        await self._ask("calls.hang_up", linkedid)

    async def hold(self, linkedid: str) -> None:
        await self._ask("calls.hold", linkedid)

    async def resume(self, linkedid: str) -> None:
        await self._ask("calls.resume", linkedid)

    async def blind_transfer(self, linkedid: str, **target: str | None) -> None:
        await self._ask("calls.blind_transfer", linkedid, **target)

    async def attended_transfer(self, linkedid: str, **target: str | None) -> None:
        await self._ask("calls.attended_transfer", linkedid, **target)

    async def complete_transfer(self, linkedid: str) -> None:
        await self._ask("calls.complete_transfer", linkedid)

    async def pause_recording(self, linkedid: str) -> None:
        await self._ask("calls.pause_recording", linkedid)

    async def resume_recording(self, linkedid: str) -> None:
        await self._ask("calls.resume_recording", linkedid)


class RemoteCommands:
    """TelephonyCommands for a follower: reads from the mirror of the owner's live state, commands
    sent to the owner."""

    def __init__(self, redis: Redis, prefix: str, mirror: Follower, *, answer_timeout_s: float | None = None) -> None:
        self._redis, self._mirror, self._timeout_s = redis, mirror, answer_timeout_s or ANSWER_TIMEOUT_S
        self._requests, self._answers = _keys(prefix)
        self.calls = _RemoteCalls(self._ask)

    def status(self) -> dict[str, dict[str, object]]:
        return {}  # the AMI connections are the owner's: its /readyz and /metrics tell

    def agent(self, extension: str) -> AgentSnapshot | None:
        return self._mirror.agent(extension)

    def agents(self) -> list[AgentSnapshot]:
        return self._mirror.agents()

    def live_calls(self) -> list[CallSnapshot]:
        return self._mirror.live_calls()

    def find_call(self, linkedid: str) -> CallSnapshot | None:
        return self._mirror.find_call(linkedid)

    async def set_agent_state(
        self, extension: str, wanted: WantedState, *, queues: list[str], name: str = "", reason: str | None = None,
        home: str | None = None,
    ) -> AgentSnapshot | None:
        return await self._ask("set_agent_state", extension, wanted, queues=queues, name=name, reason=reason, home=home)  # type: ignore[no-any-return]

    async def phone_fault(self, extension: str) -> AgentSnapshot | None:
        return await self._ask("phone_fault", extension)  # type: ignore[no-any-return]

    async def disposition_pending(self, extension: str) -> str | None:
        return await self._ask("disposition_pending", extension)  # type: ignore[no-any-return]

    async def disposition_settled(self, extension: str | None, linkedid: str) -> None:
        await self._ask("disposition_settled", extension, linkedid)

    async def browser_phone(self, extension: str, server: str | None = None) -> Any:
        return await self._ask("browser_phone", extension, server)

    async def click_to_dial(self, agent: str, number: str, **options: Any) -> str:
        return await self._ask("click_to_dial", agent, number, **options)  # type: ignore[no-any-return]

    async def dial_for_campaign(self, *args: Any, **options: Any) -> Any:
        return await self._ask("dial_for_campaign", *args, **options)

    async def spy(self, leader: str, agent: str, mode: str, **options: Any) -> str:
        return await self._ask("spy", leader, agent, mode, **options)  # type: ignore[no-any-return]

    async def stop_spy(self, leader: str, spy_id: str) -> None:
        await self._ask("stop_spy", leader, spy_id)

    async def _ask(self, command: str, /, *args: Any, **kwargs: Any) -> Any:
        reply_to = str(uuid.uuid4())
        start_by = time.time() + self._timeout_s * START_WITHIN  # wall clock: the owner may be another machine
        request = json.dumps({"command": command, "reply_to": reply_to, "start_by": start_by, "args": args, "kwargs": kwargs})
        try:
            await self._redis.rpush(self._requests, request)
            popped = await self._redis.blpop([self._answers + reply_to], timeout=self._timeout_s)
        except RedisError as error:
            raise OwnerUnreachable(f"the telephony's owner cannot be reached: {error}") from None
        if popped is None:
            raise OwnerUnreachable("the telephony's owner did not answer in time")
        answer = json.loads(popped[1])
        if "error" in answer:
            raise ERRORS.get(answer["error"], CommandFailed)(answer.get("message", ""))
        try:
            return ANSWERS[command].validate_python(answer.get("result"))
        except ValidationError:
            raise CommandFailed(f"the owner's answer to {command} was not understood") from None
