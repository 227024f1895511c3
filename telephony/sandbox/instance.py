"""One sandbox Asterisk: its folders, its state file, starting, stopping and status.

Each data directory gets its own instance (own config, AstDB, spool, recordings) inside the shared
chroot, so two data directories never share an Asterisk by accident. Ports come from the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from config import local_asterisk
from config.settings import Settings
from telephony.ami import AmiClient, AmiError
from telephony.sandbox import chroot as chroot_mod
from telephony.sandbox import render, speech
from telephony.sandbox.chroot import SandboxUnavailable

BOOT_TIMEOUT_S = 60.0
ADMIN_USERNAME = "sandbox-admin"  # manager.conf's second user: the sandbox's tooling and the tests, not the product


@dataclass
class SandboxStatus:
    running: bool
    pid: int | None
    ami_host: str
    ami_port: int
    ami_username: str
    ami_secret: str
    ami_admin_username: str  # the sandbox's own tooling (reload, AstDB for the simulated phones); never the bridge
    ami_admin_secret: str
    ari_url: str  # the browser phones' credentials are pushed here
    ari_username: str
    ari_secret: str
    wss_url: str  # where browser phones register (a self-signed certificate in the sandbox)
    fastagi: str
    recordings_dir: str
    chroot: str
    config_dir: str
    log_file: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Sandbox:
    def __init__(self, settings: Settings, log=print) -> None:
        self.settings = settings
        self.log = log
        self.chroot = local_asterisk.chroot_dir(settings)
        self.state_file = local_asterisk.state_file(settings)
        self.root_inside = local_asterisk.root_inside(settings)
        self.ami = settings.asterisk[0]

    # Paths, inside the chroot (for Asterisk) and on the host (for us) ------------------------------

    def inside(self, name: str) -> str:
        return f"{self.root_inside}/{name}"

    def host(self, name: str) -> Path:
        return self.chroot / self.inside(name).lstrip("/")

    @property
    def log_file(self) -> Path:
        return self.host("log") / "asterisk.out"

    # State -----------------------------------------------------------------------------------------

    def _read_state(self) -> dict[str, object]:
        return local_asterisk.read_state(self.settings)

    def _write_state(self, **changes: object) -> dict[str, object]:
        return local_asterisk.write_state(self.settings, **changes)

    def secret(self) -> str:
        """The bridge's AMI secret (its user has only the classes the product needs)."""
        return self._secret("ami_secret", self.ami.ami_secret)

    def admin_secret(self) -> str:
        return self._secret("ami_admin_secret", None)

    def ari_secret(self) -> str:
        return self._secret("ari_secret", self.ami.ari_secret)

    def _secret(self, key: str, configured: str | None) -> str:
        return local_asterisk.secret(self.settings, key, configured)

    def pid(self) -> int | None:
        pid = self._read_state().get("pid")
        if not isinstance(pid, int):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        ours = self.inside("etc/asterisk.conf").encode()
        return pid if any(b"asterisk" in part for part in cmdline) and ours in cmdline else None

    def status(self) -> SandboxStatus:
        pid = self.pid()
        state = self._read_state()
        return SandboxStatus(
            running=pid is not None,
            pid=pid,
            ami_host=self.ami.ami_host,
            ami_port=int(state.get("ami_port", self.ami.ami_port)),  # type: ignore[arg-type]
            ami_username=self.ami.ami_username,
            ami_secret=self.secret(),
            ami_admin_username=ADMIN_USERNAME,
            ami_admin_secret=self.admin_secret(),
            ari_url=f"http://127.0.0.1:{self.ami.http_port}/ari",
            ari_username=self.ami.ari_username,
            ari_secret=self.ari_secret(),
            wss_url=f"wss://127.0.0.1:{self.ami.wss_port}/ws",
            fastagi=str(state.get("fastagi", f"agi://{self.settings.agi.host}:{self.settings.agi.port}")),
            recordings_dir=str(self.host("recordings")),
            chroot=str(self.chroot),
            config_dir=str(self.host("etc")),
            log_file=str(self.log_file),
        )

    # Lifecycle -------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Build the chroot if needed, write prompts and render the configuration."""
        chroot_mod.check_root()
        chroot_mod.ensure_chroot(self.chroot, self.log)
        for name in ("etc", "lib", "lib/keys", "spool", "run", "log", "recordings", "sounds", "moh"):
            self.host(name).mkdir(parents=True, exist_ok=True)
        speech.install_prompts(self.host("sounds"))
        speech.install_music_on_hold(self.host("moh"))
        render.render_all(self.host("etc"), self._template_values())
        _self_signed_certificate(self.host("etc") / "keys")

    def _template_values(self) -> dict[str, object]:
        settings = self.settings
        return {
            "etc_dir": self.inside("etc"),
            "lib_dir": self.inside("lib"),
            "spool_dir": self.inside("spool"),
            "run_dir": self.inside("run"),
            "log_dir": self.inside("log"),
            "module_dir": chroot_mod.module_dir(self.chroot),
            "recordings_dir": self.inside("recordings"),
            "sounds_dir": self.inside("sounds"),
            "moh_dir": self.inside("moh"),
            "ami_port": self.ami.ami_port,
            "ami_username": self.ami.ami_username,
            "ami_secret": self.secret(),
            "ami_admin_username": ADMIN_USERNAME,
            "ami_admin_secret": self.admin_secret(),
            "http_port": self.ami.http_port,
            "wss_port": self.ami.wss_port,
            "ari_username": self.ami.ari_username,
            "ari_secret": self.ari_secret(),
            "agi_host": settings.agi.host,
            "agi_port": settings.agi.port,
            "queue_sections": render.queue_sections(settings.queues, self.inside("sounds")),
            "did_extensions": render.did_extensions(settings.queues),
            "phone_extensions": render.phone_extensions(settings.sandbox.agents),
            "outbound_dial": "Local/${EXTEN}@sim-callee/n",
            "transfer_extensions": render.transfer_extensions(settings.queues),
            "agent_dial": self.ami.agent_interface.format(extension="${EXTEN:2}"),
            "outbound_caller_id": settings.sandbox.outbound_caller_id,
        }

    async def up(self) -> SandboxStatus:
        """Start the sandbox (or reuse the running one) and return once AMI says FullyBooted."""
        self.prepare()
        if self.pid() is not None:
            self.log(f"sandbox Asterisk already running (pid {self.pid()}); configuration reloaded")
            try:
                client = await self._connect_booted(5.0)
            except SandboxUnavailable:  # started with an older configuration that had no admin user
                client = await self._connect_booted(BOOT_TIMEOUT_S, username=self.ami.ami_username, secret=self.secret())
            try:
                await client.command("core reload")
            finally:
                await client.close()
            return self.status()
        _check_port_free(self.ami.ami_host, self.ami.ami_port)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            process = subprocess.Popen(
                ["chroot", str(self.chroot), "/usr/sbin/asterisk", "-f", "-n", "-C", self.inside("etc/asterisk.conf")],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._write_state(
            pid=process.pid,
            ami_port=self.ami.ami_port,
            fastagi=f"agi://{self.settings.agi.host}:{self.settings.agi.port}",
            started_at=time.time(),
        )
        try:
            client = await self._connect_booted(BOOT_TIMEOUT_S, process)
        except BaseException:
            self.down()
            raise
        try:
            await self._add_simulated_agents(client)
        finally:
            await client.close()
        self.log(f"sandbox Asterisk up (pid {process.pid}), AMI on {self.ami.ami_host}:{self.ami.ami_port}")
        return self.status()

    async def _connect_booted(
        self, timeout: float, process: subprocess.Popen[bytes] | None = None, *, username: str = "", secret: str = ""
    ) -> AmiClient:
        """The admin's AMI connection (or the one named) once Asterisk has fully booted."""
        username, secret = username or ADMIN_USERNAME, secret or self.admin_secret()
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise SandboxUnavailable(f"Asterisk exited with code {process.returncode}:\n{self._log_tail()}")
            client = AmiClient(self.ami.ami_host, self.ami.ami_port, username, secret, reconnect=False)
            events = client.events(["FullyBooted"])
            try:
                await client.connect(timeout=2)
                await events.get(timeout=max(0.1, deadline - time.monotonic()))
                return client
            except (AmiError, TimeoutError, OSError) as error:
                last_error = error
                await client.close()
                await asyncio.sleep(0.2)
        raise SandboxUnavailable(f"Asterisk did not boot within {timeout:.0f}s ({last_error}):\n{self._log_tail()}")

    async def _add_simulated_agents(self, client: AmiClient) -> None:
        for agent in self.settings.sandbox.agents:
            interface = self.ami.agent_interface.format(extension=agent.extension)
            for queue in agent.queues:
                try:
                    await client.action("QueueAdd", Queue=queue, Interface=interface, MemberName=agent.name)
                except AmiError as error:
                    if "Already there" not in str(error):
                        raise

    def down(self, timeout: float = 10.0) -> bool:
        """Stop the Asterisk this sandbox started. Return whether one was running."""
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self._write_state(pid=None)
        return True

    def purge(self) -> None:
        """Delete this instance's folder in the chroot (configuration, AstDB, recordings). Stopped only."""
        if self.pid() is not None:
            raise SandboxUnavailable("stop the sandbox before purging it")
        shutil.rmtree(self.chroot / self.root_inside.lstrip("/"), ignore_errors=True)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no Asterisk output)"


def _check_port_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise SandboxUnavailable(
                f"AMI port {host}:{port} is already in use (another sandbox or Asterisk?). Stop it "
                "(`callcenter --data-dir OTHER sandbox down`) or choose another port (CALLCENTER_ASTERISK='[{\"ami_port\": 5039}]')."
            ) from None


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (reaps it when it is our child)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":  # it exited after the waitpid above: reap it now, or /proc keeps it
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        return False
    return True


def _self_signed_certificate(folder: Path) -> None:
    """The sandbox's TLS certificate for the browser phones' WebSocket (made once, kept)."""
    certificate, key = folder / "asterisk.crt", folder / "asterisk.key"
    if certificate.exists() and key.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    os.chmod(key, 0o600)
