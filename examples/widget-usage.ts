/// <reference path="../bridge/static/widget.d.ts" />
// A typed page script using the widget (checked by `tsc --noEmit --strict` in make test).
// In your project, copy the bridge's /widget.d.ts next to this file and reference that copy.

async function fetchSession(scope: StitchBridge.SessionScope): Promise<StitchBridge.SessionGrant> {
  const answer = await fetch("/api/stitch-session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(scope.sourceId ? { source_id: scope.sourceId } : {}),
  });
  return (await answer.json()) as StitchBridge.SessionGrant;
}

const bridge: StitchBridge.Widget = StitchBridge.create({
  bridgeUrl: "https://bridge.example.com",
  fetchSession,
  mode: "auto",
});

const log = document.querySelector<HTMLUListElement>("#events");

bridge.on("event", (event) => {
  const item = document.createElement("li");
  item.dataset.type = event.type;
  if (event.type === "error") item.textContent = `${event.code}: ${event.message}`;
  log?.append(item);
});

const stopListening = bridge.on("connected", (event) => {
  const id: number = event.source.id;
  const receipt: string | null = event.receipt;
  console.log("connected", id, receipt !== null);
});

bridge.on("sync_failed", (event) => console.warn(event.job_name, event.error?.phase, event.error?.message));
bridge.on("sync_started", (event) => console.log(event.trigger === "manual" ? "sync now" : event.trigger));
bridge.on("schedule_changed", (event) => console.log(event.schedule.next_sync_at));

async function connect(type: string): Promise<void> {
  try {
    const { source, receipt } = await bridge.connect({ type });
    if (receipt) {
      await fetch("/api/receipts", { method: "POST", body: JSON.stringify({ receipt }) });
    }
    const status: StitchBridge.SourceStatus = source.status;
    console.log(status);
  } catch (err) {
    if (err instanceof StitchBridge.PopupBlockedError) {
      console.log("ask for another click");
    } else if (err instanceof StitchBridge.CancelledError) {
      console.log("closed by the end user");
    } else if (err instanceof StitchBridge.SourceError) {
      console.log(err.code, err.status, err.details);
    } else {
      throw err;
    }
  }
}

async function afterConnecting(sourceId: number): Promise<void> {
  await bridge.reconnect({ sourceId });
  const running = await bridge.sync({ sourceId });
  console.log(running.sync?.state, running.sync?.job_name);
  await bridge.setSchedule({ sourceId, frequencyInMinutes: 60 });
  await bridge.pause({ sourceId });
  await bridge.unpause({ sourceId });
  const now = await bridge.getSource({ sourceId });
  console.log(now.schedule?.next_sync_at);
  const unwatch: () => void = bridge.watch({ sourceId });
  unwatch();
}

async function backFromRedirect(): Promise<void> {
  const result = await StitchBridge.resume({
    bridgeUrl: "https://bridge.example.com",
    fetchSession,
    onEvent: (event) => console.log(event.type),
  });
  if (result) console.log(result.source.id);
}

document.querySelector("#connect")?.addEventListener("click", () => void connect("platform.hubspot"));
void afterConnecting(123);
void backFromRedirect();
stopListening();
bridge.destroy();
