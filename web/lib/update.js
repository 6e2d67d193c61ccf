// Updates that arrive. dist/version.json (written by the build, devkit/offline.py) names the deployed
// version and whether the deploy is "required" (a security fix: `build.py build --required-update`). It is
// never cached: the host sends it no-store and the service worker passes it to the network. The page reads
// it when it loads and when it gets the focus again (at most every CHECK_MS); a version other than the
// running one makes the browser fetch the new service worker, which installs beside the old one (the
// "Reload" banner of lib/offline.js). A required deploy does not wait for that click: the page switches
// over at the next safe moment, once nothing has been running for QUIET_MS (no Python call in flight, no
// hold taken by a tool, e.g. a stream). The service worker also says when the host served a file that does
// not match this version's manifest (a deploy happened under a running page): that counts as required too,
// rather than running a mix of two versions.
import { toast } from "./ui.js";

export const CHECK_MS = 5 * 60 * 1000;
export const QUIET_MS = 2000;
const POLL_MS = 250;
// A new worker that is not installed by then is not coming (the host's files were an old copy, or the
// install failed): stop waiting; the next check starts again.
const INSTALL_MS = 120_000;

/**
 * The decisions, with every effect injected (tests/js/update.test.mjs):
 * fetchVersion() → {version, required} or null (offline); runningVersion() → the version in use or null;
 * update() asks the browser for the new service worker; waitingWorker() → the installed one or null;
 * activate(worker) makes it take over (the page then reloads); busy() → whether anything runs.
 */
export function createUpdates({ fetchVersion, runningVersion, update, waitingWorker, activate, busy, now, sleep,
  onState = () => {}, checkMs = CHECK_MS, quietMs = QUIET_MS, pollMs = POLL_MS, installMs = INSTALL_MS }) {
  let lastCheck = -Infinity;
  let switching = null;
  const updates = {
    deployed: null,
    /** Read version.json unless it was read less than checkMs ago; returns what it said (or null). */
    async check() {
      if (now() - lastCheck < checkMs) return null;
      lastCheck = now();
      const deployed = await fetchVersion().catch(() => null);
      const running = runningVersion();
      if (!deployed || !running) return deployed;
      updates.deployed = deployed;
      onState("checked", deployed);
      if (deployed.version !== running) {
        await update().catch(() => {});
        if (deployed.required) updates.required("required");
      }
      return deployed;
    },
    /** Switch to the new version once it is installed and nothing has run for quietMs (once). */
    required(reason) {
      switching ??= (async () => {
        onState("waiting", reason);
        const since = now();
        let quietSince = since;
        for (;;) {
          if (now() - since > installMs && !(await waitingWorker())) { onState("none", reason); switching = null; return; }
          await sleep(pollMs);
          if (busy()) { quietSince = now(); continue; }
          if (now() - quietSince < quietMs) continue;
          const worker = await waitingWorker();
          if (!worker) continue; // still installing
          onState("switching", reason);
          activate(worker);
          return;
        }
      })();
      return switching;
    },
  };
  return updates;
}

/** The page's wiring: app.updates.hold() marks work that an update must not cut (call the result when done). */
export function startUpdates(app) {
  const root = document.documentElement;
  const holds = new Set();
  if (!("serviceWorker" in navigator)) return { hold: () => () => {}, busy: () => false };
  let reloading = false;
  const registration = () => navigator.serviceWorker.getRegistration();
  const updates = createUpdates({
    fetchVersion: async () => {
      if (navigator.onLine === false) return null; // nothing to learn without a connection
      const response = await fetch(new URL("version.json", location.href), { cache: "no-store" });
      return response.ok ? response.json() : null;
    },
    runningVersion: () => app.offline.status?.version ?? null,
    update: () => app.offline.checkForUpdate(),
    waitingWorker: async () => (await registration())?.waiting ?? null,
    activate: (worker) => { reloading = true; worker.postMessage({ type: "skip-waiting" }); },
    busy: () => app.python.pending.size > 0 || holds.size > 0,
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    onState(state, detail) {
      if (state === "checked") root.dataset.deployedVersion = detail.version;
      else {
        root.dataset.updateState = state;
        if (state === "waiting") toast("A required update of codeclab is ready: the page reloads as soon as no tool is running.");
      }
    },
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => { if (reloading) location.reload(); });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "deploy-changed") updates.required("deploy-changed");
  });
  const check = () => { updates.check().catch(() => {}); };
  document.addEventListener("offline-status", check, { once: true }); // on load, once the running version is known
  window.addEventListener("focus", check);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") check(); });
  return {
    check: () => updates.check(),
    busy: () => app.python.pending.size > 0 || holds.size > 0,
    hold() {
      const token = {};
      holds.add(token);
      return () => holds.delete(token);
    },
  };
}
