/* The bridge's white-label OAuth callback page: report the outcome to the window that opened
   it, at the exact origin the bridge recorded when OAuth started, then close. The page's data
   comes from data- attributes; it never holds a token or a code. */
"use strict";

(() => {
  // Redirect mode: go back to the SaaS page (the address carries only a single-use resume id).
  const back = document.getElementById("stitch-bridge-return");
  if (back) {
    const target = new URL(back.dataset.target, window.location.href);
    if (target.protocol === "https:" || target.protocol === "http:") window.location.replace(target.href);
    return;
  }
  const result = document.getElementById("stitch-bridge-oauth");
  if (!result) return;
  // The address carried the one-time code: keep it out of this window's history.
  try {
    window.history.replaceState(null, "", window.location.pathname);
  } catch (_) { /* history locked down: nothing else depends on it */ }
  const origin = result.dataset.origin;
  const opener = window.opener;
  if (!origin || !opener || opener.closed) return;
  const sourceId = Number(result.dataset.sourceId);
  const message = {
    type: result.dataset.type,
    outcome: result.dataset.outcome,
    source_id: Number.isInteger(sourceId) && sourceId > 0 ? sourceId : null,
    error: result.dataset.error || null,
  };
  try {
    opener.postMessage(message, origin);
  } catch (_) {
    return; // the opener moved to another origin: say nothing, stay open
  }
  window.close();
})();
