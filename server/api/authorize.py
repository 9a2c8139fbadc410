"""`/oauth/authorize`: the sign-in and consent page of the authorization-code grant.

Server-rendered HTML that works without JavaScript: a sign-in form when the browser has no
session, then a consent form naming the app and the scopes it asks for, with Approve and
Deny. Every form carries a CSRF token bound to the session cookie; the page may not be
framed. The form re-sends the original request's parameters, which are checked again.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.http import client_ip, read_fields, services
from server.services.limits import LimiterUnavailable
from server.services.oauth_apps import (
    SCOPE_TEXT,
    AuthorizeInvalid,
    AuthorizeRedirect,
    AuthorizeRequest,
)
from server.services.web_sessions import COOKIE, WebSession

_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # No form-action: browsers apply it to the redirect back to the app as well.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#2a2226;color:#fff;margin:0}"
    "main{max-width:26rem;margin:4rem auto;padding:2rem;background:#382e32;border-radius:.6rem}"
    "h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}"
    "input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}"
    "button{font-size:1rem;padding:.6rem 1.2rem;margin:1rem .5rem 0 0;cursor:pointer}"
    ".approve{background:#66ccff;border:0}.error{color:#ff8a80}"
    "ul{padding-left:1.2rem}a{color:#66ccff}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _hidden(params: dict[str, str], csrf: str) -> str:
    fields = [f'<input type="hidden" name="_csrf" value="{html.escape(csrf)}">']
    for name in _PARAMS:
        if name in params:
            fields.append(
                f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
            )
    return "".join(fields)


def _sign_in_page(
    params: dict[str, str], request: AuthorizeRequest, csrf: str, error: str | None = None
) -> HTMLResponse:
    app = html.escape(request.client.name)
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return _page(
        "Sign in",
        f"<h1>Sign in to continue to {app}</h1>{alert}"
        '<form method="post" action="/oauth/authorize">'
        f"{_hidden(params, csrf)}"
        '<label for="username">Username</label>'
        '<input id="username" name="username" autocomplete="username" required autofocus>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<button class="approve" type="submit" name="action" value="login">Sign in</button>'
        "</form>",
        422 if error else 200,
    )


def _consent_page(
    params: dict[str, str], request: AuthorizeRequest, session: WebSession, csrf: str
) -> HTMLResponse:
    assert session.user is not None
    scopes = "".join(
        f"<li>{html.escape(SCOPE_TEXT.get(scope, scope))}</li>" for scope in request.scopes
    )
    app = html.escape(request.client.name)
    return _page(
        f"Authorize {request.client.name}",
        f"<h1>{app} wants to access your account</h1>"
        f"<p>Signed in as <strong>{html.escape(session.user.username)}</strong>.</p>"
        f"<p>{app} will be able to:</p><ul>{scopes}</ul>"
        '<form method="post" action="/oauth/authorize">'
        f"{_hidden(params, csrf)}"
        '<button class="approve" type="submit" name="action" value="approve">Authorize</button>'
        '<button type="submit" name="action" value="deny">Cancel</button>'
        "</form>",
    )


def _with_cookie(response: Response, request: Request, cookie: str | None) -> Response:
    if cookie is not None:
        response.set_cookie(
            COOKIE,
            cookie,
            httponly=True,
            samesite="lax",
            secure=services(request).web_sessions.secure,
            path="/oauth",
        )
    return response


async def _session(request: Request) -> tuple[WebSession, str | None]:
    """The browser's session, or a new signed-out one (with the cookie to set)."""
    svc = services(request)
    session = await svc.web_sessions.read(request.cookies.get(COOKIE), svc.users)
    if session is not None:
        return session, None
    cookie = svc.web_sessions.issue(None)
    return WebSession(svc.web_sessions.nonce_of(cookie), None), cookie


async def _checked(params: dict[str, str], request: Request) -> AuthorizeRequest | Response:
    outcome = await services(request).apps.check_authorize(params)
    if isinstance(outcome, AuthorizeInvalid):
        return _page(
            "Authorization error",
            f'<h1>This request cannot be authorized</h1><p role="alert">'
            f"{html.escape(outcome.message)}</p>",
            400,
        )
    if isinstance(outcome, AuthorizeRedirect):
        return RedirectResponse(outcome.url, status_code=302, headers=_HEADERS)
    return outcome


async def authorize(request: Request) -> Response:
    """GET oauth/authorize: sign in if needed, then ask for consent."""
    params = dict(parse_qsl(request.url.query, keep_blank_values=True))
    checked = await _checked(params, request)
    if isinstance(checked, Response):
        return checked
    session, cookie = await _session(request)
    csrf = services(request).web_sessions.csrf(session)
    if session.user is None:
        return _with_cookie(_sign_in_page(params, checked, csrf), request, cookie)
    return _with_cookie(_consent_page(params, checked, session, csrf), request, cookie)


async def decide(request: Request) -> Response:
    """POST oauth/authorize (`action`: login, approve or deny) and DELETE (deny, as
    Passport): the forms of the page."""
    svc = services(request)
    fields = await read_fields(request)
    params = {name: fields[name] for name in _PARAMS if name in fields}
    checked = await _checked(params, request)
    if isinstance(checked, Response):
        return checked
    session = await svc.web_sessions.read(request.cookies.get(COOKIE), svc.users)
    if session is None or not svc.web_sessions.csrf_ok(session, fields.get("_csrf")):
        return _page(
            "Session expired",
            "<h1>Your session expired</h1><p>Go back and reload the page to try again.</p>",
            403,
        )
    action = "deny" if request.method == "DELETE" else fields.get("action", "")
    if action == "login":
        return await _sign_in(request, params, checked, session, fields)
    if action == "deny":
        return RedirectResponse(svc.apps.deny(checked).url, status_code=302, headers=_HEADERS)
    if action != "approve" or session.user is None:
        return _sign_in_page(params, checked, svc.web_sessions.csrf(session))
    try:
        answer = await svc.apps.approve(checked, session.user.id)
    except LimiterUnavailable:
        return _page("Try again", "<h1>Please try again in a moment.</h1>", 503)
    return RedirectResponse(answer.url, status_code=302, headers=_HEADERS)


async def _sign_in(
    request: Request,
    params: dict[str, str],
    checked: AuthorizeRequest,
    session: WebSession,
    fields: dict[str, str],
) -> Response:
    svc = services(request)
    csrf = svc.web_sessions.csrf(session)
    username, password = fields.get("username", ""), fields.get("password", "")
    ip = client_ip(request, svc.settings.trusted_proxy_hops)
    try:
        if await svc.oauth.guard.is_locked(ip, username):
            return _sign_in_page(
                params, checked, csrf, "Too many failed sign-in attempts. Try again later."
            )
        user = await svc.accounts.check_credentials(username, password) if username else None
        if user is None:
            await svc.oauth.guard.record_failure(ip, username, password)
            return _sign_in_page(params, checked, csrf, "Incorrect sign in")
        await svc.oauth.guard.record_success(ip, username)
    except LimiterUnavailable:
        return _page("Try again", "<h1>Please try again in a moment.</h1>", 503)
    # A new session (and nonce) on sign-in; then back to the consent page (POST-redirect-GET).
    response = RedirectResponse(
        "/oauth/authorize?" + urlencode(params), status_code=303, headers=_HEADERS
    )
    return _with_cookie(response, request, svc.web_sessions.issue(user))
