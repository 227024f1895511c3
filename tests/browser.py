"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator

from crm.demo_data import DEMO_PASSWORD
from tests.conftest import unavailable

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking switches Chromium keeps trying hosts this closed network refuses.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


# A browser phone in a test: the microphone and camera are Chromium's fakes, granted without asking,
# the sandbox's self-signed certificate is accepted, and sounds play without a click first.
PHONE_ARGS = (
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--ignore-certificate-errors",
    "--autoplay-policy=no-user-gesture-required",
)  # fmt: skip


@contextlib.asynccontextmanager
async def chromium(
    locale: str = "en-US", args: tuple[str, ...] = (), color_scheme: str = "light", viewport: tuple[int, int] = (1280, 720)
) -> AsyncIterator:  # type: ignore[type-arg]
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e .[test])")
    if shutil.which(CHROMIUM) is None:
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *args], headless=True)
        context = await browser.new_context(
            locale=locale, color_scheme=color_scheme, viewport={"width": viewport[0], "height": viewport[1]}
        )
        try:
            yield await context.new_page()
        finally:
            await context.close()
            await browser.close()


async def log_in(page, url: str, username: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    """Open the page at ``url``, log in as a demo user and wait until ``shown`` (its main view) is."""
    await page.goto(url)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector(f"{shown}:not([hidden])", timeout=10_000)
