"""`callcenter sandbox up|down|status|call`: the real Asterisk 22 used by the demo and the tests."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path

from agent_ui.cli.errors import CommandError
from config import Settings
from telephony.ami import AmiClient, AmiError
from telephony.sandbox import Sandbox, SandboxUnavailable
from telephony.sandbox.calls import place_call, wait_for_recordings


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("sandbox", help="run a real Asterisk 22 in a cached Debian chroot", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    up = actions.add_parser("up", help="build (once) and start the sandbox Asterisk; reuse a running one")
    up.set_defaults(handler=run_up)

    down = actions.add_parser("down", help="stop the sandbox Asterisk")
    down.set_defaults(handler=run_down)

    status = actions.add_parser("status", help="show AMI/AGI addresses, credentials, recordings folder")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)

    call = actions.add_parser(
        "call",
        help="place a simulated customer call",
        description="Place a simulated customer call into the sandbox and follow it to its end. "
        "The caller speaks (espeak-ng); the simulated agent answering speaks back.",
    )
    call.add_argument("--caller", required=True, help="the caller's number, e.g. 13800138000")
    call.add_argument("--caller-name", default="", help="caller-ID name")
    call.add_argument("--did", required=True, help="the number dialled, e.g. 4001")
    call.add_argument("--talk-seconds", type=float, default=5.0, help="how long the caller talks once answered")
    call.add_argument("--hangup-after-wait", type=float, help="the caller gives up after this many seconds unanswered")
    call.add_argument("--lang", choices=("en", "zh"), default="en", help="the caller's language")
    call.add_argument(
        "--survey-key", choices=("1", "2", "3", "4", "5"),
        help="the key the caller presses when the agent hangs up first and the queue asks the satisfaction survey",
    )  # fmt: skip
    call.add_argument("--json", action="store_true", help="print the result as JSON")
    call.set_defaults(handler=run_call)


def _sandbox(settings: Settings) -> Sandbox:
    return Sandbox(settings, log=lambda line: print(line, flush=True))


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    try:
        status = asyncio.run(_sandbox(settings).up())
    except SandboxUnavailable as error:
        raise CommandError(str(error)) from None
    print(f"AMI {status.ami_host}:{status.ami_port} user {status.ami_username}; recordings in {status.recordings_dir}")
    return 0


def run_down(args: argparse.Namespace, settings: Settings) -> int:
    stopped = _sandbox(settings).down()
    print("sandbox Asterisk stopped" if stopped else "sandbox Asterisk was not running")
    return 0


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    status = _sandbox(settings).status()
    if args.json:
        print(json.dumps(status.as_dict(), indent=2))
    else:
        state = f"running (pid {status.pid})" if status.running else "stopped"
        print(f"Asterisk: {state}")
        print(f"AMI:      {status.ami_host}:{status.ami_port} user {status.ami_username} secret {status.ami_secret}")
        print(f"AMI admin: user {status.ami_admin_username} secret {status.ami_admin_secret} (the sandbox's tooling; the bridge has the user above)")
        print(f"FastAGI:  {status.fastagi}")
        print(f"ARI:      {status.ari_url} user {status.ari_username} (browser phones' credentials)")
        print(f"Browser phones: {status.wss_url} (self-signed certificate)")
        print(f"Recordings: {status.recordings_dir}")
    return 0 if status.running else 3


def run_call(args: argparse.Namespace, settings: Settings) -> int:
    if args.talk_seconds < 0 or (args.hangup_after_wait is not None and args.hangup_after_wait < 0):
        raise CommandError("--talk-seconds and --hangup-after-wait must not be negative")
    if not args.did.isdigit():
        raise CommandError("--did must be digits")
    if not re.fullmatch(r"\+?[0-9]{1,20}", args.caller):
        raise CommandError("--caller must be a phone number: digits, optionally after +")
    status = _sandbox(settings).status()
    if not status.running:
        raise CommandError("the sandbox is not running; start it with `callcenter sandbox up`")
    result, recordings = asyncio.run(_call(args, status))
    if args.json:
        print(json.dumps({**result.as_dict(), "recordings": [str(p) for p in recordings]}, ensure_ascii=False, indent=2))
    else:
        print(f"call {result.linkedid}: {result.outcome}", end="")
        if result.agent:
            print(f" by {result.agent} after {result.wait_s}s, talked {result.talk_s}s", end="")
        if result.survey_key:
            print(f", pressed {result.survey_key} in the satisfaction survey", end="")
        print()
        for path in recordings:
            print(f"  recording {path}")
    return 0 if result.outcome in ("answered", "abandoned") else 1


async def _call(args: argparse.Namespace, status) -> tuple:
    client = AmiClient(status.ami_host, status.ami_port, status.ami_admin_username, status.ami_admin_secret, reconnect=False)
    try:
        await client.connect()
        result = await place_call(
            client,
            did=args.did,
            caller=args.caller,
            caller_name=args.caller_name,
            talk_seconds=args.talk_seconds,
            hangup_after_wait=args.hangup_after_wait,
            language=args.lang,
            survey_key=args.survey_key,
        )
    except AmiError as error:
        raise CommandError(str(error)) from None
    finally:
        await client.close()
    recordings = await wait_for_recordings(Path(status.recordings_dir), result.linkedid) if result.agent else []
    return result, recordings
