"""Where a browser binds itself to an OAuth attempt before it is sent to consent.

`POST /v1/oauth/begin` takes the attempt's ticket as a form field, from a top-level form POST
(redirect mode, or the SaaS's admin page for partner OAuth) or from the bridge's own popup page
`/oauth/begin`, which receives the ticket from its opener by postMessage. Its answer sets the
binding cookie and then navigates on to the consent page (a page, not a 303, like the callback's
return page: a form's CSP `form-action` would otherwise govern the provider's address too).
"""

from __future__ import annotations

import html
from importlib import resources
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.api.common import services_of
from bridge.api.oauth import SCRIPT, page
from bridge.errors import BridgeError
from bridge.oauth_binding import (
    BEGIN_PATH,
    COOKIE_PATH,
    POPUP_PATH,
    Binding,
    bind_browser,
    requesting_origin,
)

BEGIN_SCRIPT = "begin.js"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELD = 4096
REFUSALS = {
    "origin_not_allowed": "This sign-in can only be started from the page that asked for it.",
    "token_used": "This sign-in was already started. Go back and start again.",
    "token_expired": "This sign-in took too long. Go back and start again.",
}


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
        raise BridgeError("invalid_request", f"the body must be {FORM_TYPE}")
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        if name in fields or len(value) > MAX_FIELD:
            raise BridgeError("invalid_request", f"the field {name!r} is not valid")
        fields[name] = value
    return fields


def _refused(error: BridgeError) -> Response:
    reason = REFUSALS.get(error.code, "This sign-in link is not valid. Go back and start again.")
    body = (
        f'<main id="stitch-bridge-oauth" data-testid="oauth-result" data-outcome="failed" '
        f'data-error="{html.escape(error.code)}"><h1>Not connected</h1>'
        f"<p>{html.escape(reason)}</p></main>"
    )
    return page("Not connected", body, status=error.status)


def _onward(binding: Binding) -> Response:
    target = html.escape(binding.consent_url)
    body = (
        f'<main id="stitch-bridge-return" data-testid="oauth-begin" data-target="{target}">'
        f'<h1>Signing in…</h1><p><a href="{target}">Continue</a></p></main>'
    )
    head = (
        f'<meta http-equiv="refresh" content="0;url={target}">'
        f'<script src="/oauth/{SCRIPT}" defer></script>'
    )
    response = page("Signing in", body, status=200, head=head)
    response.set_cookie(
        binding.cookie_name,
        binding.cookie_value,
        max_age=binding.max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=binding.secure,
        samesite="lax",  # sent on the provider's top-level redirect back to the callback
    )
    return response


async def begin(request: Request) -> Response:
    services = services_of(request)
    try:
        fields = await _form(request)
        origin = requesting_origin(
            services.settings, request.headers.get("origin"), fields.get("opener_origin")
        )
        binding = await bind_browser(services, fields.get("ticket"), origin)
    except BridgeError as error:
        return _refused(error)
    return _onward(binding)


async def popup_page(request: Request) -> Response:
    body = (
        '<main data-testid="oauth-begin"><h1>Signing in…</h1>'
        '<p id="stitch-bridge-begin-status">Waiting for the page that opened this window.</p>'
        f'<form id="stitch-bridge-begin" method="post" action="{BEGIN_PATH}">'
        '<input type="hidden" name="ticket"><input type="hidden" name="opener_origin"></form>'
        "</main>"
    )
    head = f'<script src="/oauth/{BEGIN_SCRIPT}" defer></script>'
    # Its form posts here, with this page's own Origin (no-referrer would send "null").
    return page(
        "Signing in", body, status=200, head=head, referrer="same-origin", form_action="'self'"
    )


async def popup_script(request: Request) -> Response:
    script = (resources.files("bridge") / "static" / "oauth_begin.js").read_bytes()
    return Response(
        script, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"}
    )


routes = [
    Route(BEGIN_PATH, begin, methods=["POST"]),
    Route(POPUP_PATH, popup_page, methods=["GET"]),
    Route(f"/oauth/{BEGIN_SCRIPT}", popup_script, methods=["GET"]),
]
