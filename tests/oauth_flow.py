"""Driving the consent page as a browser does (forms, cookies), for OAuth app tests."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token of the page's form."""
    found = _CSRF.search(page)
    assert found, page
    return found.group(1)


def hidden_fields(page: str) -> dict[str, str]:
    """Every hidden input of the page's form."""
    import html

    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in pairs}


def query_of(url: str) -> dict[str, str]:
    """A redirect's query parameters."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def authorize_url(client_id: int, redirect_uri: str, **extra: str) -> str:
    """`/oauth/authorize` with the usual parameters."""
    params = {"client_id": str(client_id), "redirect_uri": redirect_uri, "response_type": "code"}
    return "/oauth/authorize?" + urlencode({**params, **extra})


async def approve_in_browser(
    browser: httpx.AsyncClient, url: str, username: str, password: str
) -> httpx.Response:
    """Open the page, sign in, approve; the final response (a redirect to the app)."""
    page = await browser.get(url)
    assert page.status_code == 200, page.text
    fields = hidden_fields(page.text)
    signed_in = await browser.post(
        "/oauth/authorize",
        data={**fields, "action": "login", "username": username, "password": password},
    )
    assert signed_in.status_code == 303, signed_in.text
    consent = await browser.get(signed_in.headers["location"])
    assert consent.status_code == 200 and 'value="approve"' in consent.text, consent.text
    return await browser.post(
        "/oauth/authorize", data={**hidden_fields(consent.text), "action": "approve"}
    )
