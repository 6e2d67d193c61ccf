// The page's side of the service worker (web/sw.js): registration, the "available offline" indicator,
// the update prompt, what is cached (for About) and clearing it.
import { el } from "./ui.js";
import { forgetSnapshotSeal } from "./snapshot.js";

// What each tool needs beyond the shell and Python (groups of dist/offline-manifest.json).
export const TOOL_GROUPS = {
  attention: ["models-runtime", "attention"],
  jxl: ["models-runtime", "attention", "jxl"],
  lyra: ["models-runtime", "lyra"],
  basis: ["basis"],
};
const CACHE_PREFIX = "codeclab-";
const QUIET_MS = 2000;

/** Resolves once the Python worker (its `pending` calls) has had no call in flight for `quietMs`; the clock
 *  and the wait are injected (tests/js/hosting.test.mjs). */
export async function pythonQuiet(python, quietMs, { pollMs = 250, now = () => performance.now(), sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) } = {}) {
  let quietSince = now();
  for (;;) {
    await sleep(pollMs);
    if (python.pending.size) quietSince = now();
    else if (now() - quietSince >= quietMs) return;
  }
}

export function startOffline(app) {
  const indicator = document.getElementById("offline-status");
  const root = document.documentElement;
  let registration = null;
  let updateRequested = false;
  const offline = { status: null, ask, cacheGroups, cacheWhenIdle, checkForUpdate, clear, refresh };

  function show(state, text, title = "") {
    indicator.dataset.state = state;
    indicator.textContent = text;
    indicator.title = title;
    root.dataset.offline = state;
  }

  async function ask(message) {
    const ready = await navigator.serviceWorker.ready;
    const target = navigator.serviceWorker.controller || ready.active;
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => (event.data?.error
        ? reject(Object.assign(new Error(event.data.error), { name: event.data.name || "Error" }))
        : resolve(event.data));
      target.postMessage(message, [channel.port2]);
    });
  }

  /** Ask the service worker for what is cached and show it. */
  async function refresh(status = null) {
    if (!registration) return null;
    try {
      status = status || await ask({ type: "status" });
    } catch (err) {
      show("error", "Offline: unavailable", String(err.message || err));
      return null;
    }
    offline.status = status;
    root.dataset.offlineVersion = status.version;
    const complete = (group) => status.groups[group] && status.groups[group].cachedFiles === status.groups[group].files;
    const tools = Object.entries(TOOL_GROUPS).filter(([, groups]) => groups.every(complete)).map(([id]) => id);
    root.dataset.offlineTools = tools.join(" ");
    if (complete("shell") && complete("python")) {
      show("ready", "Available offline", tools.length ? `Tools saved for offline use: ${tools.join(", ")}` : "The page and Python are saved; each tool is saved the first time it is used");
    } else show("caching", "Saving for offline…");
    document.dispatchEvent(new CustomEvent("offline-status", { detail: status }));
    return status;
  }

  async function cacheGroups(groups) {
    if (!registration) return null;
    const room = await roomFor(groups);
    if (room) {
      show("no-room", "No room to save for offline", room);
      return null;
    }
    try {
      await persistOnce();
      return await refresh(await ask({ type: "cache-groups", groups }));
    } catch (err) {
      if (err.name === "QuotaExceededError") show("no-room", "No room to save for offline", noRoomText(groups));
      else show("error", "Offline: not saved", String(err.message || err));
      return null;
    }
  }

  const noRoomText = (groups, free = null) => `This browser has no room to save ${groups.join(", ")} for offline use`
    + `${free === null ? "" : ` (${megabytes(free)} free)`}; the page still works online. Free some space, or clear the offline copy in About.`;

  /** Why these groups cannot be saved (a plain sentence), or null: the bytes still missing against what the
   *  browser says it would still allow (navigator.storage.estimate, where the browser has it). */
  async function roomFor(groups) {
    if (!navigator.storage?.estimate || !offline.status) return null;
    const missing = groups.reduce((sum, group) => {
      const g = offline.status.groups[group];
      return sum + (g ? g.bytes - g.cachedBytes : 0);
    }, 0);
    const { quota, usage } = await navigator.storage.estimate().catch(() => ({}));
    if (!missing || quota === undefined || usage === undefined) return null;
    return missing > quota - usage ? noRoomText(groups, Math.max(0, quota - usage)) : null;
  }

  /** Ask once that this origin's storage not be evicted under pressure (the browser may say no; it is a
   *  hint): not again in this page, nor on a later visit once the browser granted it. */
  let persistAsked = false;
  async function persistOnce() {
    if (persistAsked || !navigator.storage?.persist) return;
    persistAsked = true;
    const granted = (await navigator.storage.persisted?.().catch(() => false)) || (await navigator.storage.persist().catch(() => false));
    root.dataset.storagePersisted = String(granted);
  }

  /** cacheGroups once Python has had no call in flight for `quietMs` (the tool's first result is in and
   *  the files it fetched are kept), unless the connection asks to save data. */
  async function cacheWhenIdle(groups, { quietMs = QUIET_MS } = {}) {
    if (navigator.connection?.saveData) return null;
    await pythonQuiet(app.python, quietMs);
    return cacheGroups(groups);
  }

  async function checkForUpdate() { if (registration) await registration.update(); }

  /** Forget everything: the caches and the service worker (the next visit downloads again). */
  async function clear() {
    let freed = 0;
    for (const group of Object.values(offline.status?.groups || {})) freed += group.cachedBytes;
    for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
    for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX)) await caches.delete(name);
    await forgetSnapshotSeal();
    registration = null;
    offline.status = null;
    show("off", "Not saved for offline", "Cleared; reload to save again");
    document.dispatchEvent(new CustomEvent("offline-status", { detail: null }));
    return freed;
  }

  function promptUpdate(waiting) {
    const banner = document.getElementById("update");
    const button = el("button", { "data-testid": "update-reload", text: "Reload" });
    banner.replaceChildren(el("span", { text: "A new version of codeclab is ready." }), button);
    banner.hidden = false;
    root.dataset.updateReady = "true";
    button.addEventListener("click", () => {
      updateRequested = true;
      button.disabled = true;
      waiting.postMessage({ type: "skip-waiting" });
    });
  }

  if (!("serviceWorker" in navigator)) {
    show("unsupported", "Offline: not supported here", "This browser (or a non-HTTPS address) does not allow service workers");
    return offline;
  }
  show("caching", "Saving for offline…");
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (updateRequested) location.reload(); // the new version took over: load it
  });
  navigator.serviceWorker.register("./sw.js", { scope: "./" }).then((reg) => {
    registration = reg;
    const watch = (worker) => worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) promptUpdate(worker);
    });
    if (reg.waiting && navigator.serviceWorker.controller) promptUpdate(reg.waiting);
    if (reg.installing) watch(reg.installing);
    reg.addEventListener("updatefound", () => watch(reg.installing));
    return navigator.serviceWorker.ready.then(() => refresh());
  }).catch((err) => show("error", "Offline: unavailable", String(err.message || err)));
  return offline;
}

export const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
