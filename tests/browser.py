"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator

from tests.conftest import unavailable

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking switches Chromium keeps trying hosts this closed network refuses.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@contextlib.asynccontextmanager
async def chromium(locale: str = "en-US") -> AsyncIterator:  # type: ignore[type-arg]
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e .[test])")
    if shutil.which(CHROMIUM) is None:
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = await browser.new_context(locale=locale)
        try:
            yield await context.new_page()
        finally:
            await context.close()
            await browser.close()
