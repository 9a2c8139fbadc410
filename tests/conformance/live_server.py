"""The real app under uvicorn on a loopback socket, in a background thread.

Conformance clients (requests-oauthlib, ossapi) speak real HTTP, so they need a socket rather
than an in-process transport. The server thread runs its own event loop; `call` runs a
coroutine on that loop against the live app's services (to register an OAuth client, say),
because database and Redis connections belong to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

import uvicorn

from server.app import create_app
from server.repositories.oauth import OAuthRepository
from server.settings import Settings

if TYPE_CHECKING:
    from server.app import Services

T = TypeVar("T")


def bind_loopback() -> socket.socket:
    """A listening TCP socket on 127.0.0.1 with a free port chosen by the kernel."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@dataclass(frozen=True)
class ThirdPartyClient:
    """A registered OAuth client for the client credentials grant."""

    id: int
    secret: str


class LiveServer:
    """create_app(settings) served by uvicorn (lifespan on) on an already bound socket."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self._sock = sock
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        # Same protocol choices as `python -m server serve`; logging is left to pytest.
        config = uvicorn.Config(
            create_app(settings),
            lifespan="on",
            proxy_headers=False,
            access_log=False,
            log_config=None,
        )
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)

    def _run(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await self._server.serve(sockets=[self._sock])

        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported by start()/stop() in the test thread
            self._error = exc

    def start(self, timeout: float = 15.0) -> None:
        """Start serving; return once the lifespan has run and the socket accepts."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"live server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self._server.should_exit = True
                raise TimeoutError(f"live server did not start within {timeout} s")
            time.sleep(0.02)

    def stop(self, timeout: float = 15.0) -> None:
        """Shut down gracefully (lifespan shutdown closes the database and Redis)."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()
        if self._thread.is_alive():
            raise TimeoutError(f"live server did not stop within {timeout} s")
        if self._error is not None:
            raise RuntimeError("live server thread failed") from self._error

    @property
    def services(self) -> Services:
        """The services the live app's lifespan built."""
        return self._server.lifespan.state["services"]  # type: ignore[no-any-return]

    def call(self, action: Callable[[Services], Awaitable[T]], timeout: float = 15.0) -> T:
        """Run `action(services)` on the server's event loop and return its result."""
        assert self._loop is not None, "live server not started"

        async def run() -> T:
            return await action(self.services)

        future: Future[T] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(timeout)

    def register_client(self, name: str) -> ThirdPartyClient:
        """Register a third-party OAuth client, as `python -m server oauth-client add` does."""
        secret = secrets.token_urlsafe(30)

        async def add(svc: Services) -> int:
            repo = OAuthRepository(svc.db)
            async with svc.db.transaction():
                client_id = await repo.add_client(
                    name=name,
                    owner_user_id=None,
                    password_client=False,
                    now=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                )
                await repo.add_secret(client_id, hashlib.sha256(secret.encode()).hexdigest())
            return client_id

        return ThirdPartyClient(self.call(add), secret)
