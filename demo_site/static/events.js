/* Acme Analytics events page script: pages through the user's bridge events (newest first, by
   cursor, so events that arrive meanwhile never shift a page) and asks for redeliveries. */
"use strict";

(() => {
  const body = document.body;
  const userToken = document.querySelector('meta[name="acme-user"]').content;
  const list = document.querySelector('[data-testid="events-list"]');
  const empty = document.querySelector(".empty");
  const problem = document.querySelector(".page-error");
  const next = document.querySelector('[data-testid="events-next"]');
  const first = document.querySelector('[data-testid="events-first"]');
  const pageSize = Number(body.dataset.pageSize) || 10;
  const REDELIVERY_WAIT_MS = 15000;

  async function api(method, path) {
    const res = await fetch(path, {
      method,
      headers: { "X-Acme-User": userToken },
      credentials: "same-origin",
      cache: "no-store",
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || `HTTP ${res.status}`);
    return data;
  }

  function describe(event) {
    const source = (event.data && event.data.source) || {};
    const parts = [event.type, event.created_at];
    if (source.id) parts.push(`source ${source.id}${source.status ? ` · ${source.status}` : ""}`);
    return parts.join(" · ");
  }

  function setDeliveries(item, count) {
    item.dataset.deliveries = String(count);
    let text = "not delivered yet";
    if (count === 1) text = "delivered once, signature verified";
    else if (count > 1) text = `delivered ${count} times, signatures verified`;
    item.querySelector(".deliveries").textContent = text;
  }

  function row(event) {
    const item = document.createElement("li");
    item.className = "event";
    item.dataset.type = event.type;
    item.dataset.eventId = event.id;
    const text = document.createElement("span");
    text.className = "what";
    text.textContent = describe(event);
    const deliveries = document.createElement("span");
    deliveries.className = "deliveries";
    const again = document.createElement("button");
    again.type = "button";
    again.dataset.testid = `redeliver-${event.id}`;
    again.textContent = "Redeliver";
    again.addEventListener("click", () => redeliver(item, again));
    item.append(text, deliveries, again);
    setDeliveries(item, event.deliveries || 0);
    return item;
  }

  // The bridge queues the same event again; its arrival shows as one more verified delivery.
  async function redeliver(item, button) {
    const before = Number(item.dataset.deliveries) || 0;
    const id = item.dataset.eventId;
    button.disabled = true;
    item.dataset.redelivery = "queued";
    try {
      await api("POST", `/api/events/${encodeURIComponent(id)}/redeliver`);
      const until = Date.now() + REDELIVERY_WAIT_MS;
      while (Date.now() < until) {
        const now = await api("GET", `/api/events/${encodeURIComponent(id)}`);
        if (now.deliveries > before) {
          setDeliveries(item, now.deliveries);
          item.dataset.redelivery = "delivered";
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      item.dataset.redelivery = "pending";
    } catch (err) {
      item.dataset.redelivery = "failed";
      problem.textContent = err.message;
      problem.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  let cursor = null; // the last event id shown: the next page starts after it
  let page = 1;
  async function load(startingAfter) {
    list.dataset.state = "loading";
    next.disabled = true;
    first.disabled = true;
    problem.hidden = true;
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (startingAfter) query.set("starting_after", startingAfter);
    try {
      const answer = await api("GET", `/api/events?${query}`);
      list.replaceChildren(...answer.data.map(row));
      cursor = answer.data.length ? answer.data[answer.data.length - 1].id : null;
      empty.hidden = answer.data.length > 0 || Boolean(startingAfter);
      next.disabled = !(answer.has_more && cursor);
    } catch (err) {
      problem.textContent = err.message;
      problem.hidden = false;
    }
    first.disabled = page === 1;
    list.dataset.page = String(page);
    list.dataset.state = "ready";
  }

  next.addEventListener("click", () => {
    page += 1;
    load(cursor);
  });
  first.addEventListener("click", () => {
    page = 1;
    load(null);
  });
  load(null);
})();
