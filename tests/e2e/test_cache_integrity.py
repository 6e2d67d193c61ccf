"""Nothing unverified is stored or restored (docs/SECURITY.md): a file changed in Cache Storage, a manifest
forged to match it, a changed file in an old version's cache and a changed or unsealed Python snapshot are
each refused, and the page recovers by itself (it downloads the file again, or starts Python anew). Also: a
tool group that does not fit in the browser's storage is not started, and the page says so."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from devkit.chromium import wait_for_js
from devkit.offline import write_offline_files

from .test_offline import saved_site, wait_ready

pytestmark = pytest.mark.e2e

# Run in the page: replace one cached response (same URL) by other bytes, as any script of this origin can.
REPLACE = """async ([cacheName, url, text, contentType]) => {
  const cache = await caches.open(cacheName);
  await cache.put(url, new Response(text, { headers: { "Content-Type": contentType } }));
}"""
CACHED_TEXT = """async ([cacheName, url]) => {
  const hit = await (await caches.open(cacheName)).match(url);
  return hit ? hit.text() : null;
}"""
SNAPSHOT_KEYS = "caches.open('codeclab-snapshot').then(c => c.keys()).then(k => k.map(r => r.url))"


def reboot(page) -> str:
    """Reload the page until it is ready; how Python started (``made`` anew, or ``restored`` from a snapshot)."""
    page.reload()
    wait_ready(page)
    return page.evaluate("document.documentElement.dataset.pythonSnapshot")


def restart_service_worker(page) -> None:
    """Stop the service worker (the browser starts it again on the next request): nothing it holds in memory
    (its copy of the manifest) survives, as after any idle period."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("ServiceWorker.enable")
    cdp.send("ServiceWorker.stopAllWorkers")
    cdp.detach()


def test_a_file_changed_in_the_cache_is_refused_and_downloaded_again(browser, dist):
    with saved_site(browser, dist) as (site, context, page):
        version = page.evaluate("document.documentElement.dataset.offlineVersion")
        cache = f"codeclab-{version}"
        real = (dist / "app.js").read_text()
        evil = "globalThis.tamperedShellRan = true;\n" + real
        # The forgery goes all the way: app.js replaced, and the cached manifest rewritten to name its hash.
        forged = json.loads((dist / "offline-manifest.json").read_text())
        forged["files"]["app.js"]["sha256"] = hashlib.sha256(evil.encode()).hexdigest()
        page.evaluate(REPLACE, [cache, site.url + "app.js", evil, "text/javascript"])
        page.evaluate(REPLACE, [cache, site.url + "offline-manifest.json", json.dumps(forged), "application/json"])
        restart_service_worker(page)

        page.reload()
        wait_ready(page)
        assert page.evaluate("globalThis.tamperedShellRan === undefined")
        # Both were discarded and stored again from the host, as the build wrote them.
        wait_for_js(page, f"caches.open({cache!r}).then(c => c.match({site.url + 'app.js'!r})).then(Boolean)")
        assert page.evaluate(CACHED_TEXT, [cache, site.url + "app.js"]) == real
        shown_manifest = json.loads(page.evaluate(CACHED_TEXT, [cache, site.url + "offline-manifest.json"]))
        assert shown_manifest["files"]["app.js"]["sha256"] == hashlib.sha256(real.encode()).hexdigest()

        # Offline, a changed copy is not served either: the page cannot get app.js rather than run the wrong one.
        page.evaluate(REPLACE, [cache, site.url + "app.js", evil, "text/javascript"])
        context.set_offline(True)
        status = page.evaluate("fetch('app.js').then(r => r.status, e => 'failed: ' + e.message)")
        assert str(status).startswith("failed"), status


def test_a_new_version_does_not_carry_over_a_changed_file(browser, dist, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(dist, root)
    with saved_site(browser, root) as (site, context, page):
        first = page.evaluate("document.documentElement.dataset.offlineVersion")
        real = (root / "app.js").read_text()
        page.evaluate(REPLACE, [f"codeclab-{first}", site.url + "app.js", "globalThis.tamperedShellRan = true;", "text/javascript"])

        info = json.loads((root / "build-info.json").read_text())
        info["built"] = "the second deploy"
        (root / "build-info.json").write_text(json.dumps(info, indent=1))
        second = write_offline_files(root)
        page.evaluate("window.codeclab.offline.checkForUpdate()")
        page.locator('[data-testid="update-banner"]').wait_for(state="visible", timeout=60_000)

        # app.js did not change between the versions, but the old cache's copy did: it was downloaded instead.
        assert page.evaluate(CACHED_TEXT, [f"codeclab-{second}", site.url + "app.js"]) == real
        with page.expect_navigation(timeout=60_000):
            page.click('[data-testid="update-reload"]')
        wait_ready(page)
        assert page.evaluate("window.codeclab.buildInfo.built") == "the second deploy"
        assert page.evaluate("globalThis.tamperedShellRan === undefined")


def test_a_changed_or_unsealed_python_snapshot_is_refused_and_python_starts_anew(browser, dist):
    with saved_site(browser, dist) as (site, context, page):
        assert page.evaluate("document.documentElement.dataset.pythonSnapshot") == "made"
        wait_for_js(page, f"{SNAPSHOT_KEYS}.then(k => k.length === 1)", timeout=60_000)
        key = page.evaluate(SNAPSHOT_KEYS)[0]

        # Changed bytes (one byte in the middle of the interpreter's memory), same URL, same headers.
        page.evaluate("""async (key) => {
          const cache = await caches.open('codeclab-snapshot');
          const bytes = new Uint8Array(await (await cache.match(key)).arrayBuffer());
          bytes[bytes.length >> 1] ^= 0x5a;
          await cache.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
        }""", key)
        assert reboot(page) == "made"
        refused = page.evaluate("window.codeclab.runtime.snapshotRefused")
        assert refused.startswith("refused: its bytes do not match"), refused
        assert page.evaluate("window.codeclab.python.call('attention.status', {}).then(s => s.predictor)") in ("model", "fallback")

        # The new snapshot (sealed anew) restores on the next boot.
        wait_for_js(page, f"{SNAPSHOT_KEYS}.then(k => k.length === 1)", timeout=60_000)
        page.wait_for_timeout(500)  # the seal and the bytes are written one after the other
        assert reboot(page) == "restored"
        assert page.evaluate("window.codeclab.runtime.snapshotRefused") is None

        # Bytes with no seal (put there by something other than this worker, or the seal lost) are refused too.
        page.evaluate("new Promise(r => { const d = indexedDB.deleteDatabase('codeclab-snapshot-seal');"
                      " d.onsuccess = d.onerror = d.onblocked = r; })")
        assert reboot(page) == "made"
        assert page.evaluate("window.codeclab.runtime.snapshotRefused") == "refused: it has no seal"


def test_a_tool_group_with_no_room_is_not_started_and_the_page_says_so(browser, dist):
    with saved_site(browser, dist) as (site, context, page):
        usage = page.evaluate("navigator.storage.estimate().then(e => e.usage)")
        cdp = context.new_cdp_session(page)
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": site.url.rstrip("/"), "quotaSize": usage + 100_000})
        page.click('[data-testid="tab-basis"]')  # its group is several MB
        # A tool is saved once it is used, not when its tab opens: a changed setting is a use.
        page.select_option('[data-testid="basis-mode"]', "uastc")
        status = page.locator('[data-testid="offline-status"]')
        wait_for_js(page, "document.documentElement.dataset.offline === 'no-room'", timeout=60_000)
        assert status.inner_text() == "No room to save for offline"
        assert "no room to save basis for offline use" in status.get_attribute("title")
        # The group was not stored (only what the page itself loaded for the tab may be kept, as any fetch is).
        basis = page.evaluate("window.codeclab.offline.ask({type: 'status'}).then(s => s.groups.basis)")
        assert basis["cachedFiles"] < basis["files"] // 2, basis
        assert "basis" not in page.evaluate("document.documentElement.dataset.offlineTools").split()
        assert page.evaluate("document.documentElement.dataset.storagePersisted") in ("true", "false")
