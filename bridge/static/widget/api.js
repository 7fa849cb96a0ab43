/* The bridge API client: the connect session (fetch, renewal), typed errors, source types */

  class Client {
    /* w: the widget, asked whether it was destroyed and told of renewals and the step driver. */
    constructor(w, url, fetchSession) {
      this.w = w;
      this.url = url;
      this.fetchSession = fetchSession;
      this.session = null;
      this.renewing = null;
      this.timer = null;
      this.types = null;
    }

    async typeInfo(flow, type) {
      const types = await this.sourceTypes(flow.sessionFor);
      const found = types.find((t) => t.type === type);
      if (!found) throw new SourceError(`Source type ${type} is not available.`, "source_type_not_allowed");
      return found;
    }

    sourceTypes(sessionFor) {
      if (!this.types || this.types.sessionFor !== sessionFor) {
        const promise = this.api("GET", "/v1/source-types", { sessionFor }).then((r) => r.data || []);
        this.types = { sessionFor, promise };
        promise.catch(() => {
          if (this.types && this.types.promise === promise) this.types = null;
        });
      }
      return this.types.promise;
    }
    async api(method, path, options) {
      const { flow, body, key } = options;
      const sessionFor = flow ? flow.sessionFor : options.sessionFor || "";
      for (let attempt = 0; ; attempt += 1) {
        const token = await this.token(sessionFor);
        const res = await this.call(method, path, token, body, key);
        if (res.ok) return res.data || {};
        const error = (res.data && res.data.error) || {};
        const code = error.code || `http_${res.status}`;
        if (code === "session_expired") {
          // Renew once and retry; a second refusal means renewal itself does not help.
          if (attempt === 0) {
            await this.renew(sessionFor);
            continue;
          }
          throw new SessionExpiredError();
        }
        throw new SourceError(error.message || `The bridge answered ${res.status}.`, code, error.details, res.status);
      }
    }

    async call(method, path, token, body, key) {
      const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (key) headers["Idempotency-Key"] = key;
      let res;
      try {
        res = await fetch(this.url + path, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body),
          mode: "cors", credentials: "omit", cache: "no-store",
        });
      } catch (_) {
        this.w._check();
        throw new SourceError("The bridge could not be reached.", "network_error");
      }
      const data = await res.json().catch(() => null);
      this.w._check();
      return { ok: res.ok, status: res.status, data };
    }

    async token(sessionFor) {
      const s = this.session;
      if (!s || s.sessionFor !== sessionFor || Date.now() >= s.expiresAt - s.margin) {
        await this.renew(sessionFor);
      }
      return this.session.token;
    }

    async ensure(sessionFor) {
      await this.token(sessionFor);
      return this.session.info;
    }

    renew(sessionFor) {
      if (this.renewing && this.renewing.sessionFor === sessionFor) return this.renewing.promise;
      const promise = (async () => {
        let got;
        try {
          got = await this.fetchSession(sessionFor ? { sourceId: Number(sessionFor) } : {});
        } catch (err) {
          this.w._check();
          throw new SessionExpiredError(`Could not get a connect session: ${(err && err.message) || err}`);
        }
        this.w._check();
        if (!got || typeof got.token !== "string" || !got.token) {
          throw new SessionExpiredError("fetchSession() must resolve to {token, expires_at}.");
        }
        const res = await this.call("GET", "/v1/session", got.token);
        if (!res.ok) throw new SessionExpiredError("The bridge refused the new connect session.");
        const info = res.data || {};
        const now = Date.now();
        let expiresAt = Date.parse(info.expires_at || got.expires_at);
        if (!Number.isFinite(expiresAt)) expiresAt = now + 15 * 60 * 1000;
        // Renew a quarter of the lifetime early (1 s to 60 s): a slow click still finds it valid.
        const margin = Math.min(60000, Math.max(1000, (expiresAt - now) / 4));
        if (info.step_driver) this.w._learnDriver(info.step_driver);
        const previous = this.session;
        this.session = { sessionFor, token: got.token, expiresAt, margin, info };
        if (previous && previous.sessionFor === sessionFor) {
          this.w._emit("session_renewed", { expires_at: new Date(expiresAt).toISOString() });
        }
        this.schedule();
        return this.session;
      })();
      this.renewing = { sessionFor, promise };
      const clear = () => {
        if (this.renewing && this.renewing.promise === promise) this.renewing = null;
      };
      promise.then(clear, clear);
      return promise;
    }

    schedule() {
      clearTimeout(this.timer);
      this.timer = null;
      const s = this.session;
      const flow = this.w._flow;
      // Only while a flow runs: an idle page should not keep minting sessions.
      if (!s || !flow || this.w._destroyed || s.sessionFor !== flow.sessionFor) return;
      const delay = Math.max(0, s.expiresAt - s.margin - Date.now());
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.w._flow && this.session === s) this.renew(s.sessionFor).catch(() => {});
      }, delay);
    }
  }
