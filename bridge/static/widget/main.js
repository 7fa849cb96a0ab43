/* The public API: window.StitchBridge (CONTRACT §6, widget.d.ts) */

  window.StitchBridge = Object.freeze({
    version: VERSION,
    create: (options) => new Widget(options),
    // Back on the page after a redirect-mode step: create() with the same options, then resume().
    // `onEvent` hears the widget's events from the start (the instance is not handed back).
    resume: (options) => {
      if (!new URL(window.location.href).searchParams.has(RESUME_PARAM)) return Promise.resolve(null);
      let widget;
      try {
        widget = new Widget(options);
      } catch (err) {
        return Promise.reject(err);
      }
      if (options && typeof options.onEvent === "function") widget.on("event", options.onEvent);
      return widget.resume();
    },
    StitchBridgeError,
    PopupBlockedError,
    SessionExpiredError,
    CancelledError,
    SourceError,
  });
