"""What a hub is made of: allowlisted methods with fixed argument types, and their results.

A hub declares each client-callable method with the lazer type names of its arguments
(the Rust codec's names, e.g. "long?", "SpectatorState"); nothing else can be invoked
(reliability.md S-RT-4). Handlers return values, never raise for expected failures: `None`
for a void method, `Returned` for a result, `HubFailure` for an error the client may see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from server.core import CoreError
from server.core import msgpack as codec

if TYPE_CHECKING:
    from server.hubs.connection import HubConnection


class Returned(msgspec.Struct, frozen=True):
    """A method's result, already encoded as its lazer type."""

    value: bytes


class HubFailure(msgspec.Struct, frozen=True):
    """A deliberate, user-facing error (the official server's InvalidStateException etc.)."""

    message: str
    exception: str = "InvalidStateException"


HubResult = Returned | HubFailure | None
Handler = Callable[["HubConnection", list[Any]], Awaitable[HubResult]]
RawHandler = Callable[["HubConnection", bytes], Awaitable[HubResult]]


class HubMethod(msgspec.Struct, frozen=True):
    """One allowlisted method: argument types (empty: none) and its handler.

    A `raw` handler gets the whole hub message instead of decoded arguments (the frame relay
    validates and splices it in the Rust core without decoding). With `models` (one msgspec
    type per argument, e.g. a Struct from `server.models.multiplayer`), the arguments arrive
    as those types instead of plain dicts; a value that does not fit is a binding error.
    """

    arg_types: tuple[str, ...]
    handler: Handler | None = None
    raw: RawHandler | None = None
    models: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if self.models is not None and len(self.models) != len(self.arg_types):
            raise ValueError("HubMethod needs one model per argument type")


class Hub(Protocol):
    """A hub: its path name, its methods, and what happens on connect and disconnect."""

    name: str
    methods: Mapping[str, HubMethod]

    async def on_connected(self, connection: HubConnection) -> None: ...

    async def on_disconnected(self, connection: HubConnection) -> None: ...


class BadArguments(Exception):
    """The arguments do not bind to the method's signature (error completion, connection kept)."""


def bind_arguments(method: HubMethod, payload: bytes | None) -> list[Any]:
    """Decode an invocation's argument array by the method's types."""
    data = payload or b"\x90"
    count = data[0] - 0x90 if 0x90 <= data[0] <= 0x9F else -1
    expected = len(method.arg_types)
    if count != expected:
        raise BadArguments(
            f"Invocation provides {count} argument(s) but target expects {expected}."
            if count >= 0
            else "Error binding arguments."
        )
    if expected == 0:
        return []
    try:
        if method.models is not None:
            return _bind_models(method, data)
        if expected == 1:
            return [codec.decode(method.arg_types[0], data[1:])]
        value = codec.decode(",".join(method.arg_types), data)
    except CoreError as exc:
        raise BadArguments(
            "Error binding arguments. Make sure that the types of the provided values match "
            "the types of the hub method being invoked."
        ) from exc
    assert isinstance(value, list)
    return value


def _bind_models(method: HubMethod, data: bytes) -> list[Any]:
    assert method.models is not None
    if len(method.arg_types) == 1:
        return [codec.decode_as(method.arg_types[0], data[1:], method.models[0])]
    shape: Any = tuple.__class_getitem__(method.models)  # tuple[T1, T2, ...]
    values: tuple[Any, ...] = codec.decode_as(",".join(method.arg_types), data, shape)
    return list(values)


# .NET exceptions that are not HubExceptions: ASP.NET Core sends the client no detail of
# them (the official server does not enable detailed errors), so neither do we.
_WITHHELD_EXCEPTIONS: Final = frozenset({"InvalidOperationException", "ArgumentException"})


def failure_text(target: str, failure: HubFailure) -> str:
    """The official server's HubException text; lazer shows what follows the first colon.
    A refusal the official server raises as a plain .NET exception reaches the client
    without its text, as there."""
    if failure.exception in _WITHHELD_EXCEPTIONS:
        return unexpected_text(target)
    return (
        f"An unexpected error occurred invoking '{target}' on the server. "
        f"{failure.exception}: {failure.message}"
    )


def unexpected_text(target: str) -> str:
    """An internal error, without its detail (reliability.md S-RT-5)."""
    return f"An unexpected error occurred invoking '{target}' on the server."


def binding_text(target: str, detail: str) -> str:
    """ASP.NET Core's text when arguments do not bind."""
    return (
        f"Failed to invoke '{target}' due to an error on the server. InvalidDataException: {detail}"
    )


def unknown_method_text(target: str) -> str:
    """ASP.NET Core's text for a method the hub does not have."""
    return (
        f"Failed to invoke '{target}' due to an error on the server. "
        "HubException: Method does not exist."
    )
