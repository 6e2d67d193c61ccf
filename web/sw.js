// codeclab's service worker: the page works offline and a second visit starts from disk.
// dist/offline-manifest.json (written by the build, devkit/offline.py) lists every file with its sha256,
// size and group: "shell" is stored when this worker installs, "python" as the page boots, each tool's
// group (runtime, codec, models) the first time the tool is used. Cache-first for listed files: their
// content is pinned by the manifest's hash, and VERSION (a hash of the whole manifest, stamped in by the
// build) names the cache, so a new deploy installs a new cache beside the old one (reusing every file
// whose hash did not change, hashed again) and the old one is deleted only when the new worker takes over.
// Nothing is stored before its bytes hash to the manifest's sha256, and a stored file is hashed again each time
// it is served: a copy changed in Cache Storage is discarded and downloaded again (docs/SECURITY.md).
// Responses are stored as the server sent them. Documents and worker scripts are served with the
// headers of RESPONSE_HEADERS added where the host did not send them (see "Headers the host may lack").

const VERSION = "__CODECLAB_OFFLINE_VERSION__";
const CACHE_PREFIX = "codeclab-";
const CACHE = `${CACHE_PREFIX}${VERSION}`;
const MANIFEST = "offline-manifest.json";
const DEPLOYED_VERSION = "version.json"; // what the host deploys now (web/lib/update.js): network only, never stored
const SNAPSHOT_CACHE = "codeclab-snapshot";
const SCOPE = new URL(self.registration.scope);

const urlOf = (rel) => new URL(rel, SCOPE).href;

/** The path of a request inside the site ("index.html" for the site's root), or null if outside it. */
function relativePath(url) {
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return null;
  const rel = decodeURIComponent(url.pathname.slice(SCOPE.pathname.length));
  return rel === "" || rel.endsWith("/") ? `${rel}index.html` : rel;
}

/** The version a manifest's files hash to (devkit/offline.py computes it the same way). */
async function versionOf(files) {
  const text = Object.entries(files).map(([rel, entry]) => `${rel}\0${entry.sha256}\n`).join("");
  return (await sha256Hex(new TextEncoder().encode(text))).slice(0, 16);
}

/** A parsed manifest whose files hash to this worker's VERSION, else null. VERSION arrived inside this
 *  script, which the browser keeps apart from Cache Storage: a manifest rewritten in the cache (and with
 *  it the hashes every stored file is checked against) does not pass. */
async function authentic(parsed) {
  return parsed?.version === VERSION && parsed.files && (await versionOf(parsed.files)) === VERSION ? parsed : null;
}

let manifestPromise = null;
/** This version's manifest: from its cache if it is authentic, else from the network (install, or a
 *  cached copy that was tampered with: it is replaced). */
function manifest() {
  manifestPromise ??= (async () => {
    const cache = await caches.open(CACHE);
    const cached = await cache.match(urlOf(MANIFEST));
    const fromCache = cached ? await authentic(await cached.json().catch(() => null)) : null;
    if (fromCache) return fromCache;
    const response = await fetch(urlOf(MANIFEST), { cache: "no-store" });
    if (!response.ok) throw new Error(`${MANIFEST}: HTTP ${response.status}`);
    const parsed = await response.clone().json();
    // A deploy caught half-way (new sw.js, old manifest): refuse, the browser retries later.
    if (!(await authentic(parsed))) throw new Error(`${MANIFEST} is version ${parsed.version}, this worker ${VERSION}`);
    await cache.put(urlOf(MANIFEST), response);
    return parsed;
  })();
  manifestPromise.catch(() => { manifestPromise = null; });
  return manifestPromise;
}

async function sha256Hex(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Store a network response under `rel` if its bytes are the ones the manifest names (else a deploy
 *  changed the file under us: serve it, but do not pin it to this version). */
async function store(cache, rel, entry, response) {
  // The response itself is stored (not a copy of its bytes) so it keeps its URL: Chromium keys the
  // compiled code it keeps for a streamed wasm module on it.
  const body = await response.clone().arrayBuffer();
  if ((await sha256Hex(body)) !== entry.sha256) return false;
  await cache.put(urlOf(rel), response);
  return true;
}

/** The stored response for `rel` if its bytes still hash to the manifest's sha256; a copy that does not (written
 *  to Cache Storage by something else since) is deleted, and the caller fetches the file again. */
async function verifiedHit(cache, rel, entry) {
  const hit = await cache.match(urlOf(rel));
  if (!hit) return null;
  if ((await sha256Hex(await hit.clone().arrayBuffer())) === entry.sha256) return hit;
  console.warn(`${rel}: the stored copy does not match ${MANIFEST}; it is discarded and downloaded again`);
  await cache.delete(urlOf(rel));
  return null;
}

/** The host serves a file of another deploy than this worker's: look for the new worker, and tell the
 *  pages, which switch over when idle (web/lib/update.js) rather than run a mix of two versions. */
function deployChanged(rel) {
  self.registration.update().catch(() => {});
  self.clients.matchAll({ includeUncontrolled: true })
    .then((pages) => { for (const page of pages) page.postMessage({ type: "deploy-changed", file: rel }); }, () => {});
}

async function fetchAndStore(cache, rel, entry) {
  // The HTTP cache's copy first, stale or not: on a first visit the page fetched most files before this
  // worker controlled it, and the sha256 check rejects a copy of another version (then the host is asked).
  for (const mode of ["force-cache", "no-cache"]) {
    const response = await fetch(urlOf(rel), { cache: mode });
    if (!response.ok) throw new Error(`${rel}: HTTP ${response.status}`);
    if (await store(cache, rel, entry, response)) return;
  }
  deployChanged(rel);
  throw new Error(`${rel}: its content does not match ${MANIFEST}`);
}

/** Copy from older versions' caches every file whose hash did not change (a redeploy downloads only what
 *  changed). Each one is hashed again before it is carried over: an old cache is only as good as what was
 *  written to it since, and a copy that no longer matches stays behind (the file is downloaded instead). */
async function reuseUnchanged(cache, files) {
  for (const name of await caches.keys()) {
    if (!name.startsWith(CACHE_PREFIX) || name === CACHE || name === SNAPSHOT_CACHE) continue;
    const old = await caches.open(name);
    for (const [rel, entry] of Object.entries(files)) {
      if (await cache.match(urlOf(rel))) continue;
      const hit = await old.match(urlOf(rel));
      if (hit) await store(cache, rel, entry, hit);
    }
  }
}

/** Store every file of these groups that is not stored yet. A stored copy is not hashed here: it was hashed
 *  before it was stored and is hashed again whenever it is served (the page asks for its groups at every
 *  boot, and reading them all again would compete with the boot for the disk and the CPU). */
async function cacheGroups(groups) {
  const { files } = await manifest();
  const cache = await caches.open(CACHE);
  const wanted = Object.entries(files).filter(([, entry]) => groups.includes(entry.group));
  for (const [rel, entry] of wanted) {
    if (!(await cache.match(urlOf(rel)))) await fetchAndStore(cache, rel, entry);
  }
}

async function status() {
  const { files, groups: labels } = await manifest();
  const cache = await caches.open(CACHE);
  const stored = new Set((await cache.keys()).map((request) => request.url));
  const groups = {};
  for (const [rel, entry] of Object.entries(files)) {
    const group = (groups[entry.group] ??= { label: labels[entry.group] || entry.group, files: 0, bytes: 0, cachedFiles: 0, cachedBytes: 0 });
    group.files += 1;
    group.bytes += entry.size;
    if (stored.has(urlOf(rel))) { group.cachedFiles += 1; group.cachedBytes += entry.size; }
  }
  return { version: VERSION, groups };
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const { files } = await manifest();
    await reuseUnchanged(await caches.open(CACHE), files);
    await cacheGroups(["shell"]);
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Older versions go; the Python snapshot (web/lib/snapshot.js) stays: it is keyed by Pyodide's own hashes.
    for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX) && name !== CACHE && name !== SNAPSHOT_CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const { type, groups } = event.data || {};
  const reply = (message) => event.ports[0]?.postMessage(message);
  if (type === "skip-waiting") self.skipWaiting();
  else if (type === "status") event.waitUntil(status().then(reply, (err) => reply({ error: String(err) })));
  else if (type === "cache-groups") {
    // The error's name goes with it: the page tells a full disk (QuotaExceededError) in its own words.
    event.waitUntil(cacheGroups(groups).then(() => status()).then(reply, (err) => reply({ error: String(err?.message || err), name: err?.name })));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.headers.has("range")) return;
  const rel = relativePath(new URL(request.url));
  if (rel === null) return;
  if (rel === DEPLOYED_VERSION) { event.respondWith(fetch(request, { cache: "no-store" })); return; }
  event.respondWith(respond(event, request, rel).then((response) => withResponseHeaders(request, response, rel)));
});

// ---- Headers the host may lack --------------------------------------------------------------------
// A plain static host (GitHub Pages, `python3 -m http.server`) sends no COOP/COEP, so the page is not
// cross-origin isolated: no SharedArrayBuffer, no threads for the wasm model runtimes. This worker
// adds them (the coi-serviceworker pattern): from the first load it controls (the reload after a first
// visit) the page and its workers are isolated. Only documents and worker scripts get them, because only
// there do they mean anything; every other response goes out as stored, so it keeps its URL (V8 keys the
// compiled code of a streamed wasm module on it). A header the host sent is never replaced.
// One list: add a header here and every document and worker gets it; the CSP is added beside it.
const RESPONSE_HEADERS = [
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Cross-Origin-Embedder-Policy", "require-corp"],
];
const HEADED_DESTINATIONS = new Set(["document", "iframe", "worker", "sharedworker"]);
// The Content Security Policy (devkit/csp.py), stamped in by the build like VERSION, so it comes with this
// script and not from Cache Storage: {policy, workers: {path: policy}}. A worker gets its own policy from its
// own response (the page's meta tag does not reach it); a few listed workers get a wider one.
const CONTENT_SECURITY_POLICY = /*__CODECLAB_CSP__*/ null;

function headersFor(rel) {
  if (!CONTENT_SECURITY_POLICY) return RESPONSE_HEADERS;
  const policy = CONTENT_SECURITY_POLICY.workers[rel] ?? CONTENT_SECURITY_POLICY.policy;
  return [...RESPONSE_HEADERS, ["Content-Security-Policy", policy]];
}

function withResponseHeaders(request, response, rel) {
  if (!HEADED_DESTINATIONS.has(request.destination) || response.type === "opaque" || response.status === 0) return response;
  const missing = headersFor(rel).filter(([name]) => !response.headers.has(name));
  if (!missing.length) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of missing) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
// ---------------------------------------------------------------------------------------------------

async function respond(event, request, rel) {
  const known = await manifest().catch(() => null);
  // This version's manifest is served from its cache: it describes what this cache holds.
  if (rel === MANIFEST && known) return new Response(JSON.stringify(known), { headers: { "Content-Type": "application/json" } });
  const entry = known?.files[rel];
  if (!entry) return fetch(request);
  const cache = await caches.open(CACHE);
  const hit = await verifiedHit(cache, rel, entry);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.status === 200) {
    event.waitUntil(store(cache, rel, entry, response.clone()).then((stored) => stored || deployChanged(rel), () => false));
  }
  return response;
}
