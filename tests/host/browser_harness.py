"""Headless Chromium for browser tests: Playwright (PyPI) driving Debian's ``chromium``.

Never ``playwright install``: Playwright's own browser downloads cannot reach this network.
`launch_chromium` skips the test with the reason when Playwright or ``/usr/bin/chromium`` is
missing. Playwright gives every launch a fresh, empty profile (its ``--user-data-dir``).
The flags are the ones this machine needs as root in a closed network: without the
background-networking ones Chromium's own connections are refused, many at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = os.environ.get("FLOWSEARCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 800}
# Console errors the pinned front end (1.27.10 on ComfyUI 0.3.64) shows on every page load
# with no custom node at all (checked with --disable-all-custom-nodes): 404s for optional
# files of a fresh install, and a settings bug (the canvas navigation setting's change
# handler sets another setting before it is registered). Anything else is ours.
KNOWN_FRONT_END_ERRORS = (
    re.compile(
        r"^Failed to load resource: the server responded with a status of 404 \(Not Found\) "
        r"\(https?://[^/]+/(user\.css|favicon\.ico|api/userdata/user\.css"
        r"|api/userdata/comfy\.templates\.json|api/userdata\?dir=(workflows|subgraphs%2F)&\S*)"
        r":\d+\)$"
    ),
    re.compile(
        r"^uncaught: Cannot read properties of undefined \(reading 'id'\)\n.*\baddSetting\b",
        re.DOTALL,
    ),
)


@contextmanager
def launch_chromium(executable: str = CHROMIUM) -> Iterator[Any]:
    """A headless Playwright ``Browser`` on ``executable``; skips when it cannot run."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: `pip install playwright` in the host venv")
    if not os.access(executable, os.X_OK):
        pytest.skip(f"no Chromium at {executable}: `apt-get install chromium` (Debian)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
            )
        except Error as error:
            pytest.skip(f"Chromium at {executable} did not start under Playwright: {error}")
        try:
            yield browser
        finally:
            browser.close()


def is_known_front_end_error(entry: str) -> bool:
    return any(pattern.search(entry) for pattern in KNOWN_FRONT_END_ERRORS)


@contextmanager
def open_page(browser: Any) -> Iterator[Any]:
    """A page in a fresh context, recording as they happen:

    - ``page.console_errors``: console ``error`` messages (``"<text> (<url>:<line>)"``) and
      uncaught exceptions (``"uncaught: <message>\\n<stack>"``), minus
      `KNOWN_FRONT_END_ERRORS`;
    - ``page.all_console_errors``: all of them.
    """
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    everything: list[str] = []

    def record(entry: str) -> None:
        everything.append(entry)
        if not is_known_front_end_error(entry):
            errors.append(entry)

    def on_console(message: Any) -> None:
        if message.type == "error":
            where = message.location or {}
            record(f"{message.text} ({where.get('url', '?')}:{where.get('lineNumber', '?')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: record(f"uncaught: {error.message}\n{error.stack}"))
    page.console_errors = errors
    page.all_console_errors = everything
    try:
        yield page
    finally:
        context.close()


def wait_for_comfy_app(page: Any, timeout_ms: float = 60_000) -> None:
    """Wait until the ComfyUI front end has booted: ``window.app.graph`` exists and the node
    definitions are registered with LiteGraph."""
    page.wait_for_function(
        "() => window.app && window.app.graph && window.LiteGraph"
        " && Object.keys(window.LiteGraph.registered_node_types || {}).length > 100",
        timeout=timeout_ms,
    )


def queue_from_page(page: Any, prompt: dict) -> str:
    """``POST /prompt`` from the page with the page's own websocket client id, so the
    server's progress and custom events for this prompt go to this page; the prompt id."""
    answer = page.evaluate(
        """async (prompt) => {
            const api = window.app.api
            const response = await fetch(api.apiURL('/prompt'), {
                method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({prompt, client_id: api.clientId}),
            })
            return {status: response.status, body: await response.json()}
        }""",
        prompt,
    )
    if answer["status"] != 200:
        raise AssertionError(
            f"POST /prompt from the page answered {answer['status']}: {answer['body']}"
        )
    return answer["body"]["prompt_id"]


def record_socket_events(page: Any, types: tuple[str, ...] = ("executing", "progress")) -> None:
    """Start keeping the server's websocket events of ``types`` (the front end's
    ``api`` event bus) in ``window.__flowsearchEvents`` as ``{type, detail}``; read them
    with ``page.evaluate("() => window.__flowsearchEvents")``."""
    page.evaluate(
        """(types) => {
            window.__flowsearchEvents = []
            for (const type of types) {
                window.app.api.addEventListener(type, (event) =>
                    window.__flowsearchEvents.push({type, detail: event.detail}))
            }
        }""",
        list(types),
    )
