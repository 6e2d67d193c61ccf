// The page's side of the service worker (web/sw.js): registration, the offline indicator (which tools are
// saved, and a button that saves every one), the update prompt, what is cached (for About) and clearing it,
// and the plain sentence a tool shows when it is used offline without its files saved.
import { el } from "./ui.js";
import { forgetSnapshotSeal } from "./snapshot.js";

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

/** The tools whose groups are all stored, in tab order (`status`: the service worker's reply; `toolGroups`:
 *  what each tool needs beyond the shell and Python, {id: [group, ...]} from dist/tools.json). */
export function savedTools(status, toolGroups) {
  const complete = (group) => status?.groups[group] && status.groups[group].cachedFiles === status.groups[group].files;
  return Object.keys(toolGroups).filter((id) => toolGroups[id].every(complete));
}

/** Bytes still to download to store these groups (each group counted once). */
export function missingBytes(status, groups) {
  return [...new Set(groups)].reduce((sum, group) => {
    const g = status?.groups[group];
    return sum + (g ? g.bytes - g.cachedBytes : 0);
  }, 0);
}

/** The header's short line: every tool saved, some, or none (the list beside it names them). */
export function badgeText(saved, total) {
  if (saved === total) return "Available offline";
  return saved ? `Offline: ${saved} of ${total} tools` : "Offline: no tool yet";
}

/** The sentence a tool shows when it is used offline and `what` (its runtime, codec or model) was never
 *  stored: the file is not at fault, and the two ways to get it are named. */
export function notSavedError(what, cause) {
  return Object.assign(new Error(`${what} is not saved for offline use on this device: connect once and use the tool, `
    + "or choose “Make every tool available offline” (under the offline status at the top)."), {
    heading: "Not available offline: ", notSaved: true, expected: true,
    details: cause ? `what failed: ${cause.message || cause}` : "",
  });
}

/** Send `message` to the service worker; resolves with its reply (a MessageChannel per question). */
export async function askServiceWorker(message) {
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

/**
 * `ask(message)` for a long piece of work (storing groups), while asking `status` every `pingMs`: each
 * question is a new event, which keeps a browser from ending the service worker for being idle in the
 * middle of the work (Firefox ends an event still waiting after its idle timeout), and `onStatus` shows
 * the count as it grows. `every(callback, ms)` returns a function that stops it (tests pass their own).
 */
export async function askWhileWorking(ask, message, { pingMs = 10_000, onStatus = () => {}, every = repeatEvery } = {}) {
  let done = false;
  const stop = every(() => {
    ask({ type: "status" }).then((status) => { if (!done) onStatus(status); }, () => {});
  }, pingMs);
  try {
    return await ask(message);
  } finally {
    done = true;
    stop();
  }
}

function repeatEvery(callback, ms) {
  const timer = setInterval(callback, ms);
  return () => clearInterval(timer);
}

/** Whether the host answers now. HEAD is never answered by the service worker (it serves GETs), so this
 *  asks the network itself. */
async function hostReachable() {
  if (navigator.onLine === false) return false;
  try {
    await fetch(new URL("offline-manifest.json", location.href), { method: "HEAD", cache: "no-store" });
    return true;
  } catch { return false; }
}

const noRoomText = (groups, free = null) => `This browser has no room to save ${groups.join(", ")} for offline use`
  + `${free === null ? "" : ` (${megabytes(free)} free)`}; the page still works online. Free some space, or clear the offline copy in About.`;

/** Why these groups cannot be saved (a plain sentence), or null: the bytes still missing against what the
 *  browser says it would still allow (navigator.storage.estimate, where the browser has it). */
async function roomFor(status, groups) {
  if (!navigator.storage?.estimate || !status) return null;
  const missing = missingBytes(status, groups);
  const { quota, usage } = await navigator.storage.estimate().catch(() => ({}));
  if (!missing || quota === undefined || usage === undefined) return null;
  return missing > quota - usage ? noRoomText(groups, Math.max(0, quota - usage)) : null;
}

/** Ask once that this origin's storage not be evicted under pressure (the browser may say no; it is a
 *  hint): not again in this page, nor on a later visit once the browser granted it. */
let persistAsked = false;
async function persistOnce(root) {
  if (persistAsked || !navigator.storage?.persist) return;
  persistAsked = true;
  const granted = (await navigator.storage.persisted?.().catch(() => false)) || (await navigator.storage.persist().catch(() => false));
  root.dataset.storagePersisted = String(granted);
}

/** A tool's name as its tab shows it. */
const toolLabel = (id) => document.getElementById(`tab-${id}`)?.textContent.trim() || id;

/** The badge's title: what is saved and what is not. */
function savedTitle(tools, all) {
  const unsaved = all.filter((id) => !tools.includes(id)).map(toolLabel);
  return unsaved.length
    ? `Saved for offline use: the page, Python${tools.map((id) => `, ${toolLabel(id)}`).join("")}. Not saved: ${unsaved.join(", ")}.`
    : "Every tool is saved for offline use";
}

/** Under the indicator: each tool, saved or not (and its size), and one button that saves them all
 *  (`saveEverything()` resolves to null when it could not). */
function renderToolsPanel(panel, status, needsOf, saveEverything) {
  const tools = savedTools(status, needsOf);
  const items = Object.keys(needsOf).map((id) => {
    const saved = tools.includes(id);
    return el("li", { "data-tool": id, "data-saved": String(saved) },
      el("span", { class: "offline-mark", "aria-hidden": "true", text: saved ? "✓" : "—" }),
      ` ${toolLabel(id)}: `, saved ? "saved" : `not saved (${megabytes(missingBytes(status, needsOf[id]))})`);
  });
  const missing = missingBytes(status, Object.keys(status.groups));
  const button = el("button", { type: "button", class: "secondary", "data-testid": "offline-save-all", "data-bytes": String(missing),
    text: `Make every tool available offline (${megabytes(missing)})` });
  button.hidden = missing === 0;
  const note = el("p", { class: "muted", "data-testid": "offline-note", text: missing
    ? "A tool is saved the first time it is used; only what you use is downloaded unless you save them all."
    : "Everything is saved: every tool works without a connection." });
  button.addEventListener("click", async () => {
    button.disabled = true;
    if (!(await hostReachable())) {
      note.textContent = "There is no connection now: connect, then choose this again.";
      button.disabled = false;
      return;
    }
    button.textContent = `Saving ${megabytes(missing)} for offline use…`;
    if (!(await saveEverything())) {
      button.disabled = false;
      button.textContent = `Make every tool available offline (${megabytes(missing)})`;
    }
  });
  panel.replaceChildren(el("ul", { class: "offline-tools", "data-testid": "offline-tools" }, ...items), button, note);
}

/** The banner that offers a waiting new version; `onReload()` when the visitor takes it. */
function promptUpdate(root, waiting, onReload) {
  const banner = document.getElementById("update");
  const button = el("button", { "data-testid": "update-reload", text: "Reload" });
  banner.replaceChildren(el("span", { text: "A new version of codeclab is ready." }), button);
  banner.hidden = false;
  root.dataset.updateReady = "true";
  button.addEventListener("click", () => {
    onReload();
    button.disabled = true;
    waiting.postMessage({ type: "skip-waiting" });
  });
}

/** `toolGroups`: a promise of what each tool needs beyond the shell and Python ({id: [group, ...]},
 *  dist/tools.json's "needs", in tab order). */
export function startOffline(app, toolGroups) {
  const indicator = document.getElementById("offline-status");
  const panel = document.getElementById("offline-panel");
  const root = document.documentElement;
  let registration = null;
  let updateRequested = false;
  let needsOf = {}; // once toolGroups resolves (before the first status is shown)
  const ask = askServiceWorker;
  const offline = { status: null, toolGroups, ask, cacheGroups, cacheWhenIdle, checkForUpdate, clear, refresh, saveEverything, explain };

  function show(state, text, title = "") {
    indicator.dataset.state = state;
    indicator.textContent = text;
    indicator.title = title;
    root.dataset.offline = state;
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
    needsOf = await toolGroups;
    const tools = savedTools(status, needsOf);
    root.dataset.offlineTools = tools.join(" ");
    const all = Object.keys(needsOf);
    if (complete("shell") && complete("python")) show("ready", badgeText(tools.length, all.length), savedTitle(tools, all));
    else show("caching", "Saving for offline…");
    indicator.dataset.tools = tools.length === all.length ? "all" : tools.length ? "some" : "none";
    if (panel) renderToolsPanel(panel, status, needsOf, saveEverything);
    document.dispatchEvent(new CustomEvent("offline-status", { detail: status }));
    return status;
  }

  /** Store every group of the manifest (the button under the indicator). */
  async function saveEverything() {
    if (!offline.status) return null;
    return cacheGroups(Object.keys(offline.status.groups));
  }

  /**
   * `err` as the visitor should read it. A tool used while the host cannot be reached (the browser says it
   * is offline, or a request to the host fails) whose groups are not all stored failed for want of a file
   * it never saved: that is said in plain words (notSavedError), not as a fault of the visitor's file.
   * Anything else (a file refused for what it is, a cancel, a tool whose files are all stored) is `err`.
   */
  async function explain(err, tool, what) {
    if (!err || err.expected || err.cancelled || !(await toolGroups)[tool]) return err;
    const status = await refresh().catch(() => null);
    if (status && savedTools(status, await toolGroups).includes(tool)) return err;
    return (await hostReachable()) ? err : notSavedError(what, err);
  }

  async function cacheGroups(groups) {
    if (!registration) return null;
    const room = await roomFor(offline.status, groups);
    if (room) {
      show("no-room", "No room to save for offline", room);
      return null;
    }
    try {
      await persistOnce(root);
      const status = await askWhileWorking(ask, { type: "cache-groups", groups }, { onStatus: (s) => refresh(s) });
      return await refresh(status);
    } catch (err) {
      if (err.name === "QuotaExceededError") show("no-room", "No room to save for offline", noRoomText(groups));
      else show("error", "Offline: not saved", String(err.message || err));
      return null;
    }
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
    delete indicator.dataset.tools;
    panel?.replaceChildren(el("p", { class: "muted", text: "Nothing is saved for offline use: reload to save the page again." }));
    document.dispatchEvent(new CustomEvent("offline-status", { detail: null }));
    return freed;
  }

  if (!("serviceWorker" in navigator)) {
    show("unsupported", "Offline: not supported here", "This browser (or a non-HTTPS address) does not allow service workers");
    panel?.replaceChildren(el("p", { class: "muted", text: "This browser (or a non-HTTPS address) does not allow service workers: nothing can be saved for offline use." }));
    return offline;
  }
  show("caching", "Saving for offline…");
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (updateRequested) location.reload(); // the new version took over: load it
  });
  navigator.serviceWorker.register("./sw.js", { scope: "./" }).then((reg) => {
    registration = reg;
    const offer = (worker) => promptUpdate(root, worker, () => { updateRequested = true; });
    const watch = (worker) => worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    if (reg.installing) watch(reg.installing);
    reg.addEventListener("updatefound", () => watch(reg.installing));
    return navigator.serviceWorker.ready.then(() => refresh());
  }).catch((err) => show("error", "Offline: unavailable", String(err.message || err)));
  return offline;
}

export const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
