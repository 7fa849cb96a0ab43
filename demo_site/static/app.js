/* Acme Analytics page script: lists the user's connections and embeds the stitch-bridge widget. */
"use strict";

(() => {
  const body = document.body;
  const userToken = document.querySelector('meta[name="acme-user"]').content;
  const list = document.querySelector('[data-testid="connections"]');
  const empty = document.querySelector(".empty");
  const events = document.querySelector('[data-testid="events"]');
  const buttons = Array.from(document.querySelectorAll("button.connect"));
  const container = document.getElementById("stitch-bridge-container");
  const sendLink = document.querySelector('[data-testid="send-link"]');
  const linkUrl = document.querySelector('[data-testid="link-url"]');

  async function api(method, path, payload) {
    const res = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", "X-Acme-User": userToken },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: "same-origin",
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || `HTTP ${res.status}`);
    return data;
  }

  function describe(e) {
    const parts = [e.type];
    if (e.step) parts.push(e.step);
    if (e.driver) parts.push(`(${e.driver})`);
    if (e.outcome) parts.push(e.outcome);
    if (e.mode) parts.push(`${e.mode} (${e.reason})`);
    if (e.source) parts.push(`source ${e.source.id} · ${e.source.status}`);
    if (e.receipt) parts.push("with receipt");
    if (e.code) parts.push(`${e.code}: ${e.message}`);
    return parts.join(" ");
  }

  function logEvent(e) {
    const item = document.createElement("li");
    item.dataset.type = e.type;
    item.textContent = describe(e);
    events.append(item);
    if ((e.type === "connected" || e.type === "link_completed") && e.receipt) verify(item, e.receipt);
  }

  // The page's word that a source connected is not proof; the backend checks the receipt.
  async function verify(item, receipt) {
    try {
      const answer = await api("POST", "/api/receipts", { receipt });
      item.dataset.receipt = answer.valid ? "valid" : "invalid";
    } catch (err) {
      item.dataset.receipt = "invalid";
    }
    item.textContent += item.dataset.receipt === "valid" ? " · verified by Acme" : " · receipt rejected";
  }

  let refreshing = null;
  async function refresh() {
    // One refresh at a time; a request during one runs once more after it.
    if (refreshing) {
      refreshing.again = true;
      return;
    }
    refreshing = { again: false };
    list.dataset.state = "loading";
    try {
      const { data } = await api("GET", "/api/connections");
      list.replaceChildren(...data.map(row));
      empty.hidden = data.length > 0;
    } catch (err) {
      logEvent({ type: "page_error", code: "connections", message: err.message });
    }
    const again = refreshing.again;
    refreshing = null;
    if (again) refresh();
    else list.dataset.state = "ready";
  }

  function row(source) {
    const item = document.createElement("li");
    item.className = "connection";
    item.dataset.testid = `connection-${source.id}`;
    item.dataset.status = source.status;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = source.display_name || source.name || source.type;
    const status = document.createElement("span");
    status.className = `status status-${source.status}`;
    status.textContent = source.status.replace("_", " ");
    const again = document.createElement("button");
    again.type = "button";
    again.className = "reconnect";
    again.dataset.testid = `reconnect-${source.id}`;
    again.dataset.sourceId = String(source.id);
    again.textContent = source.status === "connected" ? "Edit" : "Finish setup";
    item.append(name, status, again);
    return item;
  }

  function fetchSession(context) {
    const sourceId = context && context.sourceId;
    return api("POST", "/api/stitch-session", sourceId ? { source_id: sourceId } : {});
  }

  let bridge = null;
  function mount() {
    if (bridge) bridge.destroy();
    bridge = window.StitchBridge.create({
      bridgeUrl: body.dataset.bridgeUrl, fetchSession, container, mode: body.dataset.widgetMode || "auto",
    });
    bridge.on("event", (e) => {
      logEvent(e);
      if (["source_created", "connected", "cancelled", "step_completed"].includes(e.type)) refresh();
    });
    const mine = bridge;
    mine.ready.then(() => {
      if (mine === bridge) for (const button of buttons) button.disabled = false;
    });
    return bridge;
  }

  // The widget's errors arrive as events too; the promise outcome needs no second report.
  const quiet = () => {};
  for (const button of buttons) {
    button.addEventListener("click", () => bridge.connect({ type: button.dataset.type }).catch(quiet));
  }
  list.addEventListener("click", (event) => {
    const target = event.target.closest("button.reconnect");
    if (target) bridge.reconnect({ sourceId: Number(target.dataset.sourceId) }).catch(quiet);
  });

  // A hosted link finished on this device comes back here with its receipt, once.
  function linkReturn() {
    const url = new URL(window.location.href);
    const receipt = url.searchParams.get("stitch_bridge_receipt");
    if (!receipt) return;
    url.searchParams.delete("stitch_bridge_receipt");
    window.history.replaceState(window.history.state, "", url.href);
    logEvent({ type: "link_completed", receipt });
  }

  sendLink.addEventListener("click", async () => {
    sendLink.disabled = true;
    try {
      const link = await api("POST", "/api/connect-link", {});
      linkUrl.href = link.url;
      linkUrl.textContent = link.url;
      linkUrl.closest(".link-box").hidden = false;
      logEvent({ type: "link_sent" });
    } catch (err) {
      logEvent({ type: "page_error", code: "connect_link", message: err.message });
    }
    sendLink.disabled = false;
  });

  // For people poking at the demo (and its tests): remount or reach the widget instance.
  window.acmeDemo = { mount, get bridge() { return bridge; } };
  mount();
  linkReturn();
  // Back from a redirect-mode step (the address carries a resume id): finish that flow.
  bridge.resume().catch(quiet);
  refresh();
})();
