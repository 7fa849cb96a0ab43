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
    if (e.trigger) parts.push(`(${e.trigger})`);
    if (e.type === "sync_failed" && e.error) parts.push(`${e.error.phase}: ${e.error.message}`);
    if (e.schedule) parts.push(`every ${e.schedule.frequency_in_minutes} min`);
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
      watchAll(data);
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
    const again = button("reconnect", `reconnect-${source.id}`, source, source.status === "connected" ? "Edit" : "Finish setup");
    item.append(name, status, again);
    if (source.status === "connected" || source.status === "paused") item.append(syncPanel(source));
    return item;
  }

  function button(kind, testid, source, text) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = kind;
    b.dataset.testid = testid;
    b.dataset.sourceId = String(source.id);
    b.textContent = text;
    return b;
  }

  // ---- after connecting: is the data flowing? ---------------------------------------------
  const FREQUENCIES = [30, 60, 360, 720, 1440]; // the bridge's default end-user choices
  const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "");

  function syncPanel(source) {
    const sync = source.sync || { state: "never" };
    const schedule = source.schedule || {};
    const panel = document.createElement("div");
    panel.className = "sync";
    const last = document.createElement("span");
    last.className = `last-sync sync-${sync.state}`;
    last.dataset.testid = `last-sync-${source.id}`;
    last.dataset.state = sync.state;
    last.textContent = lastSyncText(sync);
    const next = document.createElement("span");
    next.className = "next-sync";
    next.dataset.testid = `next-sync-${source.id}`;
    next.textContent = source.paused_at ? `Paused since ${when(source.paused_at)}`
      : schedule.next_sync_at ? `Next sync: ${when(schedule.next_sync_at)}` : "No sync scheduled";
    const picker = document.createElement("select");
    picker.className = "schedule";
    picker.dataset.testid = `schedule-${source.id}`;
    picker.dataset.sourceId = String(source.id);
    picker.setAttribute("aria-label", "How often to sync");
    const choices = FREQUENCIES.includes(schedule.frequency_in_minutes) || !schedule.frequency_in_minutes
      ? FREQUENCIES : [schedule.frequency_in_minutes, ...FREQUENCIES];
    for (const minutes of choices) {
      const option = document.createElement("option");
      option.value = String(minutes);
      option.textContent = minutes < 60 ? `every ${minutes} min` : minutes === 1440 ? "daily" : `every ${minutes / 60} h`;
      option.selected = minutes === schedule.frequency_in_minutes;
      picker.append(option);
    }
    const now = button("sync-now", `sync-${source.id}`, source, sync.state === "running" ? "Syncing…" : "Sync now");
    now.disabled = sync.state === "running";
    const toggle = source.paused_at
      ? button("unpause", `unpause-${source.id}`, source, "Resume")
      : button("pause", `pause-${source.id}`, source, "Pause");
    panel.append(last, next, picker, now, toggle);
    return panel;
  }

  function lastSyncText(sync) {
    if (sync.state === "running") return `Syncing… started ${when(sync.started_at)}`;
    if (sync.state === "succeeded") return `Last sync: succeeded ${when(sync.completed_at)}`;
    if (sync.state === "failed") {
      const error = sync.error ? `: ${sync.error.message}` : "";
      return `Last sync: failed ${when(sync.completed_at)}${error}`;
    }
    return "Never synced";
  }

  // A newer view of one source (from the widget) redraws its row in place.
  function redraw(source) {
    const old = list.querySelector(`[data-testid="connection-${source.id}"]`);
    if (!old || source.status === "deleted") return;
    const focused = old.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
    const fresh = row(source);
    old.replaceWith(fresh);
    // Keyboard users stay where they were (the control may have changed, e.g. Pause → Resume).
    const again = focused && fresh.querySelector(`[data-testid="${focused}"]`);
    if (again) again.focus();
  }

  // The widget reports state changes of connected sources (and polls them only while they sync).
  const watching = new Map();
  function watchAll(sources) {
    const ids = new Set(sources.filter((s) => s.status === "connected" || s.status === "paused").map((s) => s.id));
    for (const [id, stop] of watching) if (!ids.has(id)) { stop(); watching.delete(id); }
    for (const id of ids) if (!watching.has(id)) watching.set(id, bridge.watch({ sourceId: id }));
  }

  async function act(work) {
    try {
      redraw(await work());
    } catch (err) {
      logEvent({ type: "error", code: err.code || "error", message: err.message });
      refresh(); // the row shows what is true again (a disabled "Sync now" comes back)
    }
  }

  function fetchSession(context) {
    const sourceId = context && context.sourceId;
    return api("POST", "/api/stitch-session", sourceId ? { source_id: sourceId } : {});
  }

  let bridge = null;
  function mount() {
    if (bridge) bridge.destroy();
    watching.clear(); // a destroyed widget watches nothing
    bridge = window.StitchBridge.create({
      bridgeUrl: body.dataset.bridgeUrl, fetchSession, container, mode: body.dataset.widgetMode || "auto",
      watchInterval: 2000,
    });
    bridge.on("event", (e) => {
      logEvent(e);
      if (["source_created", "connected", "cancelled", "step_completed"].includes(e.type)) refresh();
      else if (AFTER_EVENTS.has(e.type)) redraw(e.source);
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
  const AFTER_EVENTS = new Set(["sync_started", "sync_succeeded", "sync_failed", "paused", "unpaused", "schedule_changed"]);
  list.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target || !target.dataset.sourceId) return;
    const sourceId = Number(target.dataset.sourceId);
    if (target.classList.contains("reconnect")) bridge.reconnect({ sourceId }).catch(quiet);
    else if (target.classList.contains("sync-now")) {
      target.disabled = true;
      act(() => bridge.sync({ sourceId }));
    } else if (target.classList.contains("pause")) act(() => bridge.pause({ sourceId }));
    else if (target.classList.contains("unpause")) act(() => bridge.unpause({ sourceId }));
  });
  list.addEventListener("change", (event) => {
    const picker = event.target.closest("select.schedule");
    if (!picker) return;
    const frequencyInMinutes = Number(picker.value);
    act(() => bridge.setSchedule({ sourceId: Number(picker.dataset.sourceId), frequencyInMinutes }));
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
