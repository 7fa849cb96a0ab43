"""OAuth callback pages, served on the bridge's origin: partner OAuth and white-label OAuth.

The pages hold no token and no code, run no inline script (the provider page loads
`/oauth/callback.js`, reading its data from `data-` attributes), and send no Referer, so the
one-time code in their own address goes nowhere.
"""

from __future__ import annotations

import html
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bridge.api.common import services_of
from bridge.links import with_query
from bridge.oauth import (
    MESSAGE_TYPE,
    PROVIDER_CALLBACK_PATH,
    STITCH_CALLBACK_PATH,
    CallbackResult,
    finish_provider_oauth,
)
from bridge.partner_oauth import finish_partner_oauth
from bridge.resume import create_resume_point

SCRIPT = "oauth_callback.js"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; base-uri 'none'; form-action {form_action}; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # A popup: its opener must keep the window handle and hear from it (CONTRACT §8).
    "Cross-Origin-Opener-Policy": "unsafe-none",
}
MESSAGES = {
    "access_denied": "Access was not granted.",
    "state_invalid": "This sign-in link is not valid.",
    "state_expired": "This sign-in took too long.",
    "state_used": "This sign-in was already used.",
    "exchange_failed": "The sign-in could not be confirmed with the provider.",
    "incomplete_grant": "The provider did not grant everything the connection needs.",
    "upstream_error": "The connection could not be saved.",
    "account_taken": "That Stitch account is already linked elsewhere.",
    "tenant_not_found": "This account is no longer known.",
    "browser_mismatch": (
        "This sign-in was started in another browser and can only finish there."
        " Nothing was connected."
    ),
}


def _query(request: Request) -> dict[str, str]:
    # A repeated parameter is ambiguous: keep none of it rather than guess.
    items = request.query_params.multi_items()
    counts: dict[str, int] = {}
    for key, _ in items:
        counts[key] = counts.get(key, 0) + 1
    return {key: value for key, value in items if counts[key] == 1}


def page(
    title: str,
    body: str,
    *,
    status: int,
    head: str = "",
    referrer: str = "no-referrer",
    form_action: str = "'none'",
) -> HTMLResponse:
    """A bridge page of the OAuth round trip: no inline script, not framed, not cached."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="referrer" content="{referrer}">'
        f"<title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>"
    )
    headers = {
        **PAGE_HEADERS,
        "Content-Security-Policy": PAGE_CSP.format(form_action=form_action),
        "Referrer-Policy": referrer,
    }
    return HTMLResponse(document, status_code=status, headers=headers)


def _explain(result: CallbackResult) -> str:
    if result.ok:
        return "You can close this window."
    reason = MESSAGES.get(result.error or "", "Something went wrong.")
    if result.error == "browser_mismatch":
        return reason  # trying again here cannot help
    return f"{reason} Close this window and try again."


async def stitch_callback(request: Request) -> Response:
    result = await finish_partner_oauth(services_of(request), _query(request), request.cookies)
    title = "Stitch account linked" if result.ok else "Stitch account not linked"
    body = (
        f'<main data-testid="tenant-link" data-outcome="{"linked" if result.ok else "failed"}" '
        f'data-tenant="{html.escape(result.tenant or "")}" '
        f'data-error="{html.escape(result.error or "")}">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(_explain(result))}</p></main>"
    )
    return page(title, body, status=200 if result.ok else 400)


async def provider_callback(request: Request) -> Response:
    services = services_of(request)
    result = await finish_provider_oauth(
        services, _query(request), request.cookies, transport=services.transport
    )
    if result.return_url and result.source_id is not None and result.end_user_id:
        # Redirect mode: back to the SaaS page with an opaque, single-use resume id only.
        resume_id = await create_resume_point(
            services,
            tenant=result.tenant,
            end_user_id=result.end_user_id,
            source_id=result.source_id,
            step="oauth",
            outcome="completed" if result.ok else "failed",
            error=result.error,
        )
        target = with_query(result.return_url, {"stitch_bridge_resume": resume_id})
        # A page that navigates on, not a 303: the provider's consent form may restrict where a
        # form submission may end up (CSP form-action), and a redirect chain counts; a fresh
        # navigation from this page does not. The target holds only the resume id.
        body = (
            f'<main id="stitch-bridge-return" data-testid="oauth-return" '
            f'data-target="{html.escape(target)}"><h1>Signed in</h1>'
            f'<p><a href="{html.escape(target)}">Continue</a></p></main>'
        )
        head = (
            f'<meta http-equiv="refresh" content="0;url={html.escape(target)}">'
            f'<script src="/oauth/{SCRIPT}" defer></script>'
        )
        return page("Signed in", body, status=200, head=head)
    title = "Connected" if result.ok else "Not connected"
    attributes = {
        "id": "stitch-bridge-oauth",
        "data-testid": "oauth-result",
        "data-type": MESSAGE_TYPE,
        "data-outcome": "completed" if result.ok else "failed",
        "data-error": result.error or "",
        "data-origin": result.origin or "",
        "data-source-id": str(result.source_id or ""),
    }
    rendered = " ".join(f'{name}="{html.escape(value)}"' for name, value in attributes.items())
    body = f"<main {rendered}><h1>{html.escape(title)}</h1><p>{html.escape(_explain(result))}</p></main>"
    script = f'<script src="/oauth/{SCRIPT}" defer></script>'
    # A person saying "no" at the provider is a normal outcome, not a bad request: the page
    # reports it with 200 (a 400 would log a console error in the popup).
    ok_status = result.ok or result.error == "access_denied"
    return page(title, body, status=200 if ok_status else 400, head=script)


async def callback_script(request: Request) -> Response:
    body = (resources.files("bridge") / "static" / SCRIPT).read_bytes()
    return Response(
        body, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"}
    )


routes = [
    Route(STITCH_CALLBACK_PATH, stitch_callback, methods=["GET"]),
    Route(PROVIDER_CALLBACK_PATH, provider_callback, methods=["GET"]),
    Route(f"/oauth/{SCRIPT}", callback_script, methods=["GET"]),
]
