/* The popup's screens as DOM. Rendering only: each function draws one screen into #screen and
 * calls back with what the user did; the flow (flow.js) decides what happens next. */
"use strict";

const HIDDEN_PROPERTY_TYPES = new Set(["read_only", "system_provided_by_default"]);
const HINTS = {
  start_date: "YYYY-MM-DDT00:00:00Z",
  anchor_time: "YYYY-MM-DDTHH:MM:SSZ",
  cron_expression: "0 0 12 ? * MON-FRI *",
};

export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name.startsWith("on")) {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

function screen(...children) {
  const root = document.getElementById("screen");
  root.replaceChildren(...children);
  return root;
}

/* One step-error element per screen, created when there is something to say. */
export function showStepError(message) {
  const root = document.getElementById("screen");
  let box = root.querySelector('[data-testid="step-error"]');
  if (!message) {
    if (box) {
      box.remove();
    }
    return;
  }
  if (!box) {
    box = h("p", { class: "step-error", "data-testid": "step-error", role: "alert" });
    const heading = root.querySelector("h1");
    if (heading) {
      heading.after(box);
    } else {
      root.prepend(box);
    }
  }
  box.textContent = message;
}

export function setNavHidden(hidden) {
  document.querySelector('[data-role="nav"]').hidden = hidden;
}

export function onClose(callback) {
  document.querySelector('[data-testid="close"]').addEventListener("click", callback);
}

export function message(title, text) {
  screen(h("h1", {}, title), h("p", {}, text));
}

export function typeLabel(type) {
  const bare = String(type).replace(/^platform\./, "").replace(/[-_.]+/g, " ");
  return bare.replace(/\b\w/g, (letter) => letter.toUpperCase());
}

function enumOptions(schema) {
  // Patterns such as ^1$|^30$|^60$ list the only values: offer them as suggestions.
  const pattern = schema && schema.pattern;
  if (!pattern || !/^\^[\w.-]+\$(\|\^[\w.-]+\$)+$/.test(pattern)) {
    return null;
  }
  return pattern.split("|").map((part) => part.slice(1, -1));
}

function isBoolean(schema) {
  return Boolean(schema && schema.pattern === "^(true|false)$");
}

/* The control of one property: a checkbox for booleans, otherwise a text input that takes
 * Stitch's wire format (CONTRACT §8), with the allowed values as a datalist when known. */
function propertyControl(property, initial, locked) {
  const testid = `property-${property.name}`;
  const common = { id: testid, name: property.name, "data-testid": testid, disabled: locked };
  if (isBoolean(property.json_schema)) {
    return [h("input", { ...common, type: "checkbox", checked: initial === "true" })];
  }
  const options = enumOptions(property.json_schema);
  const listId = options ? `${testid}-values` : null;
  const input = h("input", {
    ...common,
    type: property.is_credential ? "password" : "text",
    autocomplete: "off",
    spellcheck: "false",
    list: listId,
    placeholder: property.is_credential && property.provided
      ? "(unchanged)"
      : HINTS[property.name] || (options ? options.join(", ") : null),
  });
  input.value = initial;
  const suggestions = options
    ? h("datalist", { id: listId }, options.map((value) => h("option", { value })))
    : null;
  return [input, suggestions];
}

export function controlValue(control) {
  return control.type === "checkbox" ? String(control.checked) : control.value;
}

function propertyField(property, initial, locked) {
  const [control, extra] = propertyControl(property, initial, locked);
  const label = h(
    "label",
    { for: control.id },
    property.name,
    property.is_required ? h("span", { class: "required" }, " *") : null,
  );
  const kind = control.type === "checkbox" ? "field checkbox" : "field";
  return { control, element: h("div", { class: kind, "data-field": property.name }, label, control, extra) };
}

/* The form step. `properties` are report-card property objects; `values` their current
 * (non-credential) values. Calls onSubmit({display_name, properties}) with what changed. */
export function formScreen({ title, displayName, properties, values, editing, onSubmit }) {
  const visible = properties.filter((p) => !HIDDEN_PROPERTY_TYPES.has(p.property_type));
  const ordered = [
    ...visible.filter((p) => p.is_required),
    ...visible.filter((p) => !p.is_required && p.property_type !== "user_provided_advanced"),
  ];
  const advanced = visible.filter((p) => !p.is_required && p.property_type === "user_provided_advanced");
  const fields = new Map();
  const render = (property) => {
    const initial = property.is_credential ? "" : String(values[property.name] ?? "");
    const locked = editing && property.property_type === "user_provided_immutable" && property.provided;
    const field = propertyField(property, initial, locked);
    fields.set(property.name, { control: field.control, initial: controlValue(field.control) });
    return field.element;
  };
  const nameInput = h("input", {
    id: "display-name",
    type: "text",
    "data-testid": "display-name",
    autocomplete: "off",
  });
  nameInput.value = displayName;
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "submit" }, editing ? "Save" : "Continue");
  const form = h(
    "form",
    { novalidate: true },
    h("div", { class: "field" }, h("label", { for: "display-name" }, "Display name", h("span", { class: "required" }, " *")), nameInput),
    ordered.map(render),
    advanced.length ? h("details", { class: "advanced" }, h("summary", {}, "Advanced settings"), advanced.map(render)) : null,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showFieldErrors({});
    const changed = {};
    for (const [name, { control, initial }] of fields) {
      const value = controlValue(control);
      if (value !== initial) {
        changed[name] = value;
      }
    }
    const name = nameInput.value.trim();
    submit.disabled = true;
    Promise.resolve(onSubmit({ display_name: editing && name === displayName ? undefined : name, properties: changed }))
      .finally(() => { submit.disabled = false; });
  });
  screen(h("h1", {}, title), form);
  return { fieldNames: new Set(fields.keys()) };
}

/* error-P next to each rejected property. */
export function showFieldErrors(errors) {
  const root = document.getElementById("screen");
  root.querySelectorAll(".field-error").forEach((node) => node.remove());
  for (const [name, text] of Object.entries(errors)) {
    const field = root.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (field) {
      field.append(h("span", { class: "field-error", "data-testid": `error-${name}`, role: "alert" }, text));
    }
  }
}

export function oauthScreen({ title, onAuthorize }) {
  const button = h("button", { type: "button", class: "primary", "data-testid": "authorize" }, "Authorize");
  button.addEventListener("click", () => {
    button.disabled = true;
    Promise.resolve(onAuthorize()).finally(() => { button.disabled = false; });
  });
  screen(
    h("h1", {}, title),
    h("p", {}, "Stitch needs your permission to read data from this account. You will be sent to the provider to sign in and approve access."),
    h("div", { class: "actions" }, button),
  );
}

/* The connection check. Returns setters for its status and for the submit control. */
export function checkScreen({ title, jobName }) {
  const status = h("span", { class: "status", "data-testid": "check-status" }, "running");
  const detail = h("p", { class: "muted" }, jobName ? `Job ${jobName}` : "");
  const actions = h("div", { class: "actions" });
  screen(h("h1", {}, title), h("p", {}, "Connection check: ", status), detail, actions);
  return {
    setStatus(value) {
      status.textContent = value;
      status.className = `status ${value}`;
    },
    setSubmit(label, onClick) {
      actions.replaceChildren();
      if (label) {
        actions.append(h("button", { type: "button", class: "primary", "data-testid": "submit", onclick: onClick }, label));
      }
    },
  };
}

/* Field selection: one checkbox per stream. Calls onSubmit(Set of checked tap_stream_ids). */
export function fieldsScreen({ title, streams, checked, onSubmit }) {
  const boxes = streams.map((stream) => {
    const box = h("input", {
      type: "checkbox",
      "data-testid": `stream-${stream.tap_stream_id}`,
      value: stream.tap_stream_id,
      checked: checked.has(stream.tap_stream_id),
    });
    return { box, item: h("li", {}, h("label", {}, box, stream.stream_name || stream.tap_stream_id)) };
  });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "submit" }, "Finish");
  const form = h(
    "form",
    {},
    h("ul", { class: "streams" }, boxes.map((b) => b.item)),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    const chosen = new Set(boxes.filter((b) => b.box.checked).map((b) => b.box.value));
    Promise.resolve(onSubmit(chosen)).finally(() => { submit.disabled = false; });
  });
  screen(h("h1", {}, title), h("p", {}, "Choose the tables to replicate."), form);
}
