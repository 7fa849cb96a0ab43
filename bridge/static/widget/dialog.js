/* The dialog: one panel at a time, its keyboard focus trap, notices, the popup-blocked retry */

  // What Tab can reach inside the dialog: enabled, rendered (not in a closed <details> or
  // hidden), and in the tab order.
  const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  function focusables(root) {
    return [...root.querySelectorAll(FOCUSABLE)].filter(
      (el) => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0,
    );
  }

  mix({

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
    },

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
    },

    _restoreFocus() {
      const opener = this._opener;
      this._opener = null;
      if (opener && opener !== document.body && opener.isConnected && typeof opener.focus === "function") {
        opener.focus();
      }
    },

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
    },

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
    },
    _errorView(err) {
      this._notice("Something went wrong", err.message || String(err), () => {});
    },

    _notice(title, message, addActions) {
      this._view(title, ({ body, scope }) => {
        const actions = h("div", { class: "sb-actions" });
        body.append(h("p", { testid: "step-error", class: "sb-error", role: "alert", text: message }), actions);
        addActions(scope, actions);
      }).catch(() => this._hide());
    },

    _hide() {
      this._viewScope.close();
      const open = !this._root.hidden;
      this._root.replaceChildren();
      this._root.hidden = true;
      if (open) this._restoreFocus();
    },
  });
