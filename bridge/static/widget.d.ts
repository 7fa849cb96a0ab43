// Type declarations for the Stitch Bridge widget (CONTRACT §6), served at /widget.d.ts beside
// /widget.js. The script defines `window.StitchBridge`; load it with a <script> tag, then copy
// this file into your project (or reference it) to type your calls:
//     /// <reference path="./stitch-bridge-widget.d.ts" />

declare namespace StitchBridge {
  /** What your backend's session endpoint answers (from the bridge's POST /v1/connect-sessions). */
  interface SessionGrant {
    token: string;
    /** ISO 8601; the widget renews through `fetchSession` before then. */
    expires_at: string;
  }

  /** What `fetchSession` is asked for: `{}`, or `{sourceId}` for a reconnect. */
  interface SessionScope {
    sourceId?: number;
  }

  type Mode = "auto" | "popup" | "redirect";

  interface CreateOptions {
    /** The bridge's http(s) URL. */
    bridgeUrl: string;
    /** Asks your backend for a connect session (called again to renew it). For reconnect()
     *  it gets `{sourceId}`: mint a session scoped to that source (`source_id`). */
    fetchSession: (scope: SessionScope) => Promise<SessionGrant>;
    /** How steps that leave the page run; "auto" (default) picks popups, or redirect in in-app browsers. */
    mode?: Mode | null;
    /** Redirect mode: where the bridge sends the browser back (an http(s) URL). */
    returnUrl?: string | null;
    /** Offer "continue in this window" when a popup is blocked (default true). */
    redirectFallback?: boolean;
    /** Where the widget's panel is added (default document.body). */
    container?: HTMLElement;
    /** The widget's stylesheet URL, or false to bring your own (default `${bridgeUrl}/widget.css`). */
    stylesheet?: string | false;
    /** Overrides navigator.userAgent for in-app browser detection. */
    userAgent?: string;
    /** How often (ms, at least 1000, default 5000) a source whose sync runs is read again, for
     *  the sync_succeeded / sync_failed events; nothing is polled while no sync runs. */
    watchInterval?: number;
  }

  interface ResumeOptions extends CreateOptions {
    /** Hears the widget's events from the start (resume() hands no instance back). */
    onEvent?: (event: WidgetEvent) => void;
  }

  type SourceStatus = "needs_input" | "connecting" | "connected" | "needs_reauth" | "paused" | "deleted";
  type StepType = "form" | "oauth" | "discover_schema" | "field_selection";

  interface Schedule {
    frequency_in_minutes: number | null;
    anchor_time: string | null;
    cron_expression: string | null;
    next_sync_at: string | null;
  }

  interface SyncError {
    phase: "discovery" | "tap" | "target" | "load";
    message: string;
  }

  interface SyncState {
    state: "never" | "running" | "succeeded" | "failed";
    job_name: string | null;
    trigger: "manual" | "schedule" | null;
    started_at: string | null;
    completed_at: string | null;
    last_succeeded_at: string | null;
    error: SyncError | null;
  }

  /** An end user's source as the bridge shows it (CONTRACT §4.3); never credentials. */
  interface Source {
    id: number;
    type: string;
    display_name: string | null;
    name: string | null;
    end_user_id: string;
    tenant: string | null;
    current_step: number;
    current_step_type: string;
    status: SourceStatus;
    created_at: string;
    updated_at: string;
    schedule?: Schedule;
    paused_at?: string | null;
    sync?: SyncState;
  }

  interface ConnectResult {
    source: Source;
    /** Signed proof of the connection: verify it on your backend (POST /v1/receipts/verify). */
    receipt: string | null;
  }

  interface SourceRef {
    sourceId: number;
  }

  interface ScheduleOptions extends SourceRef {
    frequencyInMinutes?: 1 | 30 | 60 | 360 | 720 | 1440;
    anchorTime?: string | null;
    cronExpression?: string | null;
  }

  /** Codes the widget's errors carry: the bridge's (CONTRACT §4.4) and the widget's own. */
  type ErrorCode =
    | "invalid_json" | "invalid_request" | "payload_too_large" | "unauthorized" | "session_expired"
    | "origin_not_allowed" | "source_type_not_allowed" | "token_invalid" | "token_expired"
    | "token_used" | "source_not_found" | "tenant_not_found" | "tenant_exists" | "duplicate_name"
    | "bad_properties" | "upstream_rate_limited" | "upstream_unavailable" | "not_found"
    | "method_not_allowed" | "receipt_invalid" | "action_not_allowed" | "source_not_ready"
    | "sync_already_running" | "source_limit_reached" | "internal"
    | "redirect_unsupported" | "popup_blocked" | "cancelled" | "destroyed" | "busy"
    | "network_error" | "stitch_js_unavailable" | "unsupported_step";

  interface EventMap {
    session_renewed: { expires_at: string };
    source_created: { source: Source };
    step_started: { step: StepType; driver: "stitchjs" | "native"; source_id: number | null };
    step_completed: {
      step: StepType;
      outcome: "completed" | "cancelled" | "failed";
      source: Source;
      resumed?: boolean;
    };
    connected: { source: Source; receipt: string | null };
    cancelled: { source_id: number | null; message: string };
    error: { code: ErrorCode | string; message: string; error: Error };
    mode_changed: { mode: "redirect"; reason: "in_app_browser" | "popup_blocked" };
    // After connecting, for a source the page acted on (sync, pause, …) or watches.
    sync_started: { source: Source; job_name: string | null; trigger: "manual" | "schedule" | null };
    sync_succeeded: { source: Source; job_name: string | null };
    sync_failed: { source: Source; job_name: string | null; error: SyncError | null };
    paused: { source: Source };
    unpaused: { source: Source };
    schedule_changed: { source: Source; schedule: Schedule };
  }

  type EventType = keyof EventMap;
  /** An event as handlers receive it: its `type` and that type's payload (frozen). */
  type WidgetEventOf<T extends EventType> = Readonly<{ type: T } & EventMap[T]>;
  type WidgetEvent = { [T in EventType]: WidgetEventOf<T> }[EventType];

  interface Widget {
    /** "popup" or "redirect": how steps that leave the page run. */
    readonly mode: "popup" | "redirect";
    /** Settles once the first session and the source types are loaded (false when they failed). */
    readonly ready: Promise<boolean>;
    /** Connect a new source of `type`; call it in a click handler (it may open a popup). */
    connect(options: { type: string }): Promise<ConnectResult>;
    /** Re-authorise or edit an existing source (its session must be scoped to it). */
    reconnect(options: SourceRef): Promise<ConnectResult>;
    /** Back from a redirect-mode step: finish the flow, or null when the URL has no resume id. */
    resume(): Promise<ConnectResult | null>;
    /** Start a sync now (needs the session's `sync` action). */
    sync(options: SourceRef): Promise<Source>;
    /** Pause scheduled syncs (needs the `pause` action). */
    pause(options: SourceRef): Promise<Source>;
    /** Resume scheduled syncs (needs the `pause` action). */
    unpause(options: SourceRef): Promise<Source>;
    /** Change the schedule (needs the `schedule` action). */
    setSchedule(options: ScheduleOptions): Promise<Source>;
    /** The source as the bridge has it now (its sync state at most BRIDGE_SYNC_POLL seconds old). */
    getSource(options: SourceRef): Promise<Source>;
    /** Events for this source's changes from now on (sync started/ended, paused, schedule);
     *  it is read again only while a sync runs. Returns the call that stops watching. */
    watch(options: SourceRef): () => void;
    /** Listen to one event type, or to every event with "event"; returns the unsubscribe call. */
    on<T extends EventType>(name: T, handler: (event: WidgetEventOf<T>) => void): () => void;
    on(name: "event", handler: (event: WidgetEvent) => void): () => void;
    off(name: EventType | "event", handler: (event: never) => void): void;
    /** Remove every listener and element the widget added; a running flow rejects with CancelledError. */
    destroy(): void;
  }

  // The error classes are values on `StitchBridge` (`err instanceof StitchBridge.SourceError`);
  // these are their instance and constructor types.
  interface StitchBridgeError extends Error {
    readonly code: ErrorCode | string;
    readonly details: Record<string, unknown>;
  }
  /** The browser blocked the window a step needs; call connect() again from a click. */
  interface PopupBlockedError extends StitchBridgeError {
    readonly code: "popup_blocked";
  }
  /** The session expired and `fetchSession` could not renew it. */
  interface SessionExpiredError extends StitchBridgeError {
    readonly code: "session_expired";
  }
  /** The end user closed the flow (or the widget was destroyed). */
  interface CancelledError extends StitchBridgeError {
    readonly code: "cancelled";
  }
  /** The bridge refused a step; `code` is its error code, `status` the HTTP status (0 offline). */
  interface SourceError extends StitchBridgeError {
    readonly status: number;
  }

  interface ErrorConstructor<E, A extends unknown[]> {
    new (...args: A): E;
    readonly prototype: E;
  }

  interface Api {
    readonly version: string;
    create(options: CreateOptions): Widget;
    /** Back on the page after a redirect-mode step: resolves like connect(), or null. */
    resume(options: ResumeOptions): Promise<ConnectResult | null>;
    readonly StitchBridgeError: ErrorConstructor<
      StitchBridgeError,
      [message: string, code: ErrorCode | string, details?: Record<string, unknown>]
    >;
    readonly PopupBlockedError: ErrorConstructor<PopupBlockedError, [message?: string]>;
    readonly SessionExpiredError: ErrorConstructor<SessionExpiredError, [message?: string]>;
    readonly CancelledError: ErrorConstructor<CancelledError, [message?: string]>;
    readonly SourceError: ErrorConstructor<
      SourceError,
      [message: string, code: ErrorCode | string, details?: Record<string, unknown>, status?: number]
    >;
  }
}

interface Window {
  StitchBridge: StitchBridge.Api;
}

declare var StitchBridge: StitchBridge.Api;
