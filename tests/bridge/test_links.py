"""Hosted connect links over HTTP: creation, the return_url rule, and who may open a link.
(The whole flow in a browser is in tests/browser/test_hosted_links.py.)"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.bridge.conftest import APP_ORIGIN, Stack


def _link(stack: Stack, **body: object) -> httpx.Response:
    return stack.backend().post("/v1/connect-links", json={"end_user": {"id": "linked"}, **body})


def test_a_link_is_made_with_a_url_on_the_bridge_and_a_default_week(stack: Stack) -> None:
    response = _link(stack)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("cl_")
    assert body["url"].startswith(f"{stack.settings.public_url}/connect/")
    assert body["expires_at"]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/back",
        "//evil.example/back",
        "/relative/path",
        f"{APP_ORIGIN}@evil.example/back",
        "http://app.test\\@evil.example/",
        "http:/\\evil.example",
        "javascript:alert(1)",
        "data:text/html,hi",
        f"{APP_ORIGIN}:8443/back",
        f"{APP_ORIGIN.replace('http', 'https')}/back",
        f" {APP_ORIGIN}/back",
        f"{APP_ORIGIN}/back\r\nLocation: https://evil.example",
        "http://app.test.evil.example/",
        "http://evil.example#http://app.test/",
    ],
)
def test_every_open_redirect_form_of_return_url_is_refused(stack: Stack, url: str) -> None:
    response = _link(stack, return_url=url)
    assert response.status_code == 400, url
    assert response.json()["error"]["code"] == "invalid_request"
    assert "return_url" in response.json()["error"]["details"]["fields"]


def test_a_return_url_on_an_allowed_origin_is_accepted(stack: Stack) -> None:
    assert _link(stack, return_url=f"{APP_ORIGIN}/settings/data?tab=sources").status_code == 201


def test_expiry_bounds(stack: Stack) -> None:
    assert _link(stack, expires_in=2_592_001).status_code == 422
    assert _link(stack, expires_in=0).status_code == 422
    assert _link(stack, expires_in=2_592_000).status_code == 201


def test_the_first_browser_owns_the_link_and_others_learn_nothing(stack: Stack) -> None:
    url = _link(
        stack, end_user={"id": "secretive", "name": "Ada Lovelace", "email": "ada@x.test"}
    ).json()["url"]
    owner = httpx.Client()
    first = owner.get(url)
    assert first.status_code == 200
    assert 'data-testid="hosted-link"' in first.text
    assert "stitch_bridge_link" in first.headers["set-cookie"]
    assert (
        "HttpOnly" in first.headers["set-cookie"]
        and "SameSite=strict" in first.headers["set-cookie"]
    )
    assert "script-src 'self'" in first.headers["content-security-policy"]
    assert "unsafe-inline" not in first.headers["content-security-policy"]
    assert owner.get(url).status_code == 200  # the owner may reload
    path = url.split(stack.settings.public_url, 1)[1]
    session = owner.post(f"{stack.settings.public_url}{path}/session")
    assert session.status_code == 200 and session.json()["token"]

    other = httpx.get(url)
    assert other.status_code == 409
    assert re.search(r'data-testid="link-unavailable" data-reason="in_use"', other.text)
    for leak in ("secretive", "Ada", "ada@x.test"):
        assert leak not in other.text
    stolen = httpx.post(f"{stack.settings.public_url}{path}/session")
    assert stolen.status_code == 401
    owner.close()


def test_an_expired_or_unknown_link_says_so(stack: Stack) -> None:
    url = _link(stack, expires_in=60).json()["url"]
    stack.clock.advance(61)
    page = httpx.get(url)
    assert page.status_code == 410
    assert 'data-reason="expired"' in page.text
    unknown = httpx.get(f"{stack.settings.public_url}/connect/not-a-real-link")
    assert 'data-reason="expired"' in unknown.text


def test_a_link_for_another_users_source_cannot_be_made(stack: Stack) -> None:
    widget = stack.widget(end_user="owner")
    source_id = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"]["id"]
    response = _link(stack, end_user={"id": "intruder"}, source_id=source_id)
    assert response.json()["error"]["code"] == "source_not_found"


def test_completing_a_link_returns_to_the_saas_with_a_receipt_and_uses_it_up(stack: Stack) -> None:
    from tests.bridge.conftest import RECURLY_PROPERTIES

    url = _link(stack, end_user={"id": "finisher"}, return_url=f"{APP_ORIGIN}/done?x=1").json()[
        "url"
    ]
    path = url.split(stack.settings.public_url, 1)[1]
    owner = httpx.Client(base_url=stack.settings.public_url)
    assert owner.get(path).status_code == 200
    token = owner.post(f"{path}/session").json()["token"]
    widget = stack.widget(token=token)
    source = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    ).json()["source"]
    stack.advance(3)
    step = widget.get(f"/v1/sources/{source['id']}").json()["next_step"]
    widget.put(
        f"/v1/sources/{source['id']}/streams",
        json={"streams": [{"tap_stream_id": "accounts", "selected": True}]},
    ).raise_for_status()
    receipt = widget.post("/v1/steps/complete", json={"token": step["token"]}).json()["receipt"]

    done = owner.post(f"{path}/complete", json={"receipt": receipt})
    assert done.status_code == 200, done.text
    redirect = done.json()["redirect_url"]
    assert redirect.startswith(f"{APP_ORIGIN}/done?x=1&stitch_bridge_receipt=")
    verified = stack.backend().post(
        "/v1/receipts/verify", json={"receipt": redirect.split("stitch_bridge_receipt=")[1]}
    )
    assert verified.json()["end_user_id"] == "finisher"
    again = owner.get(path)
    assert again.status_code == 410 and 'data-reason="used"' in again.text
    assert owner.post(f"{path}/session").status_code == 401
    owner.close()
