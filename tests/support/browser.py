"""Debian's chromium driven by Playwright: one launch set-up for every browser test.

with chromium() as browser:
    page = browser.new_page()
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: Quiet, offline flags: no sandbox (root in CI), no GPU, no background network or updates.
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def require_tool(path_or_name: str | Path, package: str) -> None:
    """Fail (never skip) when a test tool that ``script/setup --dev`` installs is missing."""
    found = Path(path_or_name).exists() if "/" in str(path_or_name) else shutil.which(str(path_or_name))
    if not found:
        pytest.fail(f"{path_or_name} is missing: run script/setup --dev (Debian package {package})")


def fake_microphone_args(wav: Path) -> list[str]:
    """Flags that make chromium's microphone play ``wav`` (16-bit PCM) and allow autoplay."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
    ]


def launch(playwright: Any, *extra_args: str) -> Any:
    """Launch Debian chromium with ``BASE_ARGS`` plus ``extra_args`` (fails when chromium is missing)."""
    require_tool(CHROMIUM, "chromium")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*BASE_ARGS, *extra_args])


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """A running chromium (Playwright's sync API), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright, *extra_args)
        try:
            yield browser
        finally:
            browser.close()
