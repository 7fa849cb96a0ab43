"use strict";
// The page a hosted connect link opens: the widget's own UI on the bridge's origin, fed by a
// session the link's cookie pays for. Nothing here is secret; the link page holds no token.
(() => {
  const root = document.querySelector("[data-testid=hosted-link]");
  if (!root || !window.StitchBridge) return;
  const path = root.dataset.linkPath;
  const sourceId = Number(root.dataset.sourceId || 0);
  const status = root.querySelector("[data-testid=link-status]");
  const types = root.querySelector("[data-testid=link-types]");

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((data.error && data.error.message) || `HTTP ${response.status}`);
      error.code = data.error && data.error.code;
      throw error;
    }
    return data;
  }

  const fetchSession = () => post(`${path}/session`);
  // Popups only: redirect mode comes back to a return_url on BRIDGE_ALLOWED_ORIGINS, which this
  // page (on the bridge's own origin) is not.
  const bridge = window.StitchBridge.create({
    bridgeUrl: root.dataset.bridgeUrl, fetchSession, mode: "popup", redirectFallback: false,
  });

  function say(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  async function finish(result) {
    say("Connected. Finishing…", "finishing");
    const done = await post(`${path}/complete`, { receipt: result.receipt });
    types.replaceChildren();
    if (done.redirect_url) {
      say("Connected. Taking you back…", "done");
      window.location.assign(done.redirect_url);
    } else {
      say("Connected. You can close this page.", "done");
    }
  }

  function run(start) {
    say("", "running");
    start().then(finish, (error) => {
      if (error && error.name === "CancelledError") say("Cancelled. Choose a source to try again.", "idle");
      else say((error && error.message) || "Something went wrong. Try again.", "error");
    });
  }

  function button(label, testid, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.testid = testid;
    b.addEventListener("click", onClick);
    return b;
  }

  // Opening the page claims nothing (link previews and mail scanners fetch it first); this
  // script, running in the person's browser, claims it. Refused (another browser holds it, or it
  // was just used or expired): reload once, and the server's page says which.
  async function claim() {
    const retried = `stitch-bridge-claim-retried:${path}`;
    try {
      await post(`${path}/claim`);
      sessionStorage.removeItem(retried);
      return true;
    } catch (error) {
      if (error.code !== "unauthorized" || sessionStorage.getItem(retried)) throw error;
      sessionStorage.setItem(retried, "1");
      window.location.reload();
      return false;
    }
  }

  async function render() {
    if (!(await claim())) return;
    if (sourceId) {
      types.append(button("Reconnect", `reconnect-${sourceId}`, () => run(() => bridge.reconnect({ sourceId }))));
      return;
    }
    const session = await fetchSession();
    const response = await fetch(`${root.dataset.bridgeUrl}/v1/source-types`, {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    const data = await response.json();
    for (const type of data.data || []) {
      types.append(
        button(`Connect ${type.display_name}`, `connect-${type.type}`, () => run(() => bridge.connect({ type: type.type }))),
      );
    }
  }

  render().catch(() => say("This link could not be loaded. Try again later.", "error"));
})();
