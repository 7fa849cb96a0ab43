/*
 * Stitch.js for the Stitch Connect emulator: the public surface of stitch-js 1.1.1
 * (window.Stitch), written for this project. It opens <HOST>/v2/js-client, where HOST is the
 * origin this script was loaded from, and speaks the vendor's postMessage protocol.
 *
 * Two deliberate differences from the vendor's script: it posts only to the popup's origin
 * (never "*"), and it accepts a message only when it comes from the popup AND from that origin.
 */
(function (global) {
  "use strict";

  const HOST = scriptOrigin();
  const ROOT = `${HOST}/v2/js-client`;
  const POLL_MS = 1000;

  const EVENT_TYPES = Object.freeze({
    BOOTSTRAP: "bootstrap",
    CLOSED: "closed",
    CONNECTION_CREATED: "connectionCreated",
    CONNECTION_UPDATED: "connectionUpdated",
    ERROR_LOADING_CONNECTION: "errorLoadingConnection",
    ERROR_LOADING_INTEGRATION_TYPE: "errorLoadingIntegrationType",
    ERROR_UPGRADING_EPHEMERAL_TOKEN: "errorUpgradingEphemeralToken",
    INTEGRATION_FLOW_COMPLETED: "integrationFlowCompleted",
    INTEGRATION_FORM_CLOSE: "integrationFormClose",
    AUTHORIZE_SUCCESS: "authorizeSuccess",
    AUTHORIZE_FAILURE: "authorizeFailure",
  });
  const KNOWN_TYPES = new Set(Object.values(EVENT_TYPES));

  const STEPS = Object.freeze({
    CREATE: "CREATE",
    EDIT: "EDIT",
    AUTHORIZE: "AUTHORIZE",
    ONLY_AUTHORIZE: "ONLY_AUTHORIZE",
    DISCOVER: "DISCOVER",
    SELECT_STREAMS: "SELECT_STREAMS",
  });

  function scriptOrigin() {
    const current = document.currentScript;
    if (current && current.src) {
      return new URL(current.src, global.location.href).origin;
    }
    // Loaded some other way (e.g. injected late): find our own tag.
    const tags = Array.from(document.querySelectorAll("script[src]"));
    const ours = tags.find((tag) => new URL(tag.src, global.location.href).pathname === "/stitch.js");
    return new URL(ours ? ours.src : global.location.href, global.location.href).origin;
  }

  class AppClosedPrematurelyError extends Error {
    constructor() {
      super("App closed before reaching end of flow.");
      this.name = "AppClosedPrematurelyError";
      this.constructor = AppClosedPrematurelyError;
    }
  }

  class SourceNotFoundError extends Error {
    constructor(id) {
      super(`Integration with id ${id} not found.`);
      this.name = "SourceNotFoundError";
      this.constructor = SourceNotFoundError;
    }
  }

  class UnknownSourceTypeError extends Error {
    constructor(type) {
      super(`Unknown source type: "${type}".`);
      this.name = "UnknownSourceTypeError";
      this.constructor = UnknownSourceTypeError;
    }
  }

  class UpgradeEphemeralTokenError extends Error {
    constructor() {
      super("Error upgrading ephemeral token.");
      this.name = "UpgradeEphemeralTokenError";
      this.constructor = UpgradeEphemeralTokenError;
    }
  }

  class AuthorizeFailureError extends Error {
    constructor() {
      super("Error authorizing connection.");
      this.name = "AuthorizeFailureError";
      this.constructor = AuthorizeFailureError;
    }
  }

  function requireOption(options, name) {
    // Truthiness only, as the vendor checks it (an id of 0 is refused too).
    if (!options[name]) {
      throw new Error(`You must specify \`options.${name}\``);
    }
  }

  function targetStateFor(step, options) {
    switch (step) {
      case STEPS.CREATE:
        requireOption(options, "type");
        return { name: "app.connections.create", params: { route: options.type } };
      case STEPS.EDIT:
        requireOption(options, "id");
        return { name: "app.connections.details.edit", params: { id: options.id } };
      case STEPS.AUTHORIZE:
      case STEPS.ONLY_AUTHORIZE:
        requireOption(options, "id");
        return { name: "app.connections.details.authorize", params: { id: options.id } };
      case STEPS.DISCOVER:
        requireOption(options, "id");
        requireOption(options, "discovery_job_name");
        return {
          name: "app.connections.details.check",
          params: { id: options.id, check_job_name: options.discovery_job_name },
        };
      case STEPS.SELECT_STREAMS:
        requireOption(options, "id");
        return { name: "app.connections.details.fields", params: { id: options.id } };
      default:
        throw new Error(`Unknown step: ${step}`);
    }
  }

  function contextFor(step, options) {
    const targetState = targetStateFor(step, options || {});
    return {
      version: 2,
      hideNav: true,
      preventIntegrationFormClose: true,
      additionalState: {
        default_selections: options.default_streams,
        ephemeral_token: options.ephemeral_token,
      },
      targetState,
    };
  }

  /* One popup and its messages: answers every bootstrap with the context, passes the
   * popup's events on, and reports "closed" when polling finds the window gone. */
  class PopupClient {
    constructor(context, onEvent) {
      this.context = context;
      this.onEvent = onEvent;
      this.popup = null;
      this.listener = (event) => this.receive(event);
    }

    open() {
      global.addEventListener("message", this.listener);
      this.popup = global.open(ROOT);
      this.poll();
    }

    receive(event) {
      if (!this.popup || event.source !== this.popup || event.origin !== HOST) {
        return;
      }
      const message = event.data;
      if (!message || typeof message !== "object" || !KNOWN_TYPES.has(message.type)) {
        return;
      }
      if (message.type === EVENT_TYPES.BOOTSTRAP) {
        this.popup.postMessage({ type: "update", data: this.context }, HOST);
      } else if (message.type !== EVENT_TYPES.CLOSED) {
        // The popup's own "closed" (sent on unload, e.g. on the way to an OAuth provider)
        // is not the end of the flow; only polling decides that.
        this.onEvent(message);
      }
    }

    // As the vendor's: when window.open was blocked there is nothing to poll, and the
    // promise never settles.
    poll() {
      global.setTimeout(() => {
        if (!this.popup) {
          return;
        }
        if (this.popup.closed) {
          this.popup = null;
          global.removeEventListener("message", this.listener);
          this.onEvent({ type: EVENT_TYPES.CLOSED });
        } else {
          this.poll();
        }
      }, POLL_MS);
    }

    close() {
      if (this.popup) {
        this.popup.close();
      }
    }
  }

  function upsertSourceIntegration(step, options) {
    const context = contextFor(step, options);
    return new Promise((resolve, reject) => {
      let status = null;
      let outcome;
      const finish = (newStatus, value) => {
        if (status === null) {
          status = newStatus;
          outcome = value;
        }
        client.close();
      };
      const client = new PopupClient(context, (event) => {
        const data = event.data || {};
        switch (event.type) {
          case EVENT_TYPES.CLOSED:
            if (status === "FAILED") {
              reject(outcome);
            } else if (status === "SUCCESS") {
              resolve(outcome);
            } else {
              reject(new AppClosedPrematurelyError());
            }
            break;
          case EVENT_TYPES.ERROR_LOADING_CONNECTION:
            finish("FAILED", new SourceNotFoundError(data.id));
            break;
          case EVENT_TYPES.ERROR_LOADING_INTEGRATION_TYPE:
            finish("FAILED", new UnknownSourceTypeError(options.type));
            break;
          case EVENT_TYPES.ERROR_UPGRADING_EPHEMERAL_TOKEN:
            finish("FAILED", new UpgradeEphemeralTokenError());
            break;
          case EVENT_TYPES.INTEGRATION_FLOW_COMPLETED:
            finish("SUCCESS", event.data);
            break;
          case EVENT_TYPES.INTEGRATION_FORM_CLOSE:
            finish("FAILED", new AppClosedPrematurelyError());
            break;
          case EVENT_TYPES.AUTHORIZE_SUCCESS:
            if (step === STEPS.ONLY_AUTHORIZE) {
              finish("SUCCESS", event.data);
            }
            break;
          case EVENT_TYPES.AUTHORIZE_FAILURE:
            finish("FAILED", new AuthorizeFailureError());
            break;
          default:
            break; // connectionCreated / connectionUpdated do not settle anything
        }
      });
      client.open();
    });
  }

  global.Stitch = Object.freeze({
    addSource: (options) => upsertSourceIntegration(STEPS.CREATE, options),
    editSource: (options) => upsertSourceIntegration(STEPS.EDIT, options),
    authorizeSource: (options) => upsertSourceIntegration(STEPS.AUTHORIZE, options),
    onlyAuthorizeSource: (options) => upsertSourceIntegration(STEPS.ONLY_AUTHORIZE, options),
    displayDiscoveryOutputForSource: (options) =>
      upsertSourceIntegration(STEPS.DISCOVER, options),
    selectStreamsForSource: (options) => upsertSourceIntegration(STEPS.SELECT_STREAMS, options),
    SourceNotFoundError,
    UnknownSourceTypeError,
    AppClosedPrematurelyError,
    UpgradeEphemeralTokenError,
    AuthorizeFailureError,
    STEPS,
  });
})(window);
