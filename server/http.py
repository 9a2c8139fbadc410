"""HTTP plumbing shared by every handler: JSON responses in osu-web's error shapes, request
body parsing in the three formats clients use, and the client IP. Request parameters and
bearer authentication are parsed in `server.api.params`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qsl

import msgspec
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope

if TYPE_CHECKING:
    from server.app import Services

_encoder = msgspec.json.Encoder()

# Multipart limits: lazer's forms are a handful of short fields.
MAX_FORM_FIELDS = 64
MAX_FORM_PART_BYTES = 64 * 1024


_JSON_TYPE = (b"content-type", b"application/json")


class JSONResponse(Response):
    """A response whose body msgspec encodes (Structs, dicts, lists)."""

    media_type = "application/json"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if headers is None and media_type is None and background is None and status_code == 200:
            # A handler's plain answer: the headers Response.init_headers would make, made
            # directly (content-length, then content-type).
            self.status_code = 200
            self.background = None
            body = self.body = _encoder.encode(content)
            self.raw_headers = [(b"content-length", b"%d" % len(body)), _JSON_TYPE]
            return
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)


class ApiError(Exception):
    """An expected failure that ends the request with an osu-web-shaped body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers

    def response(self) -> JSONResponse:
        """The response this error stands for."""
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def fail(status: int, message: str, headers: dict[str, str] | None = None) -> NoReturn:
    """End the request with osu-web's `{"error": message}` (lazer shows the message)."""
    raise ApiError(status, {"error": message}, headers)


def unauthenticated() -> NoReturn:
    """401 with the exact body osu-web sends and ossapi keys re-authentication off."""
    raise ApiError(401, {"authentication": "basic"})


def services(request: Request) -> Services:
    """The services the lifespan opened (typed access to request state).

    Read from the scope's state dict directly: `request.state` wraps it in a new object
    per request, and every handler asks several times."""
    return request.scope["state"]["services"]  # type: ignore[no-any-return]


def client_ip(request: Request, trusted_hops: int) -> str:
    """The client address, believing X-Forwarded-For only for `trusted_hops` proxies."""
    return scope_client_ip(request.scope, trusted_hops)


def scope_client_ip(scope: Scope, trusted_hops: int) -> str:
    """`client_ip` straight from an ASGI scope (the middleware has no Request).

    With N trusted proxies in front, the client is the Nth address from the right: entries
    further left were written by the client and can be forged (S-RL-3)."""
    client = scope.get("client")
    peer: str = client[0] if client else "unknown"
    if trusted_hops <= 0:
        return peer
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
    chain = [p.strip() for p in forwarded.decode("latin-1").split(",") if p.strip()]
    if len(chain) >= trusted_hops:
        return chain[-trusted_hops]
    return chain[0] if chain else peer


def _basic_credentials(request: Request) -> dict[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return {}
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return {}
    client_id, sep, secret = decoded.partition(":")
    return {"client_id": client_id, "client_secret": secret} if sep else {}


async def read_fields(request: Request) -> dict[str, str]:
    """The request's fields from multipart, urlencoded or JSON bodies (lazer sends multipart,
    requests-oauthlib urlencoded, aiosu JSON), plus query parameters; body fields win."""
    fields: dict[str, str] = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            if content_type == "application/x-www-form-urlencoded":
                text = (await request.body()).decode("utf-8", "replace")
                fields.update(parse_qsl(text, keep_blank_values=True))
            else:
                async with request.form(
                    max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_PART_BYTES
                ) as form:
                    for key, value in form.multi_items():
                        if isinstance(value, UploadFile):
                            fail(400, f"unexpected file upload in field {key!r}")
                        fields[key] = value
        elif content_type == "application/json":
            body = await request.body()
            if body.strip():
                data = msgspec.json.decode(body)
                if not isinstance(data, dict):
                    fail(400, "request body must be a JSON object")
                for key, value in data.items():
                    if isinstance(value, bool):  # JSON clients send flags (is_action) as bools
                        fields[str(key)] = "true" if value else "false"
                    elif isinstance(value, (str, int, float)):
                        fields[str(key)] = str(value)
    except (msgspec.DecodeError, RecursionError):  # msgspec: nested past ~1000 levels
        fail(400, "request body is not valid JSON")
    except MultiPartException as exc:
        fail(400, f"malformed form body: {exc.message}")
    except ClientDisconnect:
        raise
    except UnicodeDecodeError:
        fail(400, "request body is not valid UTF-8")
    return fields


async def read_field_lists(request: Request) -> dict[str, list[str]]:
    """Every value of every field, for requests with repeated or nested fields (lazer's
    `target_ids[]`, `channel[name]`). JSON lists become `key[]` and objects `key[sub]`,
    the names forms use. Call after read_fields (the body is parsed and cached there)."""
    fields: dict[str, list[str]] = {}

    def add(key: str, value: object) -> None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, (str, int, float)):
            fields.setdefault(key, []).append(str(value))

    for key, value in request.query_params.multi_items():
        add(key, value)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "multipart/form-data":
            for key, part in (await request.form()).multi_items():
                add(key, part)
        elif content_type == "application/x-www-form-urlencoded":
            text = (await request.body()).decode("utf-8", "replace")
            for key, value in parse_qsl(text, keep_blank_values=True):
                add(key, value)
        elif content_type == "application/json" and (body := await request.body()).strip():
            data = msgspec.json.decode(body)
            for key, value in data.items() if isinstance(data, dict) else ():
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        if isinstance(item, dict):  # lists of objects: key[0][sub]
                            for sub, leaf in item.items():
                                add(f"{key}[{index}][{sub}]", leaf)
                        else:
                            add(f"{key}[]", item)
                elif isinstance(value, dict):
                    for sub, item in value.items():
                        add(f"{key}[{sub}]", item)
                else:
                    add(str(key), value)
    except msgspec.DecodeError:
        fail(400, "request body is not valid JSON")
    return fields


async def read_token_fields(request: Request) -> dict[str, str]:
    """Token-request fields, taking client credentials from HTTP Basic when present."""
    fields = await read_fields(request)
    for key, value in _basic_credentials(request).items():
        fields.setdefault(key, value)
    return fields
