/* Stitch Bridge widget, served by the bridge at /widget.js (CONTRACT §6).
   Lets an end user connect a data source from the host page: Stitch.js popups or the bridge's own
   form, OAuth, connection check and stream picker. Plain script: no build step, no inline script or
   style, no eval, so it runs under a strict Content-Security-Policy.
   The bridge assembles bridge/static/widget/*.js in the order of bridge/assets.py WIDGET_PARTS
   inside one strict IIFE; this part: the guard, shared constants, error classes, DOM helpers */

  // Loaded twice (two tags, a re-injected bundle): keep the first copy, so error classes stay one.
  if (window.StitchBridge && window.StitchBridge.version) return;

  const VERSION = "1";
  const MODES = new Set(["auto", "popup", "redirect"]);
  const STEP_WORDS = {
    form: "enter the connection settings",
    oauth: "sign in and allow access",
    discover_schema: "check the connection",
    field_selection: "choose what to sync",
  };

  class StitchBridgeError extends Error {
    constructor(message, code, details) {
      super(message);
      this.code = code;
      this.details = details || {};
    }
  }
  class PopupBlockedError extends StitchBridgeError {
    constructor(message) {
      super(message || "The browser blocked the window this step needs.", "popup_blocked");
    }
  }
  class SessionExpiredError extends StitchBridgeError {
    constructor(message) {
      super(message || "The connect session expired and could not be renewed.", "session_expired");
    }
  }
  class CancelledError extends StitchBridgeError {
    constructor(message) {
      super(message || "The connection flow was cancelled.", "cancelled");
    }
  }
  class SourceError extends StitchBridgeError {
    constructor(message, code, details, status) {
      super(message, code, details);
      this.status = status || 0;
    }
  }
  // Names spelled out, not read from the classes: the minifier renames classes, and pages
  // (and the TypeScript declarations) rely on `err.name`.
  for (const [type, name] of [
    [StitchBridgeError, "StitchBridgeError"],
    [PopupBlockedError, "PopupBlockedError"],
    [SessionExpiredError, "SessionExpiredError"],
    [CancelledError, "CancelledError"],
    [SourceError, "SourceError"],
  ]) {
    Object.defineProperty(type.prototype, "name", { value: name, writable: true, configurable: true });
  }

  function randomId() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (n) => n.toString(16).padStart(2, "0")).join("");
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  // Elements are built, never parsed from strings: no markup injection, nothing inline.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "testid") el.dataset.testid = value;
      else if (key === "text") el.textContent = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child);
    return el;
  }

  /* Everything registered here is undone by close(): listeners (removed one by one, so that nothing
     is left behind even for code that counts add/removeEventListener), timers, callbacks. */
  class Scope {
    constructor() {
      this.undo = [];
    }
    listen(target, type, fn, options) {
      target.addEventListener(type, fn, options);
      this.undo.push(() => target.removeEventListener(type, fn, options));
    }
    timeout(fn, ms) {
      const id = setTimeout(fn, ms);
      this.undo.push(() => clearTimeout(id));
    }
    interval(fn, ms) {
      const id = setInterval(fn, ms);
      this.undo.push(() => clearInterval(id));
    }
    defer(fn) {
      this.undo.push(fn);
    }
    close() {
      for (const fn of this.undo.splice(0).reverse()) {
        try {
          fn();
        } catch (_) { /* keep undoing the rest */ }
      }
    }
  }
