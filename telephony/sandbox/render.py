"""Render the Asterisk configuration templates kept in ``config/asterisk/``.

Templates mark values as ``{{name}}`` (Asterisk's own syntax never uses double braces). A marker
with no value is an error, so a template and this module cannot drift apart unnoticed.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from config.settings import QueueSettings, SimulatedAgent

MARKER = re.compile(r"\{\{(\w+)\}\}")
TEMPLATE_PACKAGE = "config.asterisk"


def render(template: str, values: dict[str, object]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"template marker {{{{{name}}}}} has no value")
        return str(values[name])

    return MARKER.sub(substitute, template)


def template_names() -> list[str]:
    folder = resources.files("config").joinpath("asterisk")
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".conf"))


def render_all(target: Path, values: dict[str, object]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    folder = resources.files("config").joinpath("asterisk")
    for name in template_names():
        text = folder.joinpath(name).read_text(encoding="utf-8")
        (target / name).write_text(render(text, values), encoding="utf-8")


def queue_sections(queues: list[QueueSettings], sounds_dir: str) -> str:
    sections = []
    for queue in queues:
        # A key pressed in the queue leaves it for cc-queue-exit (1: call me back, 2: on another number).
        callback = [
            "context = cc-queue-exit",
            f"periodic-announce = {sounds_dir}/callback-offer",
            f"periodic-announce-frequency = {queue.callback_after_s}",
        ] if queue.callback_after_s else []  # fmt: skip
        sections.append(
            "\n".join(
                [
                    f"[{queue.name}]",
                    f"strategy = {queue.strategy}",
                    f"timeout = {queue.ring_timeout_s}",
                    "retry = 1",
                    f"wrapuptime = {queue.wrapup_s}",
                    "ringinuse = no",
                    "joinempty = yes",
                    "leavewhenempty = no",
                    "announce-frequency = 0",
                    "announce-holdtime = no",
                    "musicclass = default",
                    "setinterfacevar = yes",
                    "setqueueentryvar = yes",
                    "setqueuevar = yes",
                    "reportholdtime = no",
                    "memberdelay = 0",
                    f"servicelevel = {queue.service_level_s}",
                    *callback,
                ]
            )
        )
    return "\n\n".join(sections)


def did_extensions(queues: list[QueueSettings]) -> str:
    lines = []
    for queue in queues:
        for did in queue.dids:
            lines += [
                f"exten => {did},1,Set(__CC_DID={did})",
                f" same => n,Set(CC_QUEUE={queue.name})",
                f" same => n,Set(CC_QUEUE_TIMEOUT={queue.max_wait_s or ''})",
                f" same => n,Set(CC_SURVEY={'yes' if queue.survey else ''})",
                " same => n,Goto(cc-route,s,1)",
            ]
    return "\n".join(lines)


def phone_extensions(agents: list[SimulatedAgent]) -> str:
    lines = []
    for agent in agents:
        lines += [f"exten => {agent.extension},1,Gosub(sim-phone,s,1({agent.language},{agent.extension}))", " same => n,Hangup()"]
    return "\n".join(lines)


def transfer_extensions(queues: list[QueueSettings]) -> str:
    """``q-<queue>`` in cc-transfer: the transferred caller joins that queue with its own timeout
    (and its satisfaction survey when the agent there hangs up)."""
    lines = []
    for queue in queues:
        lines += [
            f"exten => q-{queue.name},1,Set(CC_QUEUE={queue.name})",
            f" same => n,Set(CC_SURVEY={'yes' if queue.survey else ''})",
            " same => n,Set(QUEUE_PRIO=${CC_PRIORITY})",
            " same => n,Set(CC_QUEUED_AT=${STRFTIME(,,%s.%6q)})",
            f" same => n,Queue({queue.name},t{'c' if queue.survey else ''},,,{queue.max_wait_s or ''})",
            " same => n,UserEvent(CCQueueResult,Status: ${QUEUESTATUS})",
            *([' same => n,GotoIf($["${MEMBERINTERFACE}" != ""]?cc-survey,s,1)'] if queue.survey else []),
            " same => n,Hangup()",
        ]
    return "\n".join(lines)
