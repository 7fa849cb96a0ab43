/* The connection check and the stream picker */

  const POLL_MS = 500;

  mix({
    _checkView(flow, source) {
      const name = this._typeName(flow);
      return this._dialog.view(`Checking ${name}`, ({ body, done, fail, scope, isOpen }) => {
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
            const now = await this._client.api("GET", `/v1/sources/${source.id}`, { flow });
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
    },

    async _streamsView(flow, source) {
      const listed = await this._client.api("GET", `/v1/sources/${source.id}/streams`, { flow });
      const streams = listed.data || [];
      return this._dialog.view("Choose what to sync", ({ body, done, fail, scope }) => {
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
            await this._client.api("PUT", `/v1/sources/${source.id}/streams`, { flow, body: { streams: chosen } });
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
    },
  });
