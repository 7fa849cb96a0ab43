/* The OAuth step: sign-in in a popup (ticket by postMessage) or by a top-level POST in redirect mode */

  mix({
    _oauthView(flow, source, answer, repeated) {
      const name = this._typeName(flow);
      return this._dialog.view(`Authorize ${name}`, ({ body, done, fail, scope, isOpen }) => {
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
              const now = await this._client.api("GET", `/v1/sources/${source.id}`, { flow });
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
    },
  });
