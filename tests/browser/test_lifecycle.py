"""The widget's life in a page: destroy leaves nothing, create/destroy/create makes one flow,
loading the script twice is harmless, and messages from the wrong window or origin are ignored."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver, event_types, popups

pytestmark = pytest.mark.browser

# Counts the event listeners alive in the page: added minus removed, by (target, type, fn, capture).
LISTENER_PROBE = """
(() => {
  const live = new WeakMap();
  let count = 0;
  const key = (type, fn, options) => {
    const capture = typeof options === "boolean" ? options : Boolean(options && options.capture);
    return `${type}|${capture}`;
  };
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    if (fn) {
      if (!live.has(this)) live.set(this, new Map());
      const byKey = live.get(this);
      const k = key(type, fn, options);
      if (!byKey.has(k)) byKey.set(k, new Set());
      if (!byKey.get(k).has(fn)) { byKey.get(k).add(fn); count += 1; }
    }
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    const byKey = live.get(this);
    const set = byKey && byKey.get(key(type, fn, options));
    if (set && set.delete(fn)) count -= 1;
    return remove.call(this, type, fn, options);
  };
  window.__listeners = () => count;
})();
"""

PROBE_WIDGET = """
async (type) => {
  const container = document.createElement("div");
  container.id = "probe";
  document.body.append(container);
  window.__probe = StitchBridge.create({
    bridgeUrl: document.body.dataset.bridgeUrl,
    container,
    fetchSession: (ctx) => fetch("/api/stitch-session", {
      method: "POST",
      headers: {"Content-Type": "application/json",
                "X-Acme-User": document.querySelector('meta[name="acme-user"]').content},
      body: JSON.stringify(ctx && ctx.sourceId ? {source_id: ctx.sourceId} : {}),
    }).then((r) => r.json()),
  });
  await window.__probe.ready;
  window.__probeOutcome = null;
  window.__probe.connect({type}).then(
    () => { window.__probeOutcome = "resolved"; },
    (err) => { window.__probeOutcome = err.name; });
}
"""


@pytest.mark.parametrize("driver", ["native", "stitchjs"])
def test_destroy_mid_flow_removes_every_listener_and_element(
    stacks: Any, demo_for: Any, user: str, shots: Any, driver: str
) -> None:
    demo = demo_for(stacks(driver))
    demo.context.add_init_script(LISTENER_PROBE)
    page = demo.open(user)
    page.evaluate("window.acmeDemo.bridge.destroy()")
    before = page.evaluate(
        "({listeners: __listeners(), nodes: document.querySelectorAll('*').length})"
    )

    page.evaluate(PROBE_WIDGET, "platform.recurly")
    probe = page.locator("#probe").get_by_test_id("stitch-bridge")
    if driver == "native":
        expect(probe.get_by_test_id("property-api_key")).to_be_visible()
    else:
        expect(probe).to_be_visible()
        assert len(popups(page)) == 1
    shots.take(page, "mid-flow")
    assert page.evaluate("__listeners()") > before["listeners"]

    page.evaluate("window.__probe.destroy(); document.getElementById('probe').remove()")
    expect(page.locator('[data-testid="stitch-bridge"]')).to_have_count(0)
    assert page.evaluate("window.__probeOutcome") == "CancelledError"
    assert popups(page) == []
    # Stitch.js lets go of its own listener when its next poll finds the window closed.
    # (Polled from here: the page's CSP forbids the eval that wait_for_function would use.)
    for _ in range(50):
        if page.evaluate("__listeners()") == before["listeners"]:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("__listeners()") == before["listeners"]
    assert page.evaluate("document.querySelectorAll('*').length") == before["nodes"]
    assert page.locator("link[data-stitch-bridge], script[data-stitch-bridge]").count() == 0


def test_create_destroy_create_makes_one_flow(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("stitchjs"))
    page = demo.open(user)
    # What React's StrictMode does to an effect: mount, unmount, mount again, at once.
    page.evaluate("window.acmeDemo.mount(); window.acmeDemo.mount();")
    expect(page.locator("button.connect").first).to_be_enabled()
    expect(page.locator('[data-testid="stitch-bridge"]')).to_have_count(1)
    with page.expect_popup():
        page.get_by_test_id("connect-platform.recurly").click()
    page.wait_for_timeout(500)
    assert len(popups(page)) == 1
    Driver(page, SPECS["platform.recurly"], shots).run()
    assert event_types(page).count("connected") == 1
    assert event_types(page).count("source_created") == 1
    assert len(demo.sources(user)) == 1


def test_loading_the_script_twice_keeps_one_stitch_bridge(
    stacks: Any, demo_for: Any, user: str
) -> None:
    demo = demo_for(stacks("native"))
    page = demo.open(user)
    same = page.evaluate(
        """async () => {
            const first = window.StitchBridge;
            const tag = document.createElement("script");
            tag.src = document.body.dataset.bridgeUrl + "/widget.js";
            await new Promise((resolve, reject) => {
                tag.onload = resolve; tag.onerror = reject; document.head.append(tag);
            });
            return window.StitchBridge === first;
        }"""
    )
    assert same is True


def test_messages_from_other_windows_do_not_settle_a_stitch_step(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("stitchjs")
    demo = demo_for(stack)
    page = demo.open(user)
    with page.expect_popup() as opened:
        page.get_by_test_id("connect-platform.recurly").click()
    popup = opened.value
    expect(popup.get_by_test_id("property-api_key")).to_be_visible()

    # A window of another origin, and the page itself, claim the flow completed.
    page.evaluate(
        "window.postMessage({type: 'integrationFlowCompleted', data: {id: 1}}, window.location.origin)"
    )
    with page.expect_popup() as forged:
        page.evaluate(f"window.__forger = window.open({stack.bridge_url + '/healthz'!r})")
    forged.value.wait_for_load_state()
    # The forger names the page's origin exactly: an attacker knows where the SaaS lives.
    forged.value.evaluate(
        "(origin) => window.opener.postMessage("
        "{type: 'integrationFlowCompleted', data: {id: 1}}, origin)",
        stack.demo_url,
    )
    forged.value.close()
    page.wait_for_timeout(800)
    assert "step_completed" not in event_types(page)
    assert not popup.is_closed()

    Driver(page, SPECS["platform.recurly"], shots).run()
    assert len(demo.sources(user)) == 1
