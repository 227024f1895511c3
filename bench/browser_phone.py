"""The browser phone on a real Asterisk (the sandbox) with real headless Chromium (issue 13).

- Ring latency: from app_queue's ``AgentCalled`` (as an AMI client receives it) to the INVITE
  reaching the page (SIP.js ``onInvite``, the page's clock: the same machine), over 100 calls.
  Four browser agents, each alone in its queue, take calls one after another; each answers at
  once and the caller hangs up half a second later.
- Asterisk's CPU per concurrent call, for 1 to N calls in progress at once: browser phones
  (DTLS-SRTP, ICE, opus or G.711 towards the browser, the caller's side in G.711) against the
  peer, the same calls answered by the sandbox's Local-channel phones (no RTP, no encryption, no
  transcoding). Asterisk's own CPU time (utime + stime of its process) over a steady window.

The pages are a bare SIP.js user agent (the desktop's vendor files), not the desktop: what is
measured is Asterisk and the browser's SIP stack, not our web app.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path

from aiohttp import web

from bench.report import Section, latency_cells
from bench.server import CpuMeter, free_port
from config import load_settings
from config.settings import QueueSettings, SimulatedAgent
from telephony.ami import AmiClient
from telephony.phones.provision import Provisioner
from telephony.sandbox import Sandbox
from telephony.sandbox.calls import place_call

STATIC = Path(__file__).resolve().parent.parent / "agent_ui" / "static"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--ignore-certificate-errors",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
RING_AGENTS = 4
PAGES_PER_BROWSER = 10
SATURATED = 90  # % of all cores: past it the per-call figures are starved, not cheap
FIRST_BROWSER, FIRST_LOCAL = 3001, 4001
PAGE = """<!doctype html><meta charset="utf-8"><title>bench phone</title>
<audio id="remote" autoplay></audio>
<script type="module">
import { Registerer, SessionState, UserAgent, Web } from "/static/vendor/sip.js/index.js";
window.invites = [];
window.established = 0;
window.startPhone = async (c) => {
  // The microphone opens once, here, and each call takes a copy: Chromium's fake capture device
  // cannot start for twenty pages in the same instant ("Could not start audio source").
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  const ua = new UserAgent({
    sessionDescriptionHandlerFactory: Web.defaultSessionDescriptionHandlerFactory(() => Promise.resolve(mic.clone())),
    uri: UserAgent.makeURI(c.uri), transportOptions: { server: c.wss_url }, logLevel: "error",
    authorizationUsername: c.username, authorizationPassword: c.password,
    delegate: { onInvite: (invitation) => {
      window.invites.push(Date.now());
      invitation.stateChange.addListener((state) => {
        if (state !== SessionState.Established) return;
        window.established += 1;
        const stream = new MediaStream();
        for (const r of invitation.sessionDescriptionHandler.peerConnection.getReceivers()) if (r.track) stream.addTrack(r.track);
        document.getElementById("remote").srcObject = stream;
      });
      invitation.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
    } },
  });
  await ua.start();
  await new Registerer(ua).register();
  return true;
};
</script>"""


def _settings(data_dir: Path, browsers: int, locals_: int):  # type: ignore[no-untyped-def]
    queues = [QueueSettings(name=f"ring{i}", dids=[f"49{i:02d}"], ring_timeout_s=10, wrapup_s=0) for i in range(RING_AGENTS)]
    queues += [
        QueueSettings(name="webcpu", dids=["4980"], strategy="leastrecent", ring_timeout_s=10, wrapup_s=0),
        QueueSettings(name="localcpu", dids=["4981"], strategy="leastrecent", ring_timeout_s=10, wrapup_s=0),
    ]
    agents = [SimulatedAgent(extension=str(FIRST_LOCAL + i), name=f"Local {i}", queues=["localcpu"]) for i in range(locals_)]
    return load_settings(
        data_dir=data_dir,
        asterisk=[{"ami_port": free_port(), "http_port": free_port(), "wss_port": free_port()}],
        agi={"port": free_port()},
        queues=queues,
        sandbox={"agents": agents},
        routing={"risk_queue": None},
    )


@contextlib.asynccontextmanager
async def _page_server():  # type: ignore[no-untyped-def]
    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text=PAGE, content_type="text/html"))
    app.router.add_static("/static", STATIC)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


class Phones:
    """Browser pages, each registered as one extension; a Chromium for every PAGES_PER_BROWSER pages,
    since one Chromium's fake microphone will not start for more than about sixteen pages."""

    def __init__(self, playwright, url: str, status, admin: AmiClient) -> None:  # type: ignore[no-untyped-def]
        self._playwright, self._url, self._status, self._admin = playwright, url, status, admin
        self._provisioner = Provisioner(status.ari_url, status.ari_username, status.ari_secret)
        self._browsers: list = []  # type: ignore[type-arg]
        self.pages: dict[str, object] = {}

    async def _context(self):  # type: ignore[no-untyped-def]
        if len(self.pages) >= PAGES_PER_BROWSER * len(self._browsers):
            browser = await self._playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            self._browsers.append(browser)
            await browser.new_context()
        return self._browsers[len(self.pages) // PAGES_PER_BROWSER].contexts[0]

    async def open(self, extension: str, codecs: str) -> object:
        phone = await self._provisioner.provision(extension, codecs)
        page = await (await self._context()).new_page()
        await page.goto(self._url)
        await page.wait_for_function("typeof window.startPhone === 'function'")
        host = self._status.wss_url.split("//", 1)[1].split(":", 1)[0]
        credentials = {"uri": f"sip:{phone.username}@{host}", "wss_url": self._status.wss_url, "username": phone.username, "password": phone.password}
        await page.evaluate("(c) => window.startPhone(c)", credentials)
        deadline = time.monotonic() + 15
        while f"{extension}/sip:" not in await self._admin.command(f"pjsip show contacts like {extension}"):
            assert time.monotonic() < deadline, f"the browser phone {extension} did not register"
            await asyncio.sleep(0.2)
        self.pages[extension] = page
        return page

    async def close_all(self) -> None:
        for page in self.pages.values():
            await page.close()  # type: ignore[attr-defined]
        self.pages.clear()
        for browser in self._browsers:
            await browser.close()
        self._browsers.clear()


async def _ring_latency(phones: Phones, admin: AmiClient, calls: int) -> list[float]:
    latencies: list[float] = []
    called: dict[str, list[float]] = {f"ring{i}": [] for i in range(RING_AGENTS)}
    watcher = admin.events(["AgentCalled"])

    async def note_agent_called() -> None:
        while True:
            event = await watcher.get()
            if event.get("Queue") in called:
                called[event["Queue"]].append(time.time() * 1000)

    noting = asyncio.create_task(note_agent_called())

    async def stream(index: int, count: int) -> None:
        extension = str(FIRST_BROWSER + index)
        page = await phones.open(extension, "opus,ulaw")
        await admin.action("QueueAdd", Queue=f"ring{index}", Interface=f"PJSIP/{extension}", MemberName=extension)
        for n in range(count):
            result = await place_call(admin, did=f"49{index:02d}", caller=f"1550000{index}{n:03d}", talk_seconds=0.5)
            assert result.outcome == "answered", result
            invites = await page.evaluate("window.invites")  # type: ignore[attr-defined]
            assert len(invites) == n + 1 and len(called[f"ring{index}"]) == n + 1, (len(invites), len(called[f"ring{index}"]))
            latencies.append((invites[-1] - called[f"ring{index}"][-1]) / 1000)

    try:
        share = [calls // RING_AGENTS + (1 if i < calls % RING_AGENTS else 0) for i in range(RING_AGENTS)]
        await asyncio.gather(*(stream(i, share[i]) for i in range(RING_AGENTS)))
    finally:
        noting.cancel()
        watcher.close()
    assert len(latencies) == calls
    return latencies


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


async def _cpu_per_call(phones: Phones, admin: AmiClient, pid: int, concurrent: int, kind: str, window_s: float) -> tuple[float, float] | None:
    """Asterisk's CPU (% of one core) with ``concurrent`` calls in progress, less its idle share,
    and how busy the whole machine was meanwhile (% of all cores: the browsers run here too).
    None when the machine could not get that many calls answered within a minute."""
    queue, did = ("localcpu", "4981") if kind == "local" else ("webcpu", "4980")
    extensions = [str(FIRST_BROWSER + 100 + i) for i in range(concurrent)] if kind != "local" else []
    pages = []
    for extension in extensions:
        pages.append(await phones.open(extension, "opus" if kind == "opus" else "ulaw"))
        await admin.action("QueueAdd", Queue=queue, Interface=f"PJSIP/{extension}", MemberName=extension)
    idle = CpuMeter(pid)
    await asyncio.sleep(2.0)
    idle_percent = idle.percent()
    connects = admin.events(["AgentConnect"])
    talk = 120.0  # hung up after the window, all at once (below)
    prefix = {"local": "1561", "ulaw": "1562", "opus": "1563"}[kind]
    calls = [asyncio.create_task(place_call(admin, did=did, caller=f"{prefix}{concurrent:02d}{i:05d}", talk_seconds=talk)) for i in range(concurrent)]

    async def all_connected() -> None:
        seen = 0
        while seen < concurrent:
            event = await connects.get()
            if event.get("Queue") == queue:
                seen += 1

    try:
        try:
            await asyncio.wait_for(all_connected(), 60)
        except TimeoutError:
            return None
        finally:
            connects.close()
        await asyncio.sleep(1.0)  # media settles (ICE, DTLS)
        meter, machine = CpuMeter(pid), _machine_ticks()
        await asyncio.sleep(window_s)
        busy = meter.percent()
        machine_after = _machine_ticks()
        machine_busy = 100 * (machine_after[0] - machine[0]) / max(1, machine_after[1] - machine[1])
        up = [c for c in await admin.collect("CoreShowChannels") if c.get("Event") == "CoreShowChannel" and c.get("ChannelStateDesc") == "Up"]
        agents = [c for c in up if c.get("Channel", "").startswith("PJSIP/" if kind != "local" else f"Local/{str(FIRST_LOCAL)[:2]}")]
        assert len(agents) >= concurrent, f"only {len(agents)} of {concurrent} {kind} calls were still up at the end of the window"
        if pages:
            established = sum([await p.evaluate("window.established") for p in pages])  # type: ignore[attr-defined]
            # More is possible: a page whose call dropped under load may take the caller again from the queue.
            assert established >= concurrent, f"{established} of {concurrent} browser calls had media"
        return max(0.0, busy - idle_percent), machine_busy
    finally:
        for extension in extensions:
            await admin.action("QueueRemove", Queue=queue, Interface=f"PJSIP/{extension}")
        await admin.command("channel request hangup all")
        await asyncio.gather(*calls)  # the calls still up at the window's end were checked above
        await phones.close_all()
        await asyncio.sleep(2.0)  # the hung-up channels are gone before the next level's idle share


async def run(quick: bool) -> Section:
    from playwright.async_api import async_playwright

    calls = 20 if quick else 100
    levels = [1, 5] if quick else [1, 5, 10, 20, 40]
    window = 4.0 if quick else 8.0
    with tempfile.TemporaryDirectory(prefix="cc-bench-phone-") as folder:
        settings = _settings(Path(folder), RING_AGENTS, max(levels))
        sandbox = Sandbox(settings, log=lambda line: None)
        status = await sandbox.up()
        admin = AmiClient(status.ami_host, status.ami_port, status.ami_admin_username, status.ami_admin_secret)
        await admin.connect()
        try:
            async with _page_server() as url, async_playwright() as playwright:
                phones = Phones(playwright, url, status, admin)
                latencies = await _ring_latency(phones, admin, calls)
                await phones.close_all()
                cpu: dict[tuple[str, int], tuple[float, float]] = {}
                unreached: tuple[str, int] | None = None
                for n in levels:
                    for kind in ("local", "ulaw", "opus"):
                        measured = await _cpu_per_call(phones, admin, status.pid, n, kind, window)
                        if measured is None:
                            unreached = (kind, n)
                            break
                        cpu[(kind, n)] = measured
                    if unreached:
                        break
                measured_levels = [n for n in levels if all((k, n) in cpu for k in ("local", "ulaw", "opus"))]
                assert measured_levels, f"not even {levels[0]} call at once was answered"
        finally:
            await admin.close()
            sandbox.down()
            sandbox.purge()
    section = Section(
        "Browser phone: ring latency and Asterisk CPU per call",
        f"The sandbox Asterisk 22 and headless Chromium on this machine. Ring latency: AgentCalled to the "
        f"INVITE in the page, {calls} calls (ms). CPU: Asterisk's share of one core per call in progress, over "
        f"{window:.0f} s with that many calls at once, its idle share taken off; the peer is the same call "
        "answered by a Local-channel phone (no RTP). The last column is how busy the whole machine was "
        "(the browsers run on it too): near 100 % Asterisk is starved and its figure per call is too low.",
        ["measure", "calls at once", "p50 / per call", "p95", "p99", "max", "mean", "machine busy"],
    )
    section.rows.append(["ring: AgentCalled → INVITE in the page (ms)", "1 per agent, 4 agents", *latency_cells(latencies), ""])
    for n in measured_levels:
        local = cpu[("local", n)][0] / n
        for kind, label in (("local", "Local phone (peer)"), ("ulaw", "browser, G.711"), ("opus", "browser, opus")):
            asterisk, machine = cpu[(kind, n)]
            ratio = "" if kind == "local" or local <= 0 else f" ({asterisk / n / local:.1f}× the peer)"
            section.rows.append([f"CPU % of a core per call: {label}", str(n), f"{asterisk / n:.2f}{ratio}", "", "", "", "", f"{machine:.0f} %"])
    unsaturated = [n for n in measured_levels if max(cpu[(k, n)][1] for k in ("ulaw", "opus")) < SATURATED]
    if unsaturated:
        n = max(unsaturated)
        opus, ulaw = (cpu[(kind, n)][0] / n for kind in ("opus", "ulaw"))
        section.notes.append(
            f"From {n} calls at once (the most this machine ran with the browsers beside Asterisk and below "
            f"{SATURATED} % busy), one Asterisk core carries about {int(100 / max(opus, 1e-6))} browser calls in opus "
            f"and {int(100 / max(ulaw, 1e-6))} in G.711; opus costs {opus / max(ulaw, 1e-6):.1f}× G.711 (encoding at 48 kHz)."
        )
    saturated = [n for n in measured_levels if n not in unsaturated]
    if saturated:
        section.notes.append(f"At {', '.join(map(str, saturated))} calls at once the machine was saturated: those rows understate Asterisk's cost.")
    if unreached:
        kind, n = unreached
        section.notes.append(
            f"{n} calls at once were not reached: this machine ({os.cpu_count()} cores, every browser on them beside "
            f"Asterisk) did not get {n} {kind} calls answered within a minute, so the higher levels were not run."
        )
    return section
