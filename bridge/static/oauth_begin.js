/* The bridge's OAuth popup page: it takes the attempt's ticket from the window that opened it,
   by postMessage, and posts it to the bridge with that window's origin as the browser reported
   it. The bridge binds this browser to the attempt only when that origin is the one that started
   the step, so the page is useless opened from anywhere else or from a forwarded address. */
"use strict";

(() => {
  const form = document.getElementById("stitch-bridge-begin");
  const status = document.getElementById("stitch-bridge-begin-status");
  const opener = window.opener;
  if (!form) return;
  if (!opener || opener.closed) {
    if (status) status.textContent = "Start signing in from the page you were connecting on.";
    return;
  }
  let sent = false;
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (sent || event.source !== opener || !data || data.type !== "stitch-bridge:oauth-ticket") return;
    if (typeof data.ticket !== "string" || !data.ticket) return;
    sent = true;
    form.elements.ticket.value = data.ticket;
    form.elements.opener_origin.value = event.origin;
    form.submit();
  });
  // Nothing secret: it only asks the opener for the ticket, which the opener sends to this
  // origin alone. Said to the origin the bridge named when the step started (never to any
  // origin): opened from anywhere else, nobody hears it.
  let target = null;
  try {
    target = new URL(new URLSearchParams(window.location.search).get("opener") || "").origin;
  } catch (_) {
    target = null;
  }
  if (!target || target === "null") {
    if (status) status.textContent = "Start signing in from the page you were connecting on.";
    return;
  }
  opener.postMessage({ type: "stitch-bridge:oauth-ready" }, target);
})();
