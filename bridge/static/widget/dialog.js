/* The dialog: one panel at a time, its keyboard focus trap, notices. It knows
   nothing of flows: the views build panels in it and the widget shows errors with it. */

  // What Tab can reach inside the dialog: enabled, rendered (not in a closed <details> or
  // hidden), and in the tab order.
  const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  function focusables(root) {
    return [...root.querySelectorAll(FOCUSABLE)].filter(
      (el) => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0,
    );
  }

  class Dialog {
    /* w: the widget, asked before each panel whether it was destroyed. */
    constructor(w, container) {
      this.w = w;
      this.scope = new Scope(); // lives as long as the panel on screen
      this.root = h("div", {
        testid: "stitch-bridge", class: "sb-root", hidden: true, role: "dialog",
        "aria-modal": "true", "aria-label": "Connect a data source", tabindex: "-1",
      });
      this.opener = null; // what had focus when the dialog opened: it gets it back on close
      container.append(this.root);
    }

    /* Shows one panel; resolves with what its controls decide, rejects with CancelledError when
       the person closes it. Replacing the panel drops its listeners and timers. */
    view(title, build) {
      this.w._check();
      this.scope.close();
      const scope = new Scope();
      this.scope = scope;
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
        if (this.root.hidden) this.opener = document.activeElement;
        this.root.replaceChildren(h("div", { class: "sb-panel" },
          h("div", { class: "sb-head" }, h("h2", { class: "sb-title", text: title }), close), body));
        this.root.hidden = false;
        this.keys(scope, () => fail(new CancelledError()));
        build({ body, done, fail, scope, isOpen: () => open });
        // Focus moves into a dialog that opens, and stays in it when a panel replaces the one
        // that held it: to the panel's first control (never the close button), or the dialog.
        if (!this.root.contains(document.activeElement)) {
          (focusables(body)[0] || this.root).focus({ preventScroll: true });
        }
      });
    }

    /* The WAI-ARIA modal dialog keys: Tab and Shift+Tab cycle through the dialog's controls and
       never reach the page behind it; Escape cancels, as the close button does. Heard on the
       document, before the page's own handlers, so that focus which strayed still comes back. */
    keys(scope, cancel) {
      scope.listen(document, "keydown", (event) => {
        if (this.root.hidden || event.defaultPrevented || event.isComposing) return;
        if (event.key === "Escape") {
          event.preventDefault();
          cancel();
          return;
        }
        if (event.key !== "Tab") return;
        const items = focusables(this.root);
        const at = items.indexOf(document.activeElement);
        const wrap = event.shiftKey ? at <= 0 : at === -1 || at === items.length - 1;
        if (!wrap) return; // the browser's own next step stays inside
        event.preventDefault();
        const target = event.shiftKey ? items[items.length - 1] : items[0];
        (target || this.root).focus();
      }, true);
    }

    restoreFocus() {
      const opener = this.opener;
      this.opener = null;
      if (opener && opener !== document.body && opener.isConnected && typeof opener.focus === "function") {
        opener.focus();
      }
    }

    error(err) {
      this.notice("Something went wrong", err.message || String(err), () => {});
    }

    notice(title, message, addActions) {
      this.view(title, ({ body, scope }) => {
        const actions = h("div", { class: "sb-actions" });
        body.append(h("p", { testid: "step-error", class: "sb-error", role: "alert", text: message }), actions);
        addActions(scope, actions);
      }).catch(() => this.hide());
    }

    hide() {
      this.scope.close();
      const open = !this.root.hidden;
      this.root.replaceChildren();
      this.root.hidden = true;
      if (open) this.restoreFocus();
    }
  }
