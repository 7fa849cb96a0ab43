/* The step runner: connect, reconnect and resume flows, driving a source's steps to the end;
   the attempt's Idempotency-Key and the remembered step driver */

  mix({
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
    },

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
    },

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
      this._client.schedule();
      let run;
      if (blocked) run = Promise.reject(new PopupBlockedError());
      else if (flow.resuming) run = this._returnFlow(flow);
      else run = flow.sourceId ? this._resumeFlow(flow) : this._connectFlow(flow);
      run.then((result) => this._finish(flow, null, result), (err) => this._finish(flow, err));
      return flow.promise;
    },

    _finish(flow, err, result) {
      if (flow.done) return;
      flow.done = true;
      flow.scope.close();
      closeWindow(flow.popup);
      if (this._flow === flow) this._flow = null;
      clearTimeout(this._client.timer);
      if (this._destroyed) {
        flow.reject(new CancelledError("The widget was destroyed."));
        return;
      }
      if (!err) {
        this._forgetAttempt(flow);
        this._dialog.hide();
        flow.resolve(result);
        return;
      }
      if (err instanceof CancelledError) {
        this._forgetAttempt(flow);
        this._dialog.hide();
        this._emit("cancelled", { source_id: flow.sourceId, message: err.message });
      } else {
        const code = err.code || "internal";
        this._emit("error", { code, message: err.message || String(err), error: err });
        if (err instanceof PopupBlockedError) this._retryView(flow);
        else this._dialog.error(err);
      }
      flow.reject(err);
    },

    async _connectFlow(flow) {
      const info = await this._client.ensure(flow.sessionFor);
      flow.attempt = `stitch-bridge:attempt:${this._bridgeOrigin}:${info.end_user_id}:${flow.type}`;
      flow.key = this._attemptKey(flow.attempt, flow.key);
      flow.typeInfo = await this._client.typeInfo(flow, flow.type);
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
    },

    async _resumeFlow(flow) {
      await this._client.ensure(flow.sessionFor);
      const answer = await this._client.api("GET", `/v1/sources/${flow.sourceId}`, { flow });
      flow.type = flow.type || answer.source.type;
      flow.typeInfo = await this._client.typeInfo(flow, answer.source.type).catch(() => null);
      if (!answer.next_step && flow.kind === "reconnect" && flow.typeInfo) {
        // Nothing left to finish: reconnecting means editing its settings (the bridge's form,
        // whatever the driver: Stitch.js needs a step to open a window for).
        closeWindow(this._takePopup(flow));
        const edited = await this._formView(flow, answer.source);
        return this._drive(flow, edited.source, edited.next_step);
      }
      return this._drive(flow, answer.source, answer.next_step);
    },

    // Redirect mode, back on the page: the bridge's answer to the resume id stands in for
    // steps/complete of the step that left the page; the flow goes on from there.
    async _returnFlow(flow) {
      const info = await this._client.ensure(flow.sessionFor);
      if (!flow.resumeId) {
        throw new SourceError("The address carries more than one resume id.", "token_invalid");
      }
      this._dialog.view("Finishing the connection", ({ body }) => {
        body.append(h("p", { class: "sb-status", text: "Back from signing in. Finishing…" }));
      }).catch(() => {}); // replaced by the next step's panel; closing it ends nothing yet
      const answer = await this._client.api("POST", "/v1/resume", { flow, body: { resume_id: flow.resumeId } });
      const source = answer.source;
      flow.sourceId = source.id;
      flow.type = flow.type || source.type;
      if (flow.kind === "connect" && !flow.attempt) {
        flow.attempt = `stitch-bridge:attempt:${this._bridgeOrigin}:${info.end_user_id}:${flow.type}`;
      }
      flow.typeInfo = await this._client.typeInfo(flow, source.type).catch(() => null);
      const outcome = answer.outcome === "completed" ? "completed" : "failed";
      this._emit("step_completed", { step: answer.step || "oauth", outcome, source, resumed: true });
      const step = answer.next_step;
      // Not granted: the same step again, with its error shown and `authorize` to try again.
      const repeated = outcome !== "completed" && Boolean(step && step.type === (answer.step || "oauth"));
      return this._drive(flow, source, step, { receipt: answer.receipt, repeated });
    },

    async _createSource(flow, body) {
      let answer;
      try {
        answer = await this._client.api("POST", "/v1/sources", { flow, body, key: flow.key });
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
    },

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
    },

    async _runStep(flow, source, step, repeated) {
      let answer;
      const begin = { token: step.token };
      // Redirect mode: the provider's consent comes back to this page, not to a popup.
      if (flow.mode === "redirect" && step.type === "oauth") begin.return_url = this._returnTarget();
      try {
        answer = await this._client.api("POST", "/v1/steps/start", { flow, body: begin });
      } catch (err) {
        // A token minted before a session renewal may have lapsed with the old session: the
        // source, read again, carries a fresh one for the same step.
        if (!(err instanceof SourceError) || err.code !== "token_expired") throw err;
        return { ...(await this._client.api("GET", `/v1/sources/${source.id}`, { flow })), refreshed: true };
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
        done = await this._client.api("POST", "/v1/steps/complete", { flow, body: { token: step.token, outcome } });
      } catch (err) {
        // Expired during a long step: the bridge's reading of the source is the same answer,
        // without a receipt (a receipt comes only with a completed step).
        if (!(err instanceof SourceError) || err.code !== "token_expired") throw err;
        done = await this._client.api("GET", `/v1/sources/${source.id}`, { flow });
      }
      flow.token = null;
      this._emit("step_completed", { step: step.type, outcome, source: done.source });
      if (outcome === "cancelled") throw new CancelledError();
      return done;
    },

    _takePopup(flow) {
      const popup = flow.fresh && flow.popup && !flow.popup.closed ? flow.popup : null;
      flow.fresh = false;
      return popup;
    },
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
    },

    _forgetAttempt(flow) {
      try {
        const saved = flow.attempt && JSON.parse(window.localStorage.getItem(flow.attempt) || "null");
        if (saved && saved.key === flow.key) window.localStorage.removeItem(flow.attempt);
      } catch (_) { /* nothing stored */ }
    },

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
    },

    _learnDriver(driver) {
      if (driver !== "native" && driver !== "stitchjs") return;
      this._driverHint = driver;
      try {
        window.localStorage.setItem(this._driverKey, driver);
      } catch (_) { /* storage off: the hint lives as long as the page */ }
    },

    _typeName(flow) {
      return (flow.typeInfo && flow.typeInfo.display_name) || flow.type || "your source";
    },
  });
