"""The consent page in a real headless Chromium (Debian's `chromium`), driven over the
DevTools protocol: sign in, see the consent form, authorize, land on the redirect with a
code. A screenshot of the consent form is kept as a test artefact (TEST_ARTIFACTS_DIR, else
the test's temporary directory). Skipped when no Chromium is installed."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import websockets

from tests.conformance.conftest import HTTP_TIMEOUT
from tests.conformance.live_server import LiveServer
from tests.conformance.test_oauth_authorization_code import _register_app
from tests.helpers import Account

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _DevTools:
    """A minimal DevTools-protocol session with one page."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        await self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await self._socket.recv())
            if message.get("id") == ident:
                assert "error" not in message, message
                return message.get("result", {})  # type: ignore[no-any-return]
            self.events.append(message)

    async def wait_for(self, method: str, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while True:
                if any(e.get("method") == method for e in self.events):
                    self.events.clear()
                    return
                self.events.append(json.loads(await self._socket.recv()))

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def act_and_load(self, expression: str) -> None:
        """Run `expression` (a click), then wait for the page it leads to."""
        self.events.clear()
        await self.evaluate(expression)
        await self.wait_for("Page.loadEventFired")


def _start_chromium(profile: Path) -> tuple[subprocess.Popen[bytes], str]:
    assert CHROMIUM is not None
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",  # the test may run as root in a container
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--window-size=900,700",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    for _ in range(300):
        if port_file.is_file() and port_file.read_text().strip():
            port = port_file.read_text().split()[0]
            break
        if process.poll() is not None:
            raise RuntimeError("chromium exited at start")
        time.sleep(0.05)
    else:
        process.kill()
        raise TimeoutError("chromium never opened its DevTools port")
    pages = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=HTTP_TIMEOUT).json()
    page = next(p for p in pages if p["type"] == "page")
    return process, str(page["webSocketDebuggerUrl"])


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (Debian package `chromium`)")
async def test_consent_page_in_headless_chromium(
    live_server: LiveServer, live_account: Account, tmp_path: Path
) -> None:
    redirect_uri = f"{live_server.url}/consent-landing"
    client_id, secret = _register_app(live_server, redirect_uri)
    authorize = (
        f"{live_server.url}/oauth/authorize?client_id={client_id}&response_type=code"
        f"&redirect_uri={redirect_uri}&scope=identify+public&state=browser"
    )
    process, endpoint = _start_chromium(tmp_path / "profile")
    try:
        async with websockets.connect(endpoint, max_size=32 << 20) as socket:
            page = _DevTools(socket)
            await page.call("Page.enable")
            await page.call("Page.navigate", url=authorize)
            await page.wait_for("Page.loadEventFired")
            assert "Sign in to continue to Conformance Site" in await page.evaluate(
                "document.querySelector('h1').textContent"
            )
            await page.act_and_load(
                f"document.getElementById('username').value = {json.dumps(live_account.username)};"
                f"document.getElementById('password').value = {json.dumps(live_account.password)};"
                "document.querySelector('button[value=login]').click()"
            )
            heading = await page.evaluate("document.querySelector('h1').textContent")
            assert heading == "Conformance Site wants to access your account"
            assert await page.evaluate("document.querySelectorAll('li').length") == 2
            shot = await page.call("Page.captureScreenshot", format="png")
            artefacts = Path(os.environ.get("TEST_ARTIFACTS_DIR") or tmp_path)
            artefacts.mkdir(parents=True, exist_ok=True)
            image = base64.b64decode(shot["data"])
            (artefacts / "oauth-consent.png").write_bytes(image)
            assert image.startswith(b"\x89PNG") and len(image) > 5000

            await page.act_and_load("document.querySelector('button[value=approve]').click()")
            landed = await page.evaluate("location.href")
    finally:
        process.kill()
        process.wait(10)
    assert landed.startswith(redirect_uri)
    answer = parse_qs(urlsplit(landed).query)
    assert answer["state"] == ["browser"]
    tokens = requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": str(client_id),
            "client_secret": secret,
        },
        timeout=HTTP_TIMEOUT,
    )
    assert tokens.status_code == 200, tokens.text
