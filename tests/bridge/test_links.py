"""Hosted connect links over HTTP: creation, the return_url rule, and who may claim a link.
(The whole flow in a browser is in tests/browser/test_hosted_links.py.)"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

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


class Browser:
    """What the link page's script does in one browser: its own cookie jar, the bridge's Origin."""

    def __init__(self, stack: Stack, url: str) -> None:
        self.path = url.split(stack.settings.public_url, 1)[1]
        self.client = stack.http({"Origin": stack.settings.public_url})

    def open(self) -> httpx.Response:
        return self.client.get(self.path)

    def claim(self) -> httpx.Response:
        return self.client.post(f"{self.path}/claim")

    def session(self) -> httpx.Response:
        return self.client.post(f"{self.path}/session")


def _assert_in_use(page: httpx.Response, *private: str) -> None:
    assert page.status_code == 409
    assert re.search(r'data-testid="link-unavailable" data-reason="in_use"', page.text)
    assert 'data-testid="hosted-link"' not in page.text
    for leak in private:
        assert leak not in page.text, leak


def test_fetching_a_link_claims_nothing_so_previews_do_not_kill_it(stack: Stack) -> None:
    url = _link(stack).json()["url"]
    head = stack.http().head(url)  # `curl -I`
    assert head.status_code == 200 and head.content == b""
    assert "set-cookie" not in head.headers
    preview = stack.http().get(url, headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})
    assert preview.status_code == 200 and 'data-testid="hosted-link"' in preview.text
    assert "set-cookie" not in preview.headers
    assert "script-src 'self'" in preview.headers["content-security-policy"]
    assert "unsafe-inline" not in preview.headers["content-security-policy"]

    person = Browser(stack, url)
    assert person.open().status_code == 200
    claimed = person.claim()
    assert claimed.status_code == 200, claimed.text
    cookie = claimed.headers["set-cookie"]
    assert "stitch_bridge_link" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert person.session().json()["token"]


def test_a_claimed_link_is_in_use_for_any_other_browser_which_learns_nothing(
    stack: Stack,
) -> None:
    url = _link(
        stack, end_user={"id": "secretive", "name": "Ada Lovelace", "email": "ada@x.test"}
    ).json()["url"]
    owner = Browser(stack, url)
    assert owner.claim().status_code == 200
    assert owner.open().status_code == 200  # the owner may reload
    assert owner.claim().status_code == 200 and "set-cookie" not in owner.claim().headers

    other = Browser(stack, url)
    _assert_in_use(other.open(), "secretive", "Ada", "ada@x.test")
    refused = other.claim()
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert "set-cookie" not in refused.headers
    assert other.session().status_code == 401
    assert owner.session().status_code == 200


@pytest.mark.parametrize("origin", [None, APP_ORIGIN, "null"])
def test_only_the_links_own_page_may_claim_it(stack: Stack, origin: str | None) -> None:
    url = _link(stack).json()["url"]
    headers = {"Origin": origin} if origin else {}
    refused = stack.http().post(f"{url}/claim", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    assert "set-cookie" not in refused.headers
    assert Browser(stack, url).claim().status_code == 200  # still free for the person


def test_an_idle_claim_lapses_and_another_browser_may_take_the_link_over(stack: Stack) -> None:
    url = _link(stack).json()["url"]
    laptop, phone = Browser(stack, url), Browser(stack, url)
    assert laptop.claim().status_code == 200
    stack.clock.advance(25 * 60)
    assert laptop.session().status_code == 200  # activity keeps the claim
    stack.clock.advance(25 * 60)
    _assert_in_use(phone.open())
    assert phone.claim().status_code == 401

    stack.clock.advance(6 * 60)  # 31 minutes since the laptop last did anything
    assert phone.open().status_code == 200
    assert phone.claim().status_code == 200
    assert phone.session().status_code == 200
    assert laptop.session().status_code == 401  # the laptop lost it
    _assert_in_use(laptop.open())


def test_a_lapsed_claim_nobody_took_is_still_the_owners(stack: Stack) -> None:
    url = _link(stack).json()["url"]
    owner = Browser(stack, url)
    assert owner.claim().status_code == 200
    stack.clock.advance(3 * 3600)
    assert owner.session().status_code == 200
    _assert_in_use(Browser(stack, url).open())  # and its use made the claim fresh again


def test_of_browsers_claiming_at_once_exactly_one_wins(stack: Stack) -> None:
    url = _link(stack).json()["url"]
    browsers = [Browser(stack, url) for _ in range(8)]
    barrier = threading.Barrier(len(browsers))

    def claim(browser: Browser) -> int:
        barrier.wait(timeout=30)
        return browser.claim().status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = list(pool.map(claim, browsers))
    assert sorted(statuses) == [200] + [401] * (len(browsers) - 1)
    winners = [b for b, status in zip(browsers, statuses, strict=True) if status == 200]
    assert [b.session().status_code for b in browsers].count(200) == 1
    assert winners[0].session().status_code == 200


def test_an_expired_or_unknown_link_says_so(stack: Stack) -> None:
    url = _link(stack, expires_in=60).json()["url"]
    stack.clock.advance(61)
    page = stack.http().get(url)
    assert page.status_code == 410
    assert 'data-reason="expired"' in page.text
    unknown = stack.http().get(f"{stack.settings.public_url}/connect/not-a-real-link")
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
    browser = Browser(stack, url)
    path, owner = browser.path, browser.client
    assert browser.open().status_code == 200
    assert browser.claim().status_code == 200
    token = browser.session().json()["token"]
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
    assert browser.claim().status_code == 401
    assert Browser(stack, url).open().status_code == 410  # used for everyone


@pytest.mark.parametrize("bridge_overrides", [{"public_url": "https://bridge.example"}])
def test_on_https_the_claim_cookie_is_secure(stack: Stack) -> None:
    url = _link(stack).json()["url"]
    path = url.removeprefix("https://bridge.example")
    claimed = stack.http().post(f"{path}/claim", headers={"Origin": "https://bridge.example"})
    assert claimed.status_code == 200, claimed.text
    cookie = claimed.headers["set-cookie"]
    assert "Secure" in cookie and f"Path={path}" in cookie
