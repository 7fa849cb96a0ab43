/* The popup's flow: route by targetState, then walk the source's report card through form,
 * OAuth, connection check and field selection until it is fully configured, posting the
 * Stitch.js events (reference §10.4, §13.18) on the way. */
"use strict";

import { messageOf } from "./api.js";
import * as ui from "./ui.js";

const CHECK_POLL_MS = 500;
const SUCCEEDED_PAUSE_MS = 800;

const TARGETS = {
  CREATE: "app.connections.create",
  EDIT: "app.connections.details.edit",
  AUTHORIZE: "app.connections.details.authorize",
  CHECK: "app.connections.details.check",
  FIELDS: "app.connections.details.fields",
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function stepTypes(source) {
  return (source.report_card.steps || []).map((step) => step.type);
}

function formStep(card) {
  return (card.steps || []).find((step) => step.type === "form") || { properties: [] };
}

/* Stitch derives the schema name from the display name (reference §6.3). */
function derivedName(displayName) {
  return displayName.toLowerCase().replace(/[\s-]+/g, "_").replace(/[^a-z0-9_]/g, "").replace(/^_+|_+$/g, "");
}

function replicated(metadata) {
  return metadata.inclusion === "automatic" ||
    (metadata.inclusion === "available" && (metadata.selected === true || metadata["selected-by-default"] === true));
}

function fallbackReplicationKey(schema) {
  const fields = Object.entries(schema.properties || {});
  const usable = fields.find(([, spec]) => spec.format === "date-time") ||
    fields.find(([, spec]) => [].concat(spec.type || []).includes("integer"));
  return usable ? usable[0] : null;
}

/* Stream-level metadata (and a field when none would be replicated) that makes one stream
 * count as selected for the report card (reference §4.9). */
function selectionFor(stream, described) {
  const entries = described.metadata || [];
  const top = (entries.find((e) => e.breadcrumb.length === 0) || { metadata: {} }).metadata;
  const schema = typeof described.schema === "string" ? JSON.parse(described.schema) : described.schema || {};
  const wanted = { selected: true };
  const forced = top["forced-replication-method"];
  if (!forced && !top["replication-method"]) {
    wanted["replication-method"] = "FULL_TABLE";
  }
  const method = forced || top["replication-method"] || wanted["replication-method"];
  if (method === "INCREMENTAL" && !top["replication-key"]) {
    const key = (top["valid-replication-keys"] || [])[0] || fallbackReplicationKey(schema);
    if (key) {
      wanted["replication-key"] = key;
    }
  }
  if (top["is-view"] && !top["view-key-properties"]) {
    const names = Object.keys(schema.properties || {});
    wanted["view-key-properties"] = names.includes("id") ? ["id"] : names.slice(0, 1);
  }
  const metadata = [{ breadcrumb: [], metadata: wanted }];
  const fields = entries.filter((e) => e.breadcrumb.length === 2);
  if (!fields.some((e) => replicated(e.metadata))) {
    const pick = fields.find((e) => e.metadata.inclusion === "available");
    if (pick) {
      metadata.push({ breadcrumb: pick.breadcrumb, metadata: { selected: true } });
    }
  }
  return { tap_stream_id: stream.tap_stream_id, metadata };
}

export class Flow {
  /* context: the `update` data from Stitch.js; api: see api.js; emit(type, data) posts to the
   * opener; memory: {get(), set(patch)} over sessionStorage, for the OAuth round trip. */
  constructor({ context, api, emit, memory }) {
    this.context = context;
    this.target = context.targetState || {};
    this.params = this.target.params || {};
    this.api = api;
    this.emit = emit;
    this.memory = memory;
    this.screenId = 0;
    this.completed = false;
  }

  get closesItself() {
    return !this.context.preventIntegrationFormClose;
  }

  /* Entry: `oauthOutcome` is what the callback put in the URL fragment after a round trip. */
  async begin(oauthOutcome) {
    const remembered = this.memory.get().sourceId;
    if (oauthOutcome && remembered) {
      return this.withSource(remembered, (source) => this.afterOAuth(source, oauthOutcome));
    }
    switch (this.target.name) {
      case TARGETS.CREATE:
        if (remembered) {
          return this.withSource(remembered, (source) => this.advance(source));
        }
        return this.createForm(this.params.route);
      case TARGETS.EDIT:
        return this.withSource(this.params.id, (source) => this.editForm(source));
      case TARGETS.AUTHORIZE:
        return this.withSource(this.params.id, (source) =>
          stepTypes(source).includes("oauth") ? this.oauthStep(source) : this.advance(source));
      case TARGETS.CHECK:
        return this.withSource(this.params.id, (source) => this.checkStep(source));
      case TARGETS.FIELDS:
        return this.withSource(this.params.id, (source) => {
          const step = source.report_card.current_step_type;
          return step === "field_selection" || step === "fully_configured"
            ? this.fieldsStep(source)
            : this.advance(source);
        });
      default:
        ui.message("Unknown page", `This popup cannot open "${this.target.name}".`);
        return undefined;
    }
  }

  newScreen() {
    this.screenId += 1;
    return this.screenId;
  }

  async withSource(id, next) {
    const answer = await this.api("GET", `/v4/sources/${encodeURIComponent(id)}`);
    if (!answer.ok || !answer.body || answer.body.deleted_at) {
      this.newScreen();
      ui.message("Connection not found", `There is no connection with id ${id}.`);
      ui.showStepError(`Integration with id ${id} not found.`);
      this.emit("errorLoadingConnection", { id });
      return undefined;
    }
    this.memory.set({ sourceId: answer.body.id });
    return next(answer.body);
  }

  async reload(source) {
    const answer = await this.api("GET", `/v4/sources/${source.id}`);
    return answer.ok ? answer.body : source;
  }

  /* Where the report card says the source stands now. */
  advance(source) {
    switch (source.report_card.current_step_type) {
      case "form":
        return this.editForm(source, "Some required settings are still missing.");
      case "oauth":
        return this.oauthStep(source);
      case "discover_schema":
        return this.checkStep(source);
      case "field_selection":
        return this.fieldsStep(source);
      default:
        return this.complete(source);
    }
  }

  complete(source) {
    this.newScreen();
    ui.message("All set", `${source.display_name} is connected.`);
    if (!this.completed) {
      this.completed = true;
      this.emit("integrationFlowCompleted", { id: source.id, type: source.type });
    }
    if (this.closesItself) {
      window.close();
    }
  }

  showApiError(answer, fieldNames) {
    const body = answer.body || {};
    if (body.error === "InvalidProperties" && body.data && Array.isArray(body.data.bad_properties)) {
      const bad = body.data.bad_properties;
      ui.showFieldErrors(Object.fromEntries(bad.filter((n) => fieldNames.has(n)).map((n) => [n, "This value is not valid."])));
      const unseen = bad.filter((n) => !fieldNames.has(n));
      ui.showStepError(unseen.length ? `Invalid properties: ${unseen.join(", ")}` : null);
      return;
    }
    ui.showStepError(messageOf(body));
  }

  async createForm(type) {
    const answer = await this.api("GET", `/v4/source-types/${encodeURIComponent(type)}`);
    if (!answer.ok || !answer.body || !answer.body.steps) {
      this.newScreen();
      ui.message("Unknown source type", `Stitch has no source type "${type}".`);
      ui.showStepError(`Unknown source type: "${type}".`);
      this.emit("errorLoadingIntegrationType", { type });
      return;
    }
    const displayName = await this.suggestDisplayName(ui.typeLabel(type));
    this.newScreen();
    const view = ui.formScreen({
      title: `Connect ${ui.typeLabel(type)}`,
      displayName,
      properties: formStep(answer.body).properties,
      values: {},
      editing: false,
      onSubmit: async (changes) => {
        const created = await this.api("POST", "/v4/sources", {
          type,
          display_name: changes.display_name,
          properties: changes.properties,
        });
        if (!created.ok) {
          this.showApiError(created, view.fieldNames);
          return;
        }
        const source = created.body;
        this.memory.set({ sourceId: source.id });
        this.emit("connectionCreated", { id: source.id, type: source.type });
        await this.advance(source);
      },
    });
  }

  /* A display name no live source of the account uses yet: "Recurly", else "Recurly 2"… */
  async suggestDisplayName(base) {
    const listed = await this.api("GET", "/v4/sources");
    const live = listed.ok && Array.isArray(listed.body) ? listed.body.filter((s) => !s.deleted_at) : [];
    const taken = new Set(live.flatMap((s) => [s.display_name, s.name]));
    for (let n = 1; ; n += 1) {
      const candidate = n === 1 ? base : `${base} ${n}`;
      if (!taken.has(candidate) && !taken.has(derivedName(candidate))) {
        return candidate;
      }
    }
  }

  editForm(source, notice) {
    this.newScreen();
    const view = ui.formScreen({
      title: `${source.display_name} settings`,
      displayName: source.display_name,
      properties: formStep(source.report_card).properties,
      values: source.properties || {},
      editing: true,
      onSubmit: async (changes) => {
        const body = { properties: changes.properties };
        if (changes.display_name !== undefined) {
          body.display_name = changes.display_name;
        }
        const updated = await this.api("PUT", `/v4/sources/${source.id}`, body);
        if (!updated.ok) {
          this.showApiError(updated, view.fieldNames);
          return;
        }
        this.emit("connectionUpdated", { id: updated.body.id, type: updated.body.type });
        await this.advance(updated.body);
      },
    });
    ui.showStepError(notice || null);
  }

  oauthStep(source, problem) {
    this.newScreen();
    ui.oauthScreen({
      title: `Authorize ${ui.typeLabel(source.type)}`,
      onAuthorize: async () => {
        const started = await this.api("POST", "/v2/js-client/oauth/start", { source_id: source.id });
        if (!started.ok) {
          ui.showStepError(messageOf(started.body));
          return;
        }
        this.memory.set({ sourceId: source.id });
        window.location.assign(started.body.authorize_url);
      },
    });
    ui.showStepError(problem || null);
  }

  async afterOAuth(source, outcome) {
    if (outcome === "approved") {
      this.emit("authorizeSuccess", { id: source.id, type: source.type });
      return this.advance(source);
    }
    if (outcome === "denied") {
      return this.oauthStep(source, "Access was denied at the provider. Authorize again to continue.");
    }
    this.emit("authorizeFailure", { id: source.id, type: source.type });
    return this.oauthStep(source, "The provider did not complete the authorization. Try again.");
  }

  async checkStep(source) {
    const screenId = this.newScreen();
    const discover = this.target.name === TARGETS.CHECK;
    const view = ui.checkScreen({
      title: `Checking ${source.display_name}`,
      jobName: (discover && this.params.check_job_name) || source.check_job_name,
    });
    // On the check screen `submit` leaves it: that ends displayDiscoveryOutputForSource.
    if (discover) {
      view.setSubmit("Done", () => this.complete(source));
    }
    while (screenId === this.screenId) {
      const answer = await this.api("GET", `/v4/sources/${source.id}/last-connection-check`);
      const status = answer.ok && answer.body ? answer.body.status : "running";
      if (screenId !== this.screenId) {
        return;
      }
      view.setStatus(status);
      if (status === "failed") {
        ui.showStepError(answer.body.discovery_error_message || "The connection check failed.");
        if (!discover) {
          view.setSubmit("Edit settings", () => this.editForm(source));
        }
        return;
      }
      if (status === "succeeded") {
        const current = await this.reload(source);
        if (current.report_card.current_step_type !== "discover_schema") {
          await sleep(SUCCEEDED_PAUSE_MS);
          if (screenId === this.screenId) {
            await this.advance(current);
          }
          return;
        }
      }
      await sleep(CHECK_POLL_MS);
    }
  }

  async fieldsStep(source) {
    const answer = await this.api("GET", `/v4/sources/${source.id}/streams`);
    this.newScreen();
    if (!answer.ok || !Array.isArray(answer.body)) {
      ui.message("Streams unavailable", "The streams of this connection could not be loaded.");
      ui.showStepError(messageOf(answer.body));
      return;
    }
    const defaults = (this.context.additionalState || {}).default_selections || {};
    const checked = new Set(
      answer.body
        .filter((s) => s.selected === true ||
          (s.selected == null && (defaults[s.tap_stream_id] === true || defaults[s.stream_name] === true)))
        .map((s) => s.tap_stream_id),
    );
    ui.fieldsScreen({
      title: `Select streams for ${source.display_name}`,
      streams: answer.body,
      checked,
      onSubmit: (chosen) => this.saveSelection(source, answer.body, chosen),
    });
  }

  async saveSelection(source, streams, chosen) {
    const changes = [];
    for (const stream of streams) {
      if (chosen.has(stream.tap_stream_id) && stream.selected !== true) {
        const described = await this.api("GET", `/v4/sources/${source.id}/streams/${stream.stream_id}`);
        if (!described.ok) {
          ui.showStepError(messageOf(described.body));
          return;
        }
        changes.push(selectionFor(stream, described.body));
      } else if (!chosen.has(stream.tap_stream_id) && stream.selected === true) {
        changes.push({ tap_stream_id: stream.tap_stream_id, metadata: [{ breadcrumb: [], metadata: { selected: false } }] });
      }
    }
    if (changes.length) {
      const saved = await this.api("PUT", `/v4/sources/${source.id}/streams/metadata`, { streams: changes });
      if (!saved.ok) {
        ui.showStepError(messageOf(saved.body));
        return;
      }
    }
    const current = await this.reload(source);
    if (current.report_card.current_step_type === "fully_configured") {
      this.complete(current);
    } else {
      ui.showStepError("Select at least one stream to finish.");
    }
  }
}
