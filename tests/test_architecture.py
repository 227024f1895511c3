"""The one-way dependency rule: config <- crm <- telephony, qa <- agent_ui."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "config": set(),
    "crm": {"config"},
    "telephony": {"config", "crm"},
    "qa": {"config", "crm"},
    "agent_ui": {"config", "crm", "telephony", "qa"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        wrong = imported_packages(path) - ALLOWED[package] - {package}
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_recording_names_have_one_owner() -> None:
    """How a call's recordings are named is crm/recordings.py's alone (issue 16): the call log, auto-QA,
    the player and the sandbox's scripted calls ask it rather than spell the suffixes again."""
    owner = ROOT / "crm" / "recordings.py"
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            if path != owner:
                text = path.read_text()
                assert not any(suffix in text for suffix in ("-agent.wav", "-caller.wav", "-mix.wav")), path.relative_to(ROOT)


SANDBOX_USERS = {"agent_ui/cli/sandbox.py", "agent_ui/cli/demo.py"}  # the commands that run the sandbox


def test_the_product_never_imports_the_sandbox() -> None:
    """The sandbox (a chroot Asterisk, simulated callers) is for the demo and the tests: `serve`, the
    recordings and everything else find a local Asterisk's folders and secrets through
    config/local_asterisk.py, which the sandbox writes (issue 16)."""
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("telephony/sandbox/") or relative in SANDBOX_USERS:
                continue
            tree = ast.parse(path.read_text(), relative)
            modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
            modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
            assert not any(m == "telephony.sandbox" or m.startswith("telephony.sandbox.") for m in modules), relative
