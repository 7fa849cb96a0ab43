/* The widget object: options, state, events, lifecycle. It owns its API client (api.js: the
   session, requests, typed errors) and its dialog (dialog.js: panels, focus); the step runner,
   transport, views and after-connect parts add their methods to Widget.prototype through mix(),
   sharing the flow state kept here. */

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
      this._client = new Client(this, this._bridgeUrl, opts.fetchSession);
      this._handlers = new Map();
      this._scope = new Scope(); // lives as long as the widget
      this._elements = [];
      this._stitch = null;
      this._driverKey = `stitch-bridge:driver:${this._bridgeOrigin}`;
      this._redirectKey = `stitch-bridge:redirect:${this._bridgeOrigin}`;
      this._driverHint = this._remembered();
      this._flow = null;
      this._destroyed = false;
      this._after = { known: new Map(), watched: new Map(), timer: null, onVisible: null }; // after connecting
      this._watchInterval = Math.max(1000, Number(opts.watchInterval) || 5000);

      this._dialog = new Dialog(this, opts.container || document.body);
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
      this.ready = this._client.ensure("")
        .then(() => this._client.sourceTypes(""))
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
      clearTimeout(this._client.timer);
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
      this._dialog.scope.close();
      this._scope.close();
      for (const el of this._elements.splice(0)) el.remove();
      const open = !this._dialog.root.hidden;
      this._dialog.root.remove();
      if (open) this._dialog.restoreFocus();
      this._handlers.clear();
    }

    _check() {
      if (this._destroyed) throw new CancelledError("The widget was destroyed.");
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

  // Each part's methods join the prototype as class methods do: writable, not enumerable.
  const mix = (methods) => {
    for (const [name, value] of Object.entries(methods)) {
      Object.defineProperty(Widget.prototype, name, { value, writable: true, configurable: true });
    }
  };
