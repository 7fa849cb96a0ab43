/* Stitch Bridge widget, served by the bridge at /widget.js (CONTRACT §6).
   Lets an end user connect a data source from the host page: Stitch.js popups or the bridge's own
   form, OAuth, connection check and stream picker. Plain script: no build step, no inline script or
   style, no eval, so it runs under a strict Content-Security-Policy. */
(() => {
  "use strict";

  // Loaded twice (two tags, a re-injected bundle): keep the first copy, so error classes stay one.
  if (window.StitchBridge && window.StitchBridge.version) return;

  const VERSION = "1";
  const STITCH_FUNCTIONS = new Set([
    "addSource", "editSource", "authorizeSource", "onlyAuthorizeSource",
    "displayDiscoveryOutputForSource", "selectStreamsForSource",
  ]);
  const STITCH_FAILURES = new Set([
    "errorLoadingConnection", "errorLoadingIntegrationType", "errorUpgradingEphemeralToken",
    "authorizeFailure",
  ]);
  const POPUP_FEATURES = "popup,width=560,height=760";
  const POLL_MS = 500;
  // Redirect mode: the single-use query parameter the bridge sends the browser back with.
  const RESUME_PARAM = "stitch_bridge_resume";
  const MODES = new Set(["auto", "popup", "redirect"]);
  // Browsers inside other apps (Facebook, Instagram, LINE, LinkedIn, Twitter/X, Android WebViews)
  // open popups as new views the page never hears from again: full-page navigation works there.
  const IN_APP_BROWSER = /FBAN|FBAV|Instagram|Line\/|LinkedInApp|Twitter|; wv\)/;
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

  function openWindow(url) {
    let win = null;
    try {
      win = window.open(url || "", `stitch-bridge-${randomId()}`, POPUP_FEATURES);
    } catch (_) {
      win = null;
    }
    // A blocker answers null, or a window that is already closed.
    if (!win || win.closed) return null;
    if (!url) {
      try {
        win.document.title = "Connecting…";
        win.document.body.textContent = "Loading…";
      } catch (_) { /* not ours to write: fine */ }
    }
    return win;
  }

  function inAppBrowser(userAgent) {
    const ua = typeof userAgent === "string" ? userAgent : (navigator.userAgent || "");
    if (IN_APP_BROWSER.test(ua)) return true;
    // A page saved to the iOS home screen runs without tabs: a popup has nowhere to go.
    return navigator.standalone === true && /iPhone|iPad|iPod/.test(ua);
  }

  // http(s) only: an address from anywhere else must never become a navigation.
  function webUrl(url) {
    try {
      const parsed = new URL(String(url), window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  // The current address without the resume id: where a redirect-mode step comes back to.
  function currentUrlWithoutResume() {
    const url = new URL(window.location.href);
    url.searchParams.delete(RESUME_PARAM);
    return url.href;
  }

  function closeWindow(win) {
    try {
      if (win && !win.closed) win.close();
    } catch (_) { /* already gone */ }
  }

  // What Tab can reach inside the dialog: enabled, rendered (not in a closed <details> or
  // hidden), and in the tab order.
  const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  function focusables(root) {
    return [...root.querySelectorAll(FOCUSABLE)].filter(
      (el) => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0,
    );
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

  function isPrematureClose(err, Stitch) {
    if (!err) return false;
    if (Stitch && Stitch.AppClosedPrematurelyError && err instanceof Stitch.AppClosedPrematurelyError) {
      return true;
    }
    return err.name === "AppClosedPrematurelyError" || /closed before reaching end/i.test(err.message || "");
  }

  function isBoolean(prop) {
    const schema = prop.json_schema || {};
    return schema.type === "boolean" || schema.pattern === "^(true|false)$";
  }

  // An enum (the bridge narrows schedules to what end users may choose) or a pattern such as
  // ^1$|^30$|^60$ lists the only values accepted: offer them as choices.
  function choicesFor(prop) {
    const schema = prop.json_schema || {};
    if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum.map(String);
    const pattern = schema.pattern;
    if (typeof pattern !== "string" || !/^\^[\w.-]+\$(\|\^[\w.-]+\$)+$/.test(pattern)) return null;
    return pattern.split("|").map((part) => part.slice(1, -1));
  }

  function placeholderFor(prop) {
    const schema = prop.json_schema || {};
    if (typeof schema.pattern === "string" && schema.pattern.includes("T00:00:00Z")) {
      return "2024-01-01T00:00:00Z";
    }
    if (schema.format === "date-time") return "2024-01-01T00:00:00Z";
    return "";
  }

  // After connecting: what a source looked like "before" an action when the page had not seen it.
  const AFTER_BEFORE = {
    sync: (s) => ({ ...s, sync: { state: "never", job_name: null } }),
    pause: (s) => ({ ...s, paused_at: null }),
    unpause: (s) => ({ ...s, paused_at: s.paused_at || "before" }),
    schedule: (s) => ({ ...s, schedule: null }),
  };

  function scheduleKey(schedule) {
    const s = schedule || {};
    return JSON.stringify([s.frequency_in_minutes, s.anchor_time, s.cron_expression]);
  }

  /* [type, extra] for what changed between two views of a source (CONTRACT §6 event types). */
  function afterEvents(before, now) {
    const out = [];
    const a = before.sync || {};
    const b = now.sync || {};
    const job = { job_name: b.job_name || null };
    if (b.job_name && b.job_name !== a.job_name) {
      out.push(["sync_started", { ...job, trigger: b.trigger || null }]);
    }
    const ended = b.state === "succeeded" || b.state === "failed";
    if (ended && b.job_name && (b.job_name !== a.job_name || a.state === "running")) {
      out.push(b.state === "failed" ? ["sync_failed", { ...job, error: b.error || null }] : ["sync_succeeded", job]);
    }
    if (!before.paused_at !== !now.paused_at) out.push([now.paused_at ? "paused" : "unpaused", {}]);
    if (now.schedule && scheduleKey(before.schedule) !== scheduleKey(now.schedule)) {
      out.push(["schedule_changed", { schedule: now.schedule }]);
    }
    return out;
  }

  class Widget {
    constructor(options) {
      const opts = options || {};
      if (typeof opts.fetchSession !== "function") {
        throw new TypeError("StitchBridge.create() needs fetchSession: async () => ({token, expires_at})");
      }
      const base = new URL(String(opts.bridgeUrl || ""), window.location.href);
      if (base.protocol !== "https:" && base.protocol !== "http:") {
        throw new TypeError("StitchBridge.create() needs bridgeUrl, the bridge's http(s) URL");
      }
      const mode = opts.mode === undefined || opts.mode === null ? "auto" : opts.mode;
      if (!MODES.has(mode)) {
        throw new TypeError('StitchBridge.create() mode is "auto", "popup" or "redirect"');
      }
      if (opts.returnUrl !== undefined && opts.returnUrl !== null && !webUrl(opts.returnUrl)) {
        throw new TypeError("StitchBridge.create() returnUrl must be an http(s) URL");
      }
      this._returnUrl = opts.returnUrl ? webUrl(opts.returnUrl) : null;
      this._redirectFallback = opts.redirectFallback !== false;
      this._mode = mode === "redirect" ? "redirect" : "popup";
      this._bridgeUrl = base.href.replace(/\/+$/, "");
      this._bridgeOrigin = base.origin;
      this._fetchSession = opts.fetchSession;
      this._handlers = new Map();
      this._scope = new Scope(); // lives as long as the widget
      this._viewScope = new Scope(); // lives as long as the panel on screen
      this._elements = [];
      this._session = null;
      this._renewing = null;
      this._renewTimer = null;
      this._types = null;
      this._stitch = null;
      this._driverKey = `stitch-bridge:driver:${this._bridgeOrigin}`;
      this._redirectKey = `stitch-bridge:redirect:${this._bridgeOrigin}`;
      this._driverHint = this._remembered();
      this._flow = null;
      this._destroyed = false;
      this._after = { known: new Map(), watched: new Map(), timer: null, onVisible: null }; // after connecting
      this._watchInterval = Math.max(1000, Number(opts.watchInterval) || 5000);

      this._root = h("div", {
        testid: "stitch-bridge", class: "sb-root", hidden: true, role: "dialog",
        "aria-modal": "true", "aria-label": "Connect a data source", tabindex: "-1",
      });
      this._opener = null; // what had focus when the dialog opened: it gets it back on close
      (opts.container || document.body).append(this._root);
      if (opts.stylesheet !== false) {
        const href = typeof opts.stylesheet === "string" ? opts.stylesheet : `${this._bridgeUrl}/widget.css`;
        const link = h("link", { rel: "stylesheet", href, "data-stitch-bridge": "" });
        document.head.append(link);
        this._elements.push(link);
      }
      if (mode === "auto" && inAppBrowser(opts.userAgent)) {
        this._mode = "redirect";
        // After create() returns, so that handlers registered right away hear it.
        Promise.resolve().then(() => this._emit("mode_changed", { mode: "redirect", reason: "in_app_browser" }));
      }
      // Fetch the session ahead of the first click: connect() must decide in that click, with no
      // await, whether to open a popup, and the session says which step driver the bridge uses.
      this.ready = this._ensureSession("")
        .then(() => this._sourceTypes(""))
        .then(() => true, () => false);
    }

    /* "popup" or "redirect": how steps that leave the page run (a flow switched to redirect
       by `continue-here` does not change it). */
    get mode() {
      return this._mode;
    }

    on(name, fn) {
      if (!this._handlers.has(name)) this._handlers.set(name, new Set());
      this._handlers.get(name).add(fn);
      return () => this.off(name, fn);
    }

    off(name, fn) {
      const set = this._handlers.get(name);
      if (set) set.delete(fn);
    }

    connect(options) {
      const type = options && options.type;
      if (typeof type !== "string" || !type) {
        return Promise.reject(new TypeError("connect() needs {type}"));
      }
      return this._request({ kind: "connect", type, sourceId: null, sessionFor: "" });
    }

    reconnect(options) {
      const sourceId = Number(options && options.sourceId);
      if (!Number.isInteger(sourceId) || sourceId <= 0) {
        return Promise.reject(new TypeError("reconnect() needs {sourceId}"));
      }
      return this._request({ kind: "reconnect", type: null, sourceId, sessionFor: String(sourceId) });
    }

    /* Back from a redirect-mode step: reads the single-use resume id from the address (and takes
       it out of the address bar), then finishes the flow. Resolves like connect(), or with null
       when the address carries no resume id. */
    resume() {
      if (this._destroyed) {
        return Promise.reject(new StitchBridgeError("This widget was destroyed.", "destroyed"));
      }
      const url = new URL(window.location.href);
      const ids = url.searchParams.getAll(RESUME_PARAM);
      if (!ids.length) return Promise.resolve(null);
      if (this._flow) return Promise.reject(new StitchBridgeError("Another connection is in progress.", "busy"));
      url.searchParams.delete(RESUME_PARAM);
      try {
        window.history.replaceState(window.history.state, "", url.href);
      } catch (_) { /* history locked down: the id is single-use anyway */ }
      // What this tab noted before it left (no secret: the flow's state is on the bridge).
      const hint = this._takeRedirectHint();
      const flow = this._newFlow({
        kind: hint.kind === "reconnect" ? "reconnect" : "connect",
        type: typeof hint.type === "string" ? hint.type : null,
        sourceId: null,
        sessionFor: typeof hint.sessionFor === "string" ? hint.sessionFor : "",
        key: typeof hint.key === "string" ? hint.key : null,
      });
      flow.attempt = typeof hint.attempt === "string" ? hint.attempt : null;
      flow.mode = "redirect";
      flow.resumeId = ids.length === 1 ? ids[0] : null;
      flow.resuming = true;
      return this._begin(flow);
    }

    destroy() {
      if (this._destroyed) return;
      this._destroyed = true;
      clearTimeout(this._renewTimer);
      clearTimeout(this._after.timer);
      this._after.watched.clear();
      const flow = this._flow;
      this._flow = null;
      if (flow) {
        flow.done = true;
        flow.scope.close();
        closeWindow(flow.popup);
        flow.reject(new CancelledError("The widget was destroyed."));
      }
      this._viewScope.close();
      this._scope.close();
      for (const el of this._elements.splice(0)) el.remove();
      const open = !this._root.hidden;
      this._root.remove();
      if (open) this._restoreFocus();
      this._handlers.clear();
    }

    // ---- after connecting (CONTRACT §4.8): sync, pause, schedule, watch ------------------------
    /* What the page acts on or watches is remembered (the last Source seen per id); each newer
       answer is compared with it and the differences become events. Only sources whose sync is
       running are polled, every `watchInterval` ms: an idle page sends nothing. */

    getSource(options) {
      return this._afterCall(options, "getSource", "GET", "", undefined, null);
    }

    sync(options) {
      return this._afterCall(options, "sync", "POST", "/sync", undefined, "sync");
    }

    pause(options) {
      return this._afterCall(options, "pause", "POST", "/pause", undefined, "pause");
    }

    unpause(options) {
      return this._afterCall(options, "unpause", "POST", "/unpause", undefined, "unpause");
    }

    setSchedule(options) {
      const o = options || {};
      const body = {};
      if (o.frequencyInMinutes !== undefined) body.frequency_in_minutes = o.frequencyInMinutes;
      if (o.anchorTime !== undefined) body.anchor_time = o.anchorTime;
      if (o.cronExpression !== undefined) body.cron_expression = o.cronExpression;
      return this._afterCall(options, "setSchedule", "PUT", "/schedule", body, "schedule");
    }

    /* Events for this source from now on (its current state is the baseline, not news); returns
       the call that stops watching. destroy() stops every watch. */
    watch(options) {
      const id = Number(options && options.sourceId);
      if (!Number.isInteger(id) || id <= 0) throw new TypeError("watch() needs {sourceId}");
      const after = this._after;
      after.watched.set(id, (after.watched.get(id) || 0) + 1);
      if (!after.known.has(id)) this.getSource({ sourceId: id }).catch(() => {});
      if (!after.onVisible) {
        // Back on the tab: one look at each watched source (a scheduled sync may have started).
        after.onVisible = () => {
          if (document.visibilityState !== "visible") return;
          for (const sourceId of after.watched.keys()) this.getSource({ sourceId }).catch(() => {});
        };
        this._scope.listen(document, "visibilitychange", after.onVisible);
      }
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        const left = (after.watched.get(id) || 1) - 1;
        if (left > 0) after.watched.set(id, left);
        else after.watched.delete(id);
      };
    }

    async _afterCall(options, name, method, suffix, body, acted) {
      const id = Number(options && options.sourceId);
      if (this._destroyed) throw new StitchBridgeError("This widget was destroyed.", "destroyed");
      if (!Number.isInteger(id) || id <= 0) throw new TypeError(`${name}() needs {sourceId}`);
      // The session a running reconnect uses covers this source too: no renewal back and forth.
      const own = this._session && this._session.sessionFor === String(id) ? String(id) : "";
      const answer = await this._api(method, `/v1/sources/${id}${suffix}`, { sessionFor: own, body });
      const source = answer.source;
      if (!source || typeof source !== "object") throw new SourceError("The bridge answered without a source.", "internal");
      this._observe(source, acted);
      return source;
    }

    _observe(source, acted) {
      const after = this._after;
      const id = source.id;
      const previous = after.known.get(id);
      // What the page just did is news even without a baseline: compare with "before it".
      const before = previous || (acted ? AFTER_BEFORE[acted](source) : null);
      if (previous || acted || after.watched.has(id)) after.known.set(id, source);
      if (before) for (const [type, extra] of afterEvents(before, source)) this._emit(type, { source, ...extra });
      this._pollRunning();
    }

    _pollRunning() {
      const after = this._after;
      if (after.timer || this._destroyed) return;
      const running = [...after.known.values()].filter((s) => s.sync && s.sync.state === "running");
      if (!running.length) return;
      after.timer = setTimeout(async () => {
        for (const s of running) {
          await this.getSource({ sourceId: s.id }).catch(() => {});
          // Acted on, not watched, and done: nothing more to say about it.
          const now = after.known.get(s.id);
          if (now && now.sync && now.sync.state !== "running" && !after.watched.has(s.id)) after.known.delete(s.id);
        }
        after.timer = null;
        this._pollRunning();
      }, this._watchInterval);
    }

    // ---- flows -----------------------------------------------------------------------------

    _request(fields) {
      if (this._destroyed) {
        return Promise.reject(new StitchBridgeError("This widget was destroyed.", "destroyed"));
      }
      const running = this._flow;
      if (running) {
        // A double click joins the flow it started; anything else waits for it to end.
        if (running.kind === fields.kind && running.type === fields.type && running.sourceId === fields.sourceId) {
          return running.promise;
        }
        return Promise.reject(new StitchBridgeError("Another connection is in progress.", "busy"));
      }
      return this._begin(this._newFlow(fields));
    }

    _newFlow(fields) {
      let resolve;
      let reject;
      const promise = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return {
        ...fields, key: fields.key || randomId(), promise, resolve, reject,
        popup: null, fresh: false, done: false, token: null, typeInfo: null, scope: new Scope(),
        mode: fields.mode || this._mode,
      };
    }

    _begin(flow) {
      // Runs inside the caller's click: the only moment a popup may open. Open a blank one now
      // when Stitch.js may need it; the flow hands it to Stitch.js once the bridge has answered.
      const driver = this._driverHint;
      let blocked = false;
      if (flow.mode !== "redirect" && (driver !== "native" || flow.wantPopup)) {
        flow.popup = openWindow("");
        flow.fresh = Boolean(flow.popup);
        flow.blocked = !flow.popup;
        blocked = flow.blocked && (driver === "stitchjs" || flow.wantPopup);
      }
      this._flow = flow;
      this._scheduleRenewal();
      let run;
      if (blocked) run = Promise.reject(new PopupBlockedError());
      else if (flow.resuming) run = this._returnFlow(flow);
      else run = flow.sourceId ? this._resumeFlow(flow) : this._connectFlow(flow);
      run.then((result) => this._finish(flow, null, result), (err) => this._finish(flow, err));
      return flow.promise;
    }

    _finish(flow, err, result) {
      if (flow.done) return;
      flow.done = true;
      flow.scope.close();
      closeWindow(flow.popup);
      if (this._flow === flow) this._flow = null;
      clearTimeout(this._renewTimer);
      if (this._destroyed) {
        flow.reject(new CancelledError("The widget was destroyed."));
        return;
      }
      if (!err) {
        this._forgetAttempt(flow);
        this._hide();
        flow.resolve(result);
        return;
      }
      if (err instanceof CancelledError) {
        this._forgetAttempt(flow);
        this._hide();
        this._emit("cancelled", { source_id: flow.sourceId, message: err.message });
      } else {
        const code = err.code || "internal";
        this._emit("error", { code, message: err.message || String(err), error: err });
        if (err instanceof PopupBlockedError) this._retryView(flow);
        else this._errorView(err);
      }
      flow.reject(err);
    }

    async _connectFlow(flow) {
      const info = await this._ensureSession(flow.sessionFor);
      flow.attempt = `stitch-bridge:attempt:${this._bridgeOrigin}:${info.end_user_id}:${flow.type}`;
      flow.key = this._attemptKey(flow.attempt, flow.key);
      flow.typeInfo = await this._typeInfo(flow, flow.type);
      let created;
      if (!flow.popup && this._driverHint === "native") {
        // The bridge's own form: the source is created with its settings in one request.
        this._emit("step_started", { step: "form", driver: "native", source_id: null });
        created = await this._formView(flow, null);
        this._emit("step_completed", { step: "form", outcome: "completed", source: created.source });
      } else {
        created = await this._createSource(flow, { type: flow.type });
      }
      return this._drive(flow, created.source, created.next_step);
    }

    async _resumeFlow(flow) {
      await this._ensureSession(flow.sessionFor);
      const answer = await this._api("GET", `/v1/sources/${flow.sourceId}`, { flow });
      flow.type = flow.type || answer.source.type;
      flow.typeInfo = await this._typeInfo(flow, answer.source.type).catch(() => null);
      if (!answer.next_step && flow.kind === "reconnect" && flow.typeInfo) {
        // Nothing left to finish: reconnecting means editing its settings (the bridge's form,
        // whatever the driver: Stitch.js needs a step to open a window for).
        closeWindow(this._takePopup(flow));
        const edited = await this._formView(flow, answer.source);
        return this._drive(flow, edited.source, edited.next_step);
      }
      return this._drive(flow, answer.source, answer.next_step);
    }

    // Redirect mode, back on the page: the bridge's answer to the resume id stands in for
    // steps/complete of the step that left the page; the flow goes on from there.
    async _returnFlow(flow) {
      const info = await this._ensureSession(flow.sessionFor);
      if (!flow.resumeId) {
        throw new SourceError("The address carries more than one resume id.", "token_invalid");
      }
      this._view("Finishing the connection", ({ body }) => {
        body.append(h("p", { class: "sb-status", text: "Back from signing in. Finishing…" }));
      }).catch(() => {}); // replaced by the next step's panel; closing it ends nothing yet
      const answer = await this._api("POST", "/v1/resume", { flow, body: { resume_id: flow.resumeId } });
      const source = answer.source;
      flow.sourceId = source.id;
      flow.type = flow.type || source.type;
      if (flow.kind === "connect" && !flow.attempt) {
        flow.attempt = `stitch-bridge:attempt:${this._bridgeOrigin}:${info.end_user_id}:${flow.type}`;
      }
      flow.typeInfo = await this._typeInfo(flow, source.type).catch(() => null);
      const outcome = answer.outcome === "completed" ? "completed" : "failed";
      this._emit("step_completed", { step: answer.step || "oauth", outcome, source, resumed: true });
      const step = answer.next_step;
      // Not granted: the same step again, with its error shown and `authorize` to try again.
      const repeated = outcome !== "completed" && Boolean(step && step.type === (answer.step || "oauth"));
      return this._drive(flow, source, step, { receipt: answer.receipt, repeated });
    }

    async _createSource(flow, body) {
      let answer;
      try {
        answer = await this._api("POST", "/v1/sources", { flow, body, key: flow.key });
      } catch (err) {
        // Refused means nothing was made: the next try is a new attempt. Unknown outcomes
        // (network, 5xx) keep the key, so that a retry finds the source if it was made.
        if (err instanceof SourceError && err.status >= 400 && err.status < 500) {
          this._forgetAttempt(flow);
          flow.key = this._attemptKey(flow.attempt, randomId());
        }
        throw err;
      }
      flow.sourceId = answer.source.id;
      this._emit("source_created", { source: answer.source });
      return answer;
    }

    async _drive(flow, source, firstStep, start) {
      let step = firstStep;
      let current = source;
      let receipt = (start && start.receipt) || null;
      let repeated = Boolean(start && start.repeated);
      while (step) {
        const answer = await this._runStep(flow, current, step, repeated);
        repeated = !answer.refreshed && Boolean(answer.next_step && answer.next_step.type === step.type);
        current = answer.source || current;
        receipt = answer.receipt || null;
        step = answer.next_step;
      }
      closeWindow(flow.popup);
      this._emit("connected", { source: current, receipt });
      return { source: current, receipt };
    }

    async _runStep(flow, source, step, repeated) {
      let answer;
      const begin = { token: step.token };
      // Redirect mode: the provider's consent comes back to this page, not to a popup.
      if (flow.mode === "redirect" && step.type === "oauth") begin.return_url = this._returnTarget();
      try {
        answer = await this._api("POST", "/v1/steps/start", { flow, body: begin });
      } catch (err) {
        // A token minted before a session renewal may have lapsed with the old session: the
        // source, read again, carries a fresh one for the same step.
        if (!(err instanceof SourceError) || err.code !== "token_expired") throw err;
        return { ...(await this._api("GET", `/v1/sources/${source.id}`, { flow })), refreshed: true };
      }
      flow.token = step.token;
      if (step.type === "form" && answer.driver) this._learnDriver(answer.driver);
      this._emit("step_started", { step: step.type, driver: answer.driver, source_id: source.id });
      let outcome;
      if (answer.driver === "stitchjs") {
        const Stitch = await this._loadStitch(answer.stitch_js_url);
        let popup = this._takePopup(flow);
        // The click that started the flow tried to open this window and was refused: say so
        // now that it is known to be needed (a retry resumes the flow at this step).
        if (!popup && flow.blocked) throw new PopupBlockedError();
        if (!popup) popup = await this._gateView(flow, step, repeated);
        outcome = await this._stitchStep(flow, Stitch, popup, answer);
      } else {
        outcome = await this._nativeStep(flow, source, step, answer, repeated);
      }
      flow.blocked = false; // later steps open their windows from their own clicks
      let done;
      try {
        done = await this._api("POST", "/v1/steps/complete", { flow, body: { token: step.token, outcome } });
      } catch (err) {
        // Expired during a long step: the bridge's reading of the source is the same answer,
        // without a receipt (a receipt comes only with a completed step).
        if (!(err instanceof SourceError) || err.code !== "token_expired") throw err;
        done = await this._api("GET", `/v1/sources/${source.id}`, { flow });
      }
      flow.token = null;
      this._emit("step_completed", { step: step.type, outcome, source: done.source });
      if (outcome === "cancelled") throw new CancelledError();
      return done;
    }

    _takePopup(flow) {
      const popup = flow.fresh && flow.popup && !flow.popup.closed ? flow.popup : null;
      flow.fresh = false;
      return popup;
    }

    // ---- Stitch.js steps -------------------------------------------------------------------

    _loadStitch(url) {
      if (this._stitch && this._stitch.url === url) return this._stitch.promise;
      const promise = new Promise((resolve, reject) => {
        const ready = () => window.Stitch && typeof window.Stitch.editSource === "function";
        if (ready()) {
          resolve(window.Stitch);
          return;
        }
        const script = h("script", { src: url, async: true, "data-stitch-bridge": "" });
        this._scope.listen(script, "load", () => (ready()
          ? resolve(window.Stitch)
          : reject(new SourceError("Stitch.js loaded but defined no Stitch object.", "stitch_js_unavailable"))));
        this._scope.listen(script, "error", () => reject(
          new SourceError("Stitch.js could not be loaded.", "stitch_js_unavailable"),
        ));
        document.head.append(script);
        this._elements.push(script);
      });
      this._stitch = { url, promise };
      promise.catch(() => {
        if (this._stitch && this._stitch.promise === promise) this._stitch = null;
      });
      return promise;
    }

    _stitchStep(flow, Stitch, popup, answer) {
      const fn = answer.js && answer.js.function;
      if (!STITCH_FUNCTIONS.has(fn) || typeof Stitch[fn] !== "function") {
        return Promise.reject(new SourceError(`Unsupported Stitch.js step ${fn}.`, "unsupported_step"));
      }
      flow.popup = popup;
      const name = this._typeName(flow);
      const waiting = this._view(`Connect ${name}`, ({ body }) => {
        body.append(h("p", { text: `Continue in the Stitch window to ${STEP_WORDS[answer.step] || "finish"}.` }));
      });
      return new Promise((resolve) => {
        const scope = new Scope();
        flow.scope.defer(() => scope.close());
        let settled = false;
        const settle = (outcome) => {
          if (settled) return;
          settled = true;
          scope.close();
          resolve(outcome);
        };
        waiting.catch(() => {
          closeWindow(popup);
          settle("cancelled");
        });
        // Stitch.js opens its window itself, after our click is over; hand it the blank window
        // opened in the click instead, and learn from the URL which origin may talk to us.
        let origin = null;
        const realOpen = window.open;
        const standIn = function (url) {
          window.open = realOpen;
          let target;
          try {
            target = new URL(String(url), window.location.href);
          } catch (_) {
            return null;
          }
          origin = target.origin;
          popup.location.replace(target.href);
          return popup;
        };
        window.open = standIn;
        let pending;
        try {
          pending = Stitch[fn]({ ...answer.js.options });
        } catch (_) {
          pending = null;
        } finally {
          if (window.open === standIn) window.open = realOpen;
        }
        if (!pending || !origin) {
          settle("failed");
          return;
        }
        Promise.resolve(pending).then(
          () => settle("completed"),
          (err) => settle(isPrematureClose(err, Stitch) ? "cancelled" : "failed"),
        );
        // Stitch.js settles only when its 1 s poll sees the window closed, and checks only the
        // message source; settle on the popup's own word instead, from its exact origin only.
        scope.listen(window, "message", (event) => {
          if (event.source !== popup || event.origin !== origin) return;
          const type = event.data && event.data.type;
          if (type === "integrationFlowCompleted") settle("completed");
          else if (type === "authorizeSuccess" && fn === "onlyAuthorizeSource") settle("completed");
          else if (type === "integrationFormClose") settle("cancelled");
          else if (STITCH_FAILURES.has(type)) settle("failed");
        });
        scope.interval(() => {
          if (popup.closed) settle("cancelled");
        }, 250);
      });
    }

    // ---- native steps ----------------------------------------------------------------------

    async _nativeStep(flow, source, step, answer, repeated) {
      // A blank window opened for Stitch.js serves only the OAuth step here; close it otherwise.
      if (answer.action !== "oauth") closeWindow(this._takePopup(flow));
      switch (answer.action) {
        case "form":
          await this._formView(flow, source);
          return "completed";
        case "oauth":
          return this._oauthView(flow, source, answer, repeated);
        case "wait":
          return this._checkView(flow, source);
        case "select_streams":
          return this._streamsView(flow, source);
        default:
          throw new SourceError(`Unsupported step ${answer.action}.`, "unsupported_step");
      }
    }

    _formView(flow, source) {
      const info = flow.typeInfo || { display_name: this._typeName(flow), form: [] };
      return this._view(`Connect ${info.display_name}`, ({ body, done, fail, scope }) => {
        const inputs = new Map();
        const errors = new Map();
        const stepError = h("p", { testid: "step-error", class: "sb-error", role: "alert", hidden: true });
        const field = (id, label, input, error, hint) => h("div", { class: "sb-field" },
          h("label", { for: id, text: label }), input, hint, error);
        const displayId = `sb-${randomId()}`;
        const displayName = h("input", {
          id: displayId, type: "text", testid: "display-name", autocomplete: "off",
          placeholder: info.display_name,
        });
        const required = [];
        const advanced = [];
        for (const prop of info.form || []) {
          const id = `sb-${randomId()}`;
          const boolean = isBoolean(prop);
          const choices = boolean ? null : choicesFor(prop);
          const common = {
            id, name: prop.name, testid: `property-${prop.name}`, "aria-required": prop.is_required ? "true" : null,
          };
          const input = choices
            ? h("select", common, h("option", { value: "", text: "(default)" }),
              choices.map((value) => h("option", { value, text: value })))
            : h("input", {
              ...common, autocomplete: "off",
              type: boolean ? "checkbox" : prop.is_credential ? "password" : "text",
              placeholder: boolean ? null : placeholderFor(prop) || null,
            });
          const error = h("p", { testid: `error-${prop.name}`, class: "sb-error", hidden: true });
          inputs.set(prop.name, { prop, input });
          errors.set(prop.name, error);
          const label = `${prop.label || prop.name}${prop.is_required ? " *" : ""}`;
          const row = boolean
            ? h("div", { class: "sb-field sb-check-row" }, input, h("label", { for: id, text: label }), error)
            : field(id, label, input, error, null);
          // What must be filled stays in sight; everything optional folds away.
          (prop.is_required ? required : advanced).push(row);
        }
        const submit = h("button", { type: "submit", testid: "submit", class: "sb-primary" }, flow.kind === "connect" ? "Connect" : "Save");
        const form = h("form", { class: "sb-form", novalidate: true },
          stepError,
          field(displayId, "Name", displayName, null, null),
          required,
          advanced.length ? h("details", { class: "sb-advanced" }, h("summary", { text: "More settings (optional)" }), advanced) : null,
          h("div", { class: "sb-actions" }, submit));
        body.append(form);
        let busy = false;
        scope.listen(form, "submit", async (event) => {
          event.preventDefault();
          if (busy) return; // a double click submits once
          busy = true;
          submit.disabled = true;
          stepError.hidden = true;
          for (const el of errors.values()) el.hidden = true;
          const properties = {};
          for (const [name, { prop, input }] of inputs) {
            if (input.type === "checkbox") {
              if (input.checked) properties[name] = "true";
              else if (prop.is_required) properties[name] = "false";
            } else if (input.value.trim() !== "") {
              properties[name] = input.value.trim();
            }
          }
          const body = { properties };
          if (displayName.value.trim()) body.display_name = displayName.value.trim();
          try {
            const answer = source
              ? await this._api("PUT", `/v1/sources/${source.id}`, { flow, body })
              : await this._createSource(flow, { type: flow.type, ...body });
            done(answer);
          } catch (err) {
            if (!(err instanceof SourceError)) {
              fail(err);
              return;
            }
            this._emit("error", { code: err.code, message: err.message, error: err });
            const messages = (err.details && err.details.properties) || {};
            const bad = new Set([...((err.details && err.details.bad_properties) || []), ...Object.keys(messages)]);
            const elsewhere = [];
            for (const name of bad) {
              const el = errors.get(name);
              const text = messages[name] || "This value was not accepted.";
              if (el) {
                el.textContent = text;
                el.hidden = false;
              } else {
                elsewhere.push(`${name}: ${text}`);
              }
            }
            if (!bad.size || elsewhere.length) {
              stepError.textContent = elsewhere.length ? elsewhere.join(" ") : err.message;
              stepError.hidden = false;
            }
            busy = false;
            submit.disabled = false;
          }
        });
        const first = form.querySelector("input");
        if (first) scope.timeout(() => first.focus(), 0);
      });
    }

    _oauthView(flow, source, answer, repeated) {
      const name = this._typeName(flow);
      return this._view(`Authorize ${name}`, ({ body, done, fail, scope, isOpen }) => {
        const stepError = h("p", {
          testid: "step-error", class: "sb-error", role: "alert", hidden: !repeated,
          text: "Access was not granted. Try again.",
        });
        const status = h("p", { text: `Sign in to ${name} and allow access to continue.` });
        const authorize = h("button", { type: "button", testid: "authorize", class: "sb-primary" }, `Sign in to ${name}`);
        body.append(stepError, status, h("div", { class: "sb-actions" }, authorize));
        let win = null;
        const finish = () => {
          closeWindow(win);
          done("completed");
        };
        const focus = h("button", { type: "button", hidden: true }, "Show the sign-in window");
        body.querySelector(".sb-actions").append(focus);
        scope.listen(focus, "click", () => win && !win.closed && win.focus());
        const watch = () => {
          // While the window is open, only bring it forward: closing it (or finishing there)
          // comes back here, with `authorize` again if access was not granted.
          status.textContent = "Finish signing in in the other window…";
          authorize.hidden = true;
          focus.hidden = false;
          scope.listen(window, "message", (event) => {
            // Only the bridge's own pages in this window are listened to.
            if (event.source !== win || event.origin !== this._bridgeOrigin) return;
            const data = event.data || {};
            if (data.type === "stitch-bridge:oauth-ready") {
              // The popup page asks for the attempt's ticket, which binds this browser to the
              // attempt; it goes to the bridge's origin alone.
              win.postMessage({ type: "stitch-bridge:oauth-ticket", ticket: answer.oauth_ticket }, this._bridgeOrigin);
            } else if (data.type === "stitch-bridge:oauth") {
              finish(); // the callback page reports back
            }
          });
          scope.interval(() => {
            if (win && win.closed) finish();
          }, 300);
          const poll = async () => {
            if (!isOpen()) return;
            try {
              const now = await this._api("GET", `/v1/sources/${source.id}`, { flow });
              if (!now.next_step || now.next_step.type !== "oauth") {
                finish();
                return;
              }
            } catch (err) {
              if (!(err instanceof SourceError) || err.status < 500) {
                fail(err);
                return;
              }
            }
            scope.timeout(poll, 1000);
          };
          scope.timeout(poll, 1000);
        };
        const open = (ready) => {
          if (!answer.oauth_url) {
            fail(new SourceError("The bridge gave no sign-in address.", "unsupported_step"));
            return;
          }
          const first = !win;
          if (ready) {
            win = ready;
            win.location.replace(answer.oauth_url);
          } else {
            closeWindow(win);
            win = openWindow(answer.oauth_url);
          }
          if (!win) {
            fail(new PopupBlockedError());
            return;
          }
          flow.popup = win;
          if (first) watch();
        };
        if (flow.mode === "redirect") {
          const leave = () => {
            if (!answer.oauth_ticket) {
              fail(new SourceError("The bridge gave no sign-in address.", "unsupported_step"));
              return;
            }
            authorize.disabled = true;
            status.textContent = `Taking you to ${name}…`;
            this._saveRedirectHint(flow);
            // A top-level POST from this page: its Origin shows the bridge that this browser
            // started the step, and the answer binds it to the attempt before the provider.
            const form = h("form", { method: "post", action: `${this._bridgeUrl}/v1/oauth/begin`, hidden: true },
              h("input", { type: "hidden", name: "ticket", value: answer.oauth_ticket }));
            document.body.append(form);
            form.submit();
          };
          scope.listen(authorize, "click", leave);
          // The person already chose to continue in this window: no second click for it.
          if (flow.navigateNow) leave();
          return;
        }
        scope.listen(authorize, "click", () => open(null));
        const ready = this._takePopup(flow);
        if (ready) open(ready);
      });
    }

    _checkView(flow, source) {
      const name = this._typeName(flow);
      return this._view(`Checking ${name}`, ({ body, done, fail, scope, isOpen }) => {
        const status = h("p", { testid: "check-status", class: "sb-status", text: "running" });
        const stepError = h("p", { testid: "step-error", class: "sb-error", role: "alert", hidden: true });
        const submit = h("button", { type: "button", testid: "submit" }, "Continue");
        body.append(
          h("p", { text: "Stitch is testing the connection and looking for your data." }),
          status, stepError, h("div", { class: "sb-actions" }, submit),
        );
        scope.listen(submit, "click", () => done("completed"));
        const poll = async () => {
          if (!isOpen()) return;
          try {
            const now = await this._api("GET", `/v1/sources/${source.id}`, { flow });
            if (!isOpen()) return;
            if (!now.next_step || now.next_step.type !== "discover_schema") {
              status.textContent = "succeeded";
              scope.timeout(() => done("completed"), 300);
              return;
            }
            const check = now.connection_check || {};
            if (check.status === "failed" || (now.source && now.source.status === "needs_input")) {
              status.textContent = "failed";
              stepError.textContent = check.message || "The connection check failed. Check the settings and try again.";
              stepError.hidden = false;
            }
          } catch (err) {
            if (!(err instanceof SourceError) || err.status < 500) {
              fail(err);
              return;
            }
          }
          scope.timeout(poll, POLL_MS);
        };
        poll();
      });
    }

    async _streamsView(flow, source) {
      const listed = await this._api("GET", `/v1/sources/${source.id}/streams`, { flow });
      const streams = listed.data || [];
      return this._view("Choose what to sync", ({ body, done, fail, scope }) => {
        const stepError = h("p", { testid: "step-error", class: "sb-error", role: "alert", hidden: true });
        const boxes = new Map();
        const rows = streams.map((stream) => {
          const id = `sb-${randomId()}`;
          const box = h("input", {
            id, type: "checkbox", testid: `stream-${stream.tap_stream_id}`, checked: stream.selected === true,
          });
          boxes.set(stream.tap_stream_id, box);
          return h("li", { class: "sb-stream" }, box, h("label", { for: id, text: stream.tap_stream_id }));
        });
        const submit = h("button", { type: "submit", testid: "submit", class: "sb-primary" }, "Start syncing");
        const form = h("form", { class: "sb-form", novalidate: true },
          stepError, h("ul", { class: "sb-streams" }, rows), h("div", { class: "sb-actions" }, submit));
        body.append(form);
        if (!streams.length) {
          stepError.textContent = "Stitch found nothing to sync in this source.";
          stepError.hidden = false;
        }
        let busy = false;
        scope.listen(form, "submit", async (event) => {
          event.preventDefault();
          if (busy) return;
          const chosen = streams.map((s) => ({ tap_stream_id: s.tap_stream_id, selected: boxes.get(s.tap_stream_id).checked }));
          if (!chosen.some((s) => s.selected)) {
            stepError.textContent = "Choose at least one table to sync.";
            stepError.hidden = false;
            return;
          }
          busy = true;
          submit.disabled = true;
          try {
            await this._api("PUT", `/v1/sources/${source.id}/streams`, { flow, body: { streams: chosen } });
            done("completed");
          } catch (err) {
            if (!(err instanceof SourceError)) {
              fail(err);
              return;
            }
            stepError.textContent = err.message;
            stepError.hidden = false;
            busy = false;
            submit.disabled = false;
          }
        });
      });
    }

    // ---- panels ----------------------------------------------------------------------------

    /* Shows one panel; resolves with what its controls decide, rejects with CancelledError when
       the person closes it. Replacing the panel drops its listeners and timers. */
    _view(title, build) {
      this._check();
      this._viewScope.close();
      const scope = new Scope();
      this._viewScope = scope;
      let open = true;
      scope.defer(() => {
        open = false;
      });
      return new Promise((resolve, reject) => {
        const done = (value) => {
          if (open) {
            open = false;
            resolve(value);
          }
        };
        const fail = (err) => {
          if (open) {
            open = false;
            reject(err);
          }
        };
        const close = h("button", { type: "button", testid: "close", class: "sb-close", "aria-label": "Close" }, "×");
        scope.listen(close, "click", () => fail(new CancelledError()));
        const body = h("div", { class: "sb-body" });
        if (this._root.hidden) this._opener = document.activeElement;
        this._root.replaceChildren(h("div", { class: "sb-panel" },
          h("div", { class: "sb-head" }, h("h2", { class: "sb-title", text: title }), close), body));
        this._root.hidden = false;
        this._dialogKeys(scope, () => fail(new CancelledError()));
        build({ body, done, fail, scope, isOpen: () => open });
        // Focus moves into a dialog that opens, and stays in it when a panel replaces the one
        // that held it: to the panel's first control (never the close button), or the dialog.
        if (!this._root.contains(document.activeElement)) {
          (focusables(body)[0] || this._root).focus({ preventScroll: true });
        }
      });
    }

    /* The WAI-ARIA modal dialog keys: Tab and Shift+Tab cycle through the dialog's controls and
       never reach the page behind it; Escape cancels, as the close button does. Heard on the
       document, before the page's own handlers, so that focus which strayed still comes back. */
    _dialogKeys(scope, cancel) {
      scope.listen(document, "keydown", (event) => {
        if (this._root.hidden || event.defaultPrevented || event.isComposing) return;
        if (event.key === "Escape") {
          event.preventDefault();
          cancel();
          return;
        }
        if (event.key !== "Tab") return;
        const items = focusables(this._root);
        const at = items.indexOf(document.activeElement);
        const wrap = event.shiftKey ? at <= 0 : at === -1 || at === items.length - 1;
        if (!wrap) return; // the browser's own next step stays inside
        event.preventDefault();
        const target = event.shiftKey ? items[items.length - 1] : items[0];
        (target || this._root).focus();
      }, true);
    }

    _restoreFocus() {
      const opener = this._opener;
      this._opener = null;
      if (opener && opener !== document.body && opener.isConnected && typeof opener.focus === "function") {
        opener.focus();
      }
    }

    _gateView(flow, step, repeated) {
      return this._view(`Connect ${this._typeName(flow)}`, ({ body, done, fail, scope }) => {
        const stepError = h("p", {
          testid: "step-error", class: "sb-error", role: "alert", hidden: !repeated,
          text: "That step is not finished yet. Try again.",
        });
        const go = h("button", {
          type: "button", class: "sb-primary", testid: step.type === "oauth" ? "authorize" : "submit",
        }, "Continue");
        body.append(stepError, h("p", { text: `Continue in a Stitch window to ${STEP_WORDS[step.type] || "finish"}.` }),
          h("div", { class: "sb-actions" }, go));
        scope.listen(go, "click", () => {
          const popup = openWindow("");
          if (popup) done(popup);
          else if (flow.mode === "redirect") fail(this._redirectUnsupported());
          else fail(new PopupBlockedError());
        });
      });
    }

    _retryView(blocked) {
      this._notice("Allow the window", "Your browser blocked the window this step needs.", (scope, actions) => {
        const retry = h("button", { type: "button", testid: "retry", class: "sb-primary" }, "Try again");
        actions.append(retry);
        // Same kind, same session scope: a connect flow resumed through a session scoped to
        // its source would turn into a re-authorization of that source.
        const again = (mode) => {
          const flow = this._newFlow({
            kind: blocked.kind, type: blocked.type, sourceId: blocked.sourceId,
            sessionFor: blocked.sessionFor, key: blocked.key, mode,
          });
          flow.attempt = blocked.attempt;
          flow.typeInfo = blocked.typeInfo;
          return flow;
        };
        scope.listen(retry, "click", () => {
          if (this._flow || this._destroyed) return;
          const flow = again("popup");
          flow.wantPopup = true;
          // The outcome reaches the host page through events; this promise has no caller.
          this._begin(flow).catch(() => {});
        });
        // Under the Stitch.js driver every step is a Stitch window: this window cannot host one.
        if (!this._redirectFallback || blocked.mode === "redirect" || this._driverHint === "stitchjs") return;
        // Where popups cannot work at all, the same flow goes on in this window instead.
        const here = h("button", { type: "button", testid: "continue-here" }, "Continue in this window");
        actions.append(here);
        scope.listen(here, "click", () => {
          if (this._flow || this._destroyed) return;
          const flow = again("redirect");
          flow.navigateNow = true;
          this._emit("mode_changed", { mode: "redirect", reason: "popup_blocked" });
          this._begin(flow).catch(() => {});
        });
      });
    }

    _redirectUnsupported() {
      return new SourceError(
        "This step needs its own window, and the browser did not open it.", "redirect_unsupported",
      );
    }

    _returnTarget() {
      return this._returnUrl || currentUrlWithoutResume();
    }

    /* Before a redirect-mode step leaves the page: what kind of flow this tab was in, so that
       resume() asks fetchSession for the same session scope. Never a token or a secret. */
    _saveRedirectHint(flow) {
      const hint = {
        kind: flow.kind, type: flow.type, sessionFor: flow.sessionFor, key: flow.key,
        attempt: flow.attempt || null, until: Date.now() + 3600 * 1000,
      };
      try {
        window.sessionStorage.setItem(this._redirectKey, JSON.stringify(hint));
      } catch (_) { /* storage off: resume() falls back to an unscoped session */ }
    }

    _takeRedirectHint() {
      try {
        const saved = JSON.parse(window.sessionStorage.getItem(this._redirectKey) || "null");
        window.sessionStorage.removeItem(this._redirectKey);
        if (saved && typeof saved === "object" && saved.until > Date.now()) return saved;
      } catch (_) { /* nothing stored */ }
      return {};
    }

    _errorView(err) {
      this._notice("Something went wrong", err.message || String(err), () => {});
    }

    _notice(title, message, addActions) {
      this._view(title, ({ body, scope }) => {
        const actions = h("div", { class: "sb-actions" });
        body.append(h("p", { testid: "step-error", class: "sb-error", role: "alert", text: message }), actions);
        addActions(scope, actions);
      }).catch(() => this._hide());
    }

    _hide() {
      this._viewScope.close();
      const open = !this._root.hidden;
      this._root.replaceChildren();
      this._root.hidden = true;
      if (open) this._restoreFocus();
    }

    /* One Idempotency-Key per connect attempt, shared by this browser's tabs: the same person
       connecting the same type in two tabs at once makes one source, not two. The key lives
       until the attempt connects or is cancelled (or for an hour). */
    _attemptKey(name, fallback) {
      try {
        const saved = JSON.parse(window.localStorage.getItem(name) || "null");
        if (saved && typeof saved.key === "string" && saved.until > Date.now()) return saved.key;
        window.localStorage.setItem(name, JSON.stringify({ key: fallback, until: Date.now() + 3600 * 1000 }));
      } catch (_) { /* storage off: the key is this tab's alone */ }
      return fallback;
    }

    _forgetAttempt(flow) {
      try {
        const saved = flow.attempt && JSON.parse(window.localStorage.getItem(flow.attempt) || "null");
        if (saved && saved.key === flow.key) window.localStorage.removeItem(flow.attempt);
      } catch (_) { /* nothing stored */ }
    }

    /* Which driver the bridge uses decides whether a click must open a popup. The session may
       say; otherwise the last form step seen in this browser does (a stale guess costs a click
       or a window that closes again, never a broken flow). */
    _remembered() {
      try {
        const value = window.localStorage.getItem(this._driverKey);
        return value === "native" || value === "stitchjs" ? value : null;
      } catch (_) {
        return null;
      }
    }

    _learnDriver(driver) {
      if (driver !== "native" && driver !== "stitchjs") return;
      this._driverHint = driver;
      try {
        window.localStorage.setItem(this._driverKey, driver);
      } catch (_) { /* storage off: the hint lives as long as the page */ }
    }

    _typeName(flow) {
      return (flow.typeInfo && flow.typeInfo.display_name) || flow.type || "your source";
    }

    // ---- bridge API and session --------------------------------------------------------------

    async _typeInfo(flow, type) {
      const types = await this._sourceTypes(flow.sessionFor);
      const found = types.find((t) => t.type === type);
      if (!found) throw new SourceError(`Source type ${type} is not available.`, "source_type_not_allowed");
      return found;
    }

    _sourceTypes(sessionFor) {
      if (!this._types || this._types.sessionFor !== sessionFor) {
        const promise = this._api("GET", "/v1/source-types", { sessionFor }).then((r) => r.data || []);
        this._types = { sessionFor, promise };
        promise.catch(() => {
          if (this._types && this._types.promise === promise) this._types = null;
        });
      }
      return this._types.promise;
    }

    _check() {
      if (this._destroyed) throw new CancelledError("The widget was destroyed.");
    }

    async _api(method, path, options) {
      const { flow, body, key } = options;
      const sessionFor = flow ? flow.sessionFor : options.sessionFor || "";
      for (let attempt = 0; ; attempt += 1) {
        const token = await this._token(sessionFor);
        const res = await this._call(method, path, token, body, key);
        if (res.ok) return res.data || {};
        const error = (res.data && res.data.error) || {};
        const code = error.code || `http_${res.status}`;
        if (code === "session_expired") {
          // Renew once and retry; a second refusal means renewal itself does not help.
          if (attempt === 0) {
            await this._renew(sessionFor);
            continue;
          }
          throw new SessionExpiredError();
        }
        throw new SourceError(error.message || `The bridge answered ${res.status}.`, code, error.details, res.status);
      }
    }

    async _call(method, path, token, body, key) {
      const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (key) headers["Idempotency-Key"] = key;
      let res;
      try {
        res = await fetch(this._bridgeUrl + path, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body),
          mode: "cors", credentials: "omit", cache: "no-store",
        });
      } catch (_) {
        this._check();
        throw new SourceError("The bridge could not be reached.", "network_error");
      }
      const data = await res.json().catch(() => null);
      this._check();
      return { ok: res.ok, status: res.status, data };
    }

    async _token(sessionFor) {
      const s = this._session;
      if (!s || s.sessionFor !== sessionFor || Date.now() >= s.expiresAt - s.margin) {
        await this._renew(sessionFor);
      }
      return this._session.token;
    }

    async _ensureSession(sessionFor) {
      await this._token(sessionFor);
      return this._session.info;
    }

    _renew(sessionFor) {
      if (this._renewing && this._renewing.sessionFor === sessionFor) return this._renewing.promise;
      const promise = (async () => {
        let got;
        try {
          got = await this._fetchSession(sessionFor ? { sourceId: Number(sessionFor) } : {});
        } catch (err) {
          this._check();
          throw new SessionExpiredError(`Could not get a connect session: ${(err && err.message) || err}`);
        }
        this._check();
        if (!got || typeof got.token !== "string" || !got.token) {
          throw new SessionExpiredError("fetchSession() must resolve to {token, expires_at}.");
        }
        const res = await this._call("GET", "/v1/session", got.token);
        if (!res.ok) throw new SessionExpiredError("The bridge refused the new connect session.");
        const info = res.data || {};
        const now = Date.now();
        let expiresAt = Date.parse(info.expires_at || got.expires_at);
        if (!Number.isFinite(expiresAt)) expiresAt = now + 15 * 60 * 1000;
        // Renew a quarter of the lifetime early (1 s to 60 s): a slow click still finds it valid.
        const margin = Math.min(60000, Math.max(1000, (expiresAt - now) / 4));
        if (info.step_driver) this._learnDriver(info.step_driver);
        const previous = this._session;
        this._session = { sessionFor, token: got.token, expiresAt, margin, info };
        if (previous && previous.sessionFor === sessionFor) {
          this._emit("session_renewed", { expires_at: new Date(expiresAt).toISOString() });
        }
        this._scheduleRenewal();
        return this._session;
      })();
      this._renewing = { sessionFor, promise };
      const clear = () => {
        if (this._renewing && this._renewing.promise === promise) this._renewing = null;
      };
      promise.then(clear, clear);
      return promise;
    }

    _scheduleRenewal() {
      clearTimeout(this._renewTimer);
      this._renewTimer = null;
      const s = this._session;
      const flow = this._flow;
      // Only while a flow runs: an idle page should not keep minting sessions.
      if (!s || !flow || this._destroyed || s.sessionFor !== flow.sessionFor) return;
      const delay = Math.max(0, s.expiresAt - s.margin - Date.now());
      this._renewTimer = setTimeout(() => {
        this._renewTimer = null;
        if (this._flow && this._session === s) this._renew(s.sessionFor).catch(() => {});
      }, delay);
    }

    _emit(type, payload) {
      if (this._destroyed) return;
      const event = Object.freeze({ type, ...payload });
      for (const name of [type, "event"]) {
        for (const fn of [...(this._handlers.get(name) || [])]) {
          try {
            fn(event);
          } catch (err) {
            if (typeof window.reportError === "function") window.reportError(err);
          }
        }
      }
    }
  }

  window.StitchBridge = Object.freeze({
    version: VERSION,
    create: (options) => new Widget(options),
    // Back on the page after a redirect-mode step: create() with the same options, then resume().
    // `onEvent` hears the widget's events from the start (the instance is not handed back).
    resume: (options) => {
      if (!new URL(window.location.href).searchParams.has(RESUME_PARAM)) return Promise.resolve(null);
      let widget;
      try {
        widget = new Widget(options);
      } catch (err) {
        return Promise.reject(err);
      }
      if (options && typeof options.onEvent === "function") widget.on("event", options.onEvent);
      return widget.resume();
    },
    StitchBridgeError,
    PopupBlockedError,
    SessionExpiredError,
    CancelledError,
    SourceError,
  });
})();
