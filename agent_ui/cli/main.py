"""`callcenter`: one command, one subcommand per job. Each module here adds its own subcommand."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from agent_ui.cli import calllog, customers, db, demo, qa, sandbox, serve, users
from agent_ui.cli.errors import CommandError
from config import ConfigError, Settings, load_settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcenter",
        description="Call-center platform: Asterisk telephony, agent desktop, CRM and quality assurance.",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file (default: $CALLCENTER_CONFIG, else none)")
    parser.add_argument(
        "--data-dir", type=Path, help="where the database, sandbox state and recordings live (default: $CALLCENTER_DATA_DIR, else the user data folder)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (sandbox, db, users, customers, serve, demo, qa, calllog):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        settings = load_settings(args.config, data_dir=args.data_dir)
        return handler(args, settings) or EXIT_OK
    except ConfigError as error:
        print(f"callcenter: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as error:
        print(f"callcenter {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
