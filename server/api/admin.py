"""Our admin API for moderation (osu-web has no public one): `/api/v2/admin/users/{user}/…`.

Needs a user token with the all-access scope (`*`: the password grant of a first-party or
operator client) whose account is an admin; moderators may restrict, silence, note and read
the history, only admins rename and change roles.
"""

from __future__ import annotations

from datetime import UTC

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import require_user
from server.http import JSONResponse, fail, read_fields, services
from server.models.moderation import AccountHistory, AccountHistoryEntry, ModeratedUser
from server.repositories.users import UserAccount
from server.services.moderation import (
    ROLES,
    Applied,
    Refused,
    RenameRejected,
    parse_duration,
)

_MODERATOR_ACTIONS = frozenset({"restrict", "unrestrict", "silence", "unsilence", "note"})
_ACTIONS = _MODERATOR_ACTIONS | {"rename"}


async def _actor(request: Request, admin_only: bool) -> UserAccount:
    _, actor = await require_user(request, "*")
    if not (actor.is_admin or (actor.is_moderator and not admin_only)):
        fail(403, "You are not allowed to do that.")
    return actor


async def _target(request: Request) -> UserAccount:
    raw = str(request.path_params["user"])
    users = services(request).users
    if raw.isdigit() and len(raw) <= 10:
        account = await users.by_id(int(raw))
    else:
        account = await users.by_username_with_history(raw.removeprefix("@"))
    if account is None:
        fail(404, "User not found! ;_;")
    return account


async def _shape(request: Request, applied: Applied) -> ModeratedUser:
    user = applied.user
    roles = [
        r
        for r, held in zip(ROLES, (user.is_admin, user.is_moderator, user.is_bot), strict=True)
        if held
    ]
    return ModeratedUser(
        id=user.id,
        username=user.username,
        is_restricted=user.is_restricted,
        silence_end_at=(
            user.silence_end_at.replace(tzinfo=UTC) if user.silence_end_at is not None else None
        ),
        roles=roles,
        previous_usernames=await services(request).users.previous_usernames(user.id),
        live=applied.live,
    )


async def moderate(request: Request) -> Response:
    """POST admin/users/{user}/{action}: restrict, unrestrict, silence (`duration`: seconds
    or 15m/12h/7d/2w), unsilence, note, rename (`username`); `reason` on each."""
    action = str(request.path_params["action"])
    if action not in _ACTIONS:
        fail(404, "Not found")
    actor = await _actor(request, admin_only=action not in _MODERATOR_ACTIONS)
    target = await _target(request)
    fields = await read_fields(request)
    reason = fields.get("reason", "").strip()
    moderation = services(request).moderation
    outcome: Applied | Refused | RenameRejected
    if action == "restrict":
        outcome = await moderation.restrict(target, actor.id, reason)
    elif action == "unrestrict":
        outcome = await moderation.unrestrict(target, actor.id, reason)
    elif action == "silence":
        seconds = parse_duration(fields.get("duration", ""))
        if seconds is None:
            fail(422, "duration is required: seconds, or a number with s, m, h, d or w.")
        outcome = await moderation.silence(target, actor.id, reason, seconds)
    elif action == "unsilence":
        outcome = await moderation.unsilence(target, actor.id, reason)
    elif action == "note":
        if not reason:
            fail(422, "reason is required.")
        outcome = await moderation.note(target, actor.id, reason)
    else:
        outcome = await moderation.rename(target, actor.id, fields.get("username", ""))
    if isinstance(outcome, Refused):
        fail(422, outcome.value)
    if isinstance(outcome, RenameRejected):
        fail(422, " ".join(outcome.errors))
    return JSONResponse(await _shape(request, outcome))


async def set_role(request: Request) -> Response:
    """PUT (grant) or DELETE (take away) admin/users/{user}/roles/{role}."""
    actor = await _actor(request, admin_only=True)
    role = str(request.path_params["role"])
    if role not in ROLES:
        fail(404, "Not found")
    target = await _target(request)
    held = request.method == "PUT"
    outcome = await services(request).moderation.set_role(target, actor.id, role, held)
    if isinstance(outcome, Refused):
        fail(422, outcome.value)
    return JSONResponse(await _shape(request, outcome))


async def account_history(request: Request) -> Response:
    """GET admin/users/{user}/history: every recorded action, newest first."""
    await _actor(request, admin_only=False)
    target = await _target(request)
    entries = await services(request).moderation.history(target.id)
    return JSONResponse(
        AccountHistory(
            [
                AccountHistoryEntry(
                    id=e.id,
                    action=e.action,
                    reason=e.reason,
                    period_seconds=e.period_seconds,
                    actor_id=e.actor_id,
                    created_at=e.created_at.replace(tzinfo=UTC),
                )
                for e in entries
            ]
        )
    )
