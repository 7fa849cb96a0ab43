/* The Stitch.js popup's side of the postMessage protocol (reference §10.3).
 *
 * It learns the opener's origin from document.referrer on first load and keeps it in
 * sessionStorage, so that after the OAuth round trip (when the referrer is the provider) it
 * still talks only to that origin. It never posts to "*", and accepts `update` only from
 * window.opener at that origin. */
"use strict";

import { createApi } from "./api.js";
import { Flow } from "./flow.js";
import * as ui from "./ui.js";

const STORAGE_KEY = "stitch-emulator-popup";
const BOOTSTRAP_EVERY_MS = 1000;
const BOOTSTRAP_ATTEMPTS = 30;

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY)) || {};
  } catch (error) {
    return {};
  }
}

function save(state) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
}

function originOf(url) {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch (error) {
    return null;
  }
}

/* The OAuth callback comes back to /v2/js-client#oauth=<outcome>; read it once, then drop it. */
function takeOAuthOutcome() {
  const match = /^#oauth=(approved|denied|failed)$/.exec(window.location.hash);
  if (window.location.hash) {
    history.replaceState(null, "", window.location.pathname);
  }
  return match ? match[1] : null;
}

const state = load();
if (!state.openerOrigin) {
  state.openerOrigin = originOf(document.referrer);
  save(state);
}
const oauthOutcome = takeOAuthOutcome();
const api = createApi(() => state.sessionToken);
let context = null;

function emit(type, data) {
  if (window.opener && state.openerOrigin) {
    window.opener.postMessage(data === undefined ? { type } : { type, data }, state.openerOrigin);
  }
}

/* Per-flow memory (the source being worked on), kept only for the same targetState. */
function memoryFor(targetState) {
  const key = JSON.stringify(targetState || null);
  return {
    get: () => (state.flow && state.flow.key === key ? state.flow : {}),
    set: (patch) => {
      const current = state.flow && state.flow.key === key ? state.flow : { key };
      state.flow = { ...current, ...patch };
      save(state);
    },
  };
}

async function openSession(ctx) {
  if (state.sessionToken) {
    return true;
  }
  const ephemeralToken = (ctx.additionalState || {}).ephemeral_token;
  if (!ephemeralToken) {
    return false;
  }
  const answer = await api("POST", "/v2/js-client/session", { ephemeral_token: ephemeralToken });
  if (!answer.ok || !answer.body || !answer.body.session_token) {
    return false;
  }
  state.sessionToken = answer.body.session_token;
  save(state);
  return true;
}

async function start(ctx) {
  context = ctx;
  ui.setNavHidden(Boolean(ctx.hideNav));
  if (!(await openSession(ctx))) {
    ui.message("Sign-in failed", "Stitch could not sign you in.");
    ui.showStepError("The ephemeral token is missing, unknown, already used or expired.");
    emit("errorUpgradingEphemeralToken", {});
    return;
  }
  const flow = new Flow({ context: ctx, api, emit, memory: memoryFor(ctx.targetState) });
  await flow.begin(oauthOutcome);
}

ui.onClose(() => {
  emit("integrationFormClose", {});
  // With preventIntegrationFormClose the opener closes the window; the form does not.
  if (context && !context.preventIntegrationFormClose) {
    window.close();
  }
});

if (!window.opener || !state.openerOrigin) {
  ui.message("Open this page with Stitch.js", "This window was not opened by a page using Stitch.js.");
  ui.showStepError("No opener to talk to.");
} else {
  window.addEventListener("message", (event) => {
    if (event.source !== window.opener || event.origin !== state.openerOrigin) {
      return;
    }
    const message = event.data;
    if (context || !message || message.type !== "update" || typeof message.data !== "object") {
      return;
    }
    clearInterval(bootstrapTimer);
    start(message.data || {});
  });
  // The vendor's popup tells the opener when it unloads; Stitch.js ignores it on purpose.
  window.addEventListener("pagehide", () => emit("closed", {}));
  let attempts = 0;
  const bootstrap = () => {
    attempts += 1;
    if (context || attempts > BOOTSTRAP_ATTEMPTS) {
      clearInterval(bootstrapTimer);
      return;
    }
    emit("bootstrap");
  };
  const bootstrapTimer = setInterval(bootstrap, BOOTSTRAP_EVERY_MS);
  bootstrap();
}
