/* Same-origin calls from the popup to the emulator: the v4 API with the web session token,
 * and the popup's own endpoints. Every call resolves to {ok, status, body}; none throws. */
"use strict";

export function createApi(sessionToken) {
  return async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = sessionToken();
    if (token) {
      headers.Authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      return { ok: false, status: 0, body: { message: "The emulator could not be reached." } };
    }
    const text = await response.text();
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        parsed = text;
      }
    }
    return { ok: response.ok, status: response.status, body: parsed };
  };
}

/* A human message from any of Stitch's error shapes (reference §7.1). */
export function messageOf(body) {
  if (typeof body === "string") {
    return body;
  }
  if (!body || typeof body !== "object") {
    return "Something went wrong.";
  }
  if (body.data && typeof body.data.message === "string") {
    return body.data.message;
  }
  if (typeof body.message === "string") {
    return body.message;
  }
  if (typeof body.invalid_fields === "string") {
    return body.invalid_fields;
  }
  if (body.error && typeof body.error === "object" && typeof body.error.message === "string") {
    return body.error.message;
  }
  if (typeof body.error === "string") {
    return body.error;
  }
  return JSON.stringify(body);
}
