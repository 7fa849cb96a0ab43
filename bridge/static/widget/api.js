/* The bridge API client: the connect session (fetch, renewal), typed errors, source types */

  mix({
    async _typeInfo(flow, type) {
      const types = await this._sourceTypes(flow.sessionFor);
      const found = types.find((t) => t.type === type);
      if (!found) throw new SourceError(`Source type ${type} is not available.`, "source_type_not_allowed");
      return found;
    },

    _sourceTypes(sessionFor) {
      if (!this._types || this._types.sessionFor !== sessionFor) {
        const promise = this._api("GET", "/v1/source-types", { sessionFor }).then((r) => r.data || []);
        this._types = { sessionFor, promise };
        promise.catch(() => {
          if (this._types && this._types.promise === promise) this._types = null;
        });
      }
      return this._types.promise;
    },
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
    },

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
    },

    async _token(sessionFor) {
      const s = this._session;
      if (!s || s.sessionFor !== sessionFor || Date.now() >= s.expiresAt - s.margin) {
        await this._renew(sessionFor);
      }
      return this._session.token;
    },

    async _ensureSession(sessionFor) {
      await this._token(sessionFor);
      return this._session.info;
    },

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
    },

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
    },
  });
