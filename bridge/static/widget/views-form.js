/* The native step dispatcher and the settings form */

  function isBoolean(prop) {
    const schema = prop.json_schema || {};
    return schema.type === "boolean" || schema.pattern === "^(true|false)$";
  }

  // An enum (the bridge narrows schedules to what end users may choose) or a pattern such as
  // ^1$|^30$|^60$ lists the only values accepted: offer them as choices.
  function choicesFor(prop) {
    const schema = prop.json_schema || {};
    if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum.map(String);
    const pattern = schema.pattern;
    if (typeof pattern !== "string" || !/^\^[\w.-]+\$(\|\^[\w.-]+\$)+$/.test(pattern)) return null;
    return pattern.split("|").map((part) => part.slice(1, -1));
  }

  function placeholderFor(prop) {
    const schema = prop.json_schema || {};
    if (typeof schema.pattern === "string" && schema.pattern.includes("T00:00:00Z")) {
      return "2024-01-01T00:00:00Z";
    }
    if (schema.format === "date-time") return "2024-01-01T00:00:00Z";
    return "";
  }

  mix({
    async _nativeStep(flow, source, step, answer, repeated) {
      // A blank window opened for Stitch.js serves only the OAuth step here; close it otherwise.
      if (answer.action !== "oauth") closeWindow(this._takePopup(flow));
      switch (answer.action) {
        case "form":
          await this._formView(flow, source);
          return "completed";
        case "oauth":
          return this._oauthView(flow, source, answer, repeated);
        case "wait":
          return this._checkView(flow, source);
        case "select_streams":
          return this._streamsView(flow, source);
        default:
          throw new SourceError(`Unsupported step ${answer.action}.`, "unsupported_step");
      }
    },

    _formView(flow, source) {
      const info = flow.typeInfo || { display_name: this._typeName(flow), form: [] };
      return this._dialog.view(`Connect ${info.display_name}`, ({ body, done, fail, scope }) => {
        const inputs = new Map();
        const errors = new Map();
        const stepError = h("p", { testid: "step-error", class: "sb-error", role: "alert", hidden: true });
        const field = (id, label, input, error, hint) => h("div", { class: "sb-field" },
          h("label", { for: id, text: label }), input, hint, error);
        const displayId = `sb-${randomId()}`;
        const displayName = h("input", {
          id: displayId, type: "text", testid: "display-name", autocomplete: "off",
          placeholder: info.display_name,
        });
        const required = [];
        const advanced = [];
        for (const prop of info.form || []) {
          const id = `sb-${randomId()}`;
          const boolean = isBoolean(prop);
          const choices = boolean ? null : choicesFor(prop);
          const common = {
            id, name: prop.name, testid: `property-${prop.name}`, "aria-required": prop.is_required ? "true" : null,
          };
          const input = choices
            ? h("select", common, h("option", { value: "", text: "(default)" }),
              choices.map((value) => h("option", { value, text: value })))
            : h("input", {
              ...common, autocomplete: "off",
              type: boolean ? "checkbox" : prop.is_credential ? "password" : "text",
              placeholder: boolean ? null : placeholderFor(prop) || null,
            });
          const error = h("p", { testid: `error-${prop.name}`, class: "sb-error", hidden: true });
          inputs.set(prop.name, { prop, input });
          errors.set(prop.name, error);
          const label = `${prop.label || prop.name}${prop.is_required ? " *" : ""}`;
          const row = boolean
            ? h("div", { class: "sb-field sb-check-row" }, input, h("label", { for: id, text: label }), error)
            : field(id, label, input, error, null);
          // What must be filled stays in sight; everything optional folds away.
          (prop.is_required ? required : advanced).push(row);
        }
        const submit = h("button", { type: "submit", testid: "submit", class: "sb-primary" }, flow.kind === "connect" ? "Connect" : "Save");
        const form = h("form", { class: "sb-form", novalidate: true },
          stepError,
          field(displayId, "Name", displayName, null, null),
          required,
          advanced.length ? h("details", { class: "sb-advanced" }, h("summary", { text: "More settings (optional)" }), advanced) : null,
          h("div", { class: "sb-actions" }, submit));
        body.append(form);
        let busy = false;
        scope.listen(form, "submit", async (event) => {
          event.preventDefault();
          if (busy) return; // a double click submits once
          busy = true;
          submit.disabled = true;
          stepError.hidden = true;
          for (const el of errors.values()) el.hidden = true;
          const properties = {};
          for (const [name, { prop, input }] of inputs) {
            if (input.type === "checkbox") {
              if (input.checked) properties[name] = "true";
              else if (prop.is_required) properties[name] = "false";
            } else if (input.value.trim() !== "") {
              properties[name] = input.value.trim();
            }
          }
          const body = { properties };
          if (displayName.value.trim()) body.display_name = displayName.value.trim();
          try {
            const answer = source
              ? await this._client.api("PUT", `/v1/sources/${source.id}`, { flow, body })
              : await this._createSource(flow, { type: flow.type, ...body });
            done(answer);
          } catch (err) {
            if (!(err instanceof SourceError)) {
              fail(err);
              return;
            }
            this._emit("error", { code: err.code, message: err.message, error: err });
            const messages = (err.details && err.details.properties) || {};
            const bad = new Set([...((err.details && err.details.bad_properties) || []), ...Object.keys(messages)]);
            const elsewhere = [];
            for (const name of bad) {
              const el = errors.get(name);
              const text = messages[name] || "This value was not accepted.";
              if (el) {
                el.textContent = text;
                el.hidden = false;
              } else {
                elsewhere.push(`${name}: ${text}`);
              }
            }
            if (!bad.size || elsewhere.length) {
              stepError.textContent = elsewhere.length ? elsewhere.join(" ") : err.message;
              stepError.hidden = false;
            }
            busy = false;
            submit.disabled = false;
          }
        });
        const first = form.querySelector("input");
        if (first) scope.timeout(() => first.focus(), 0);
      });
    },
  });
