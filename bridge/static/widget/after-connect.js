/* After connecting (CONTRACT §4.8): source calls, watch, and the events their answers imply */

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

  mix({
    /* What the page acts on or watches is remembered (the last Source seen per id); each newer
       answer is compared with it and the differences become events. Only sources whose sync is
       running are polled, every `watchInterval` ms: an idle page sends nothing. */

    getSource(options) {
      return this._afterCall(options, "getSource", "GET", "", undefined, null);
    },

    sync(options) {
      return this._afterCall(options, "sync", "POST", "/sync", undefined, "sync");
    },

    pause(options) {
      return this._afterCall(options, "pause", "POST", "/pause", undefined, "pause");
    },

    unpause(options) {
      return this._afterCall(options, "unpause", "POST", "/unpause", undefined, "unpause");
    },

    setSchedule(options) {
      const o = options || {};
      const body = {};
      if (o.frequencyInMinutes !== undefined) body.frequency_in_minutes = o.frequencyInMinutes;
      if (o.anchorTime !== undefined) body.anchor_time = o.anchorTime;
      if (o.cronExpression !== undefined) body.cron_expression = o.cronExpression;
      return this._afterCall(options, "setSchedule", "PUT", "/schedule", body, "schedule");
    },

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
    },

    async _afterCall(options, name, method, suffix, body, acted) {
      const id = Number(options && options.sourceId);
      if (this._destroyed) throw new StitchBridgeError("This widget was destroyed.", "destroyed");
      if (!Number.isInteger(id) || id <= 0) throw new TypeError(`${name}() needs {sourceId}`);
      // The session a running reconnect uses covers this source too: no renewal back and forth.
      const own = this._client.session && this._client.session.sessionFor === String(id) ? String(id) : "";
      const answer = await this._client.api(method, `/v1/sources/${id}${suffix}`, { sessionFor: own, body });
      const source = answer.source;
      if (!source || typeof source !== "object") throw new SourceError("The bridge answered without a source.", "internal");
      this._observe(source, acted);
      return source;
    },

    _observe(source, acted) {
      const after = this._after;
      const id = source.id;
      const previous = after.known.get(id);
      // What the page just did is news even without a baseline: compare with "before it".
      const before = previous || (acted ? AFTER_BEFORE[acted](source) : null);
      if (previous || acted || after.watched.has(id)) after.known.set(id, source);
      if (before) for (const [type, extra] of afterEvents(before, source)) this._emit(type, { source, ...extra });
      this._pollRunning();
    },

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
    },

  });
