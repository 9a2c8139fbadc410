"""A fake osu! API v2 upstream and fake beatmap mirrors, served by uvicorn on 127.0.0.1.

The fetcher is tested against real sockets: the fake can be healthy, slow, answer garbage or
errors, reject tokens, and its mirrors can fail or serve the wrong bytes. Counters record
every request so tests can prove that a lookup went upstream exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.beatmap_data import fresh_id, make_osu, make_osz
from tests.conformance.live_server import bind_loopback


@dataclass
class FakeSet:
    """One upstream set: its JSON fields and its beatmaps' `.osu` bytes by id."""

    id: int
    status: str = "ranked"
    title: str = "Upstream Song"
    artist: str = "Upstream Artist"
    creator: str = "UpstreamMapper"
    user_id: int = 4242
    beatmaps: dict[int, bytes] = field(default_factory=dict)
    versions: dict[int, str] = field(default_factory=dict)
    last_updated: str = "2024-01-02T03:04:05+00:00"

    def beatmap_json(self, beatmap_id: int) -> dict[str, Any]:
        data = self.beatmaps[beatmap_id]
        return {
            "beatmapset_id": self.id,
            "difficulty_rating": 99.9,  # never trusted: stars come from our core
            "id": beatmap_id,
            "mode": "osu",
            "status": self.status,
            "total_length": 1,
            "user_id": self.user_id,
            "version": self.versions[beatmap_id],
            "checksum": hashlib.md5(data).hexdigest(),
            "max_combo": 123456,
            "last_updated": self.last_updated,
            "mode_int": 0,
        }

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "artist": self.artist,
            "artist_unicode": self.artist,
            "title": self.title,
            "title_unicode": self.title,
            "creator": self.creator,
            "user_id": self.user_id,
            "source": "fake source",
            "tags": "upstream tags",
            "status": self.status,
            "nsfw": False,
            "video": True,
            "storyboard": False,
            "submitted_date": "2023-05-06T07:08:09+00:00",
            "ranked_date": "2024-01-02T03:04:05+00:00"
            if self.status in ("ranked", "loved")
            else None,
            "last_updated": self.last_updated,
            "genre": {"id": 10, "name": "Electronic"},
            "language": {"id": 5, "name": "Instrumental"},
            "availability": {"download_disabled": False, "more_information": None},
            "beatmaps": [self.beatmap_json(i) for i in self.beatmaps],
        }


class FakeUpstream:
    """The fake server's state and behaviour switches (changed by tests at any time)."""

    def __init__(self) -> None:
        self.sets: dict[int, FakeSet] = {}
        self.hits: Counter[str] = Counter()
        # ok | slow | garbage | wrong_shape | invalid_values | error | token_garbage
        self.mode = "ok"
        self.delay = 3.0
        self.valid_tokens: set[str] = set()
        self.bad_mirror = "error"  # error | wrong_bytes | not_found
        self.url = ""
        # API content read through by the server (news, wiki, ...): JSON by path below /api/v2.
        self.content: dict[str, Any] = {}
        # GET tags: the beatmap tag list upstream answers ({"tags": tag_list}).
        self.tag_list: list[dict[str, Any]] = []

    def add_set(self, n_beatmaps: int = 2, **fields: Any) -> FakeSet:
        """A new upstream set with synthetic difficulties."""
        fake = FakeSet(id=fresh_id(), **fields)
        for i in range(n_beatmaps):
            beatmap_id = fresh_id()
            version = f"Upstream {i}"
            fake.beatmaps[beatmap_id] = make_osu(
                ("osu", "taiko")[i % 2],
                beatmap_id=beatmap_id,
                beatmapset_id=fake.id,
                title=fake.title,
                version=version,
                n_objects=30 + i,
            )
            fake.versions[beatmap_id] = version
        self.sets[fake.id] = fake
        return fake

    def change_beatmap(self, fake: FakeSet, beatmap_id: int) -> None:
        """The mapper updated a difficulty upstream: new bytes, new checksum."""
        fake.beatmaps[beatmap_id] = make_osu(
            beatmap_id=beatmap_id,
            beatmapset_id=fake.id,
            title=fake.title,
            version=fake.versions[beatmap_id],
            n_objects=77,
        )
        fake.last_updated = "2025-02-03T04:05:06+00:00"

    def revoke_tokens(self) -> None:
        """Make every issued token fail with 401 (upstream restarted, token expired)."""
        self.valid_tokens.clear()

    def _find(self, params: Any) -> tuple[FakeSet, int] | None:
        for fake in self.sets.values():
            for beatmap_id, data in fake.beatmaps.items():
                if (
                    params.get("id") == str(beatmap_id)
                    or params.get("checksum") == hashlib.md5(data).hexdigest()
                ):
                    return fake, beatmap_id
        return None

    async def _misbehave(self) -> Response | None:
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "garbage":
            return Response(b"<html>oops</html>", media_type="text/html")
        if self.mode == "wrong_shape":
            return JSONResponse([1, 2, 3])
        if self.mode == "error":
            return Response(b"", status_code=502)
        if self.mode == "invalid_values":  # well-formed JSON, impossible values
            return JSONResponse(
                {
                    "id": -4,
                    "beatmapset_id": 2**40,
                    "checksum": "../../etc/passwd",
                    "artist": "",
                    "title": "",
                    "beatmaps": [{"id": 0, "beatmapset_id": 1, "checksum": "zz"}],
                }
            )
        return None

    def _authorised(self, request: Request) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        return token in self.valid_tokens

    def app(self) -> Starlette:
        async def token(request: Request) -> Response:
            self.hits["token"] += 1
            form = await request.form()
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("client_secret") != "upstream-secret"
            ):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if self.mode == "token_garbage":
                return Response(b"not json at all")
            issued = secrets.token_hex(8)
            self.valid_tokens.add(issued)
            return JSONResponse(
                {"access_token": issued, "expires_in": 86400, "token_type": "Bearer"}
            )

        async def lookup(request: Request) -> Response:
            self.hits["lookup"] += 1
            if (bad := await self._misbehave()) is not None:
                return bad
            if not self._authorised(request):
                self.hits["401"] += 1
                return JSONResponse({"authentication": "basic"}, status_code=401)
            found = self._find(request.query_params)
            if found is None:
                return JSONResponse(
                    {"error": "Specified beatmap couldn't be found."}, status_code=404
                )
            fake, beatmap_id = found
            return JSONResponse({**fake.beatmap_json(beatmap_id), "beatmapset": {"id": fake.id}})

        async def beatmapset(request: Request) -> Response:
            self.hits["set"] += 1
            if (bad := await self._misbehave()) is not None:
                return bad
            if not self._authorised(request):
                return JSONResponse({"authentication": "basic"}, status_code=401)
            fake = self.sets.get(int(request.path_params["id"]))
            if fake is None:
                return JSONResponse({"error": "not found"}, status_code=404)
            return JSONResponse(fake.json())

        def beatmap_bytes(beatmap_id: int) -> bytes | None:
            for fake in self.sets.values():
                if beatmap_id in fake.beatmaps:
                    return fake.beatmaps[beatmap_id]
            return None

        async def bad_mirror(request: Request) -> Response:
            self.hits["bad_mirror"] += 1
            if self.bad_mirror == "wrong_bytes":
                return Response(make_osu(beatmap_id=1, beatmapset_id=1, title="impostor"))
            if self.bad_mirror == "not_found":
                return Response(b"", status_code=404)
            return Response(b"", status_code=500)

        async def good_mirror(request: Request) -> Response:
            self.hits["good_mirror"] += 1
            data = beatmap_bytes(int(request.path_params["id"]))
            return Response(data) if data is not None else Response(b"", status_code=404)

        async def bad_osz(request: Request) -> Response:
            self.hits["bad_osz"] += 1
            if self.bad_mirror == "wrong_bytes":  # another set's archive
                return Response(make_osz({"x.osu": make_osu(beatmap_id=2, beatmapset_id=2)}))
            if self.bad_mirror == "not_found":
                return Response(b"", status_code=404)
            return Response(b"", status_code=500)

        async def osz(request: Request) -> Response:
            self.hits["osz"] += 1
            fake = self.sets.get(int(request.path_params["id"]))
            if fake is None:
                return Response(b"", status_code=404)
            return Response(make_osz({f"{i}.osu": d for i, d in fake.beatmaps.items()}))

        async def tags(request: Request) -> Response:
            self.hits["tags"] += 1
            if (bad := await self._misbehave()) is not None:
                return bad
            if not self._authorised(request):
                return JSONResponse({"authentication": "basic"}, status_code=401)
            return JSONResponse({"tags": self.tag_list})

        async def content(request: Request) -> Response:
            self.hits["content"] += 1
            if (bad := await self._misbehave()) is not None:
                return bad
            if not self._authorised(request):
                return JSONResponse({"authentication": "basic"}, status_code=401)
            found = self.content.get(request.path_params["path"])
            if found is None:
                return JSONResponse({"error": "Not found"}, status_code=404)
            return JSONResponse({**found, "query": dict(request.query_params)})

        return Starlette(
            routes=[
                Route("/oauth/token", token, methods=["POST"]),
                Route("/api/v2/beatmaps/lookup", lookup),
                Route("/api/v2/beatmapsets/{id:int}", beatmapset),
                Route("/bad/osu/{id:int}", bad_mirror),
                Route("/good/osu/{id:int}", good_mirror),
                Route("/d/{id:int}", osz),
                Route("/bad/d/{id:int}", bad_osz),
                Route("/api/v2/tags", tags),
                Route("/api/v2/{path:path}", content),
            ]
        )


class ServedFake:
    """FakeUpstream under uvicorn on a loopback port, in a background thread."""

    def __init__(self, fake: FakeUpstream) -> None:
        self.fake = fake
        self._sock = bind_loopback()
        host, port = self._sock.getsockname()[:2]
        fake.url = f"http://{host}:{port}"
        config = uvicorn.Config(
            fake.app(),
            lifespan="off",
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])),
            name="fake-upstream",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("fake upstream did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()
