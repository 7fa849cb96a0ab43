/* Steps that leave the page: popup windows (Stitch.js in a window opened by the click, messages
   from its exact origin only) and redirect mode (full-page navigation and the way back) */

  const STITCH_FUNCTIONS = new Set([
    "addSource", "editSource", "authorizeSource", "onlyAuthorizeSource",
    "displayDiscoveryOutputForSource", "selectStreamsForSource",
  ]);
  const STITCH_FAILURES = new Set([
    "errorLoadingConnection", "errorLoadingIntegrationType", "errorUpgradingEphemeralToken",
    "authorizeFailure",
  ]);
  const POPUP_FEATURES = "popup,width=560,height=760";
  // Redirect mode: the single-use query parameter the bridge sends the browser back with.
  const RESUME_PARAM = "stitch_bridge_resume";
  // Browsers inside other apps (Facebook, Instagram, LINE, LinkedIn, Twitter/X, Android WebViews)
  // open popups as new views the page never hears from again: full-page navigation works there.
  const IN_APP_BROWSER = /FBAN|FBAV|Instagram|Line\/|LinkedInApp|Twitter|; wv\)/;

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

  function isPrematureClose(err, Stitch) {
    if (!err) return false;
    if (Stitch && Stitch.AppClosedPrematurelyError && err instanceof Stitch.AppClosedPrematurelyError) {
      return true;
    }
    return err.name === "AppClosedPrematurelyError" || /closed before reaching end/i.test(err.message || "");
  }

  mix({

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
    },

    _stitchStep(flow, Stitch, popup, answer) {
      const fn = answer.js && answer.js.function;
      if (!STITCH_FUNCTIONS.has(fn) || typeof Stitch[fn] !== "function") {
        return Promise.reject(new SourceError(`Unsupported Stitch.js step ${fn}.`, "unsupported_step"));
      }
      flow.popup = popup;
      const name = this._typeName(flow);
      const waiting = this._dialog.view(`Connect ${name}`, ({ body }) => {
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
    },

    _redirectUnsupported() {
      return new SourceError(
        "This step needs its own window, and the browser did not open it.", "redirect_unsupported",
      );
    },

    _returnTarget() {
      return this._returnUrl || currentUrlWithoutResume();
    },

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
    },

    _takeRedirectHint() {
      try {
        const saved = JSON.parse(window.sessionStorage.getItem(this._redirectKey) || "null");
        window.sessionStorage.removeItem(this._redirectKey);
        if (saved && typeof saved === "object" && saved.until > Date.now()) return saved;
      } catch (_) { /* nothing stored */ }
      return {};
    },

    _gateView(flow, step, repeated) {
      return this._dialog.view(`Connect ${this._typeName(flow)}`, ({ body, done, fail, scope }) => {
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
    },

    _retryView(blocked) {
      this._dialog.notice("Allow the window", "Your browser blocked the window this step needs.", (scope, actions) => {
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
    },
  });
