// What the offline indicator says, from the service worker's status (web/lib/offline.js).
import test from "node:test";
import assert from "node:assert/strict";

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { badgeText, missingBytes, notSavedError, savedTools } from "../../web/lib/offline.js";

// What each tool needs, as the build writes it into dist/tools.json: from the tools' manifests.
const TOOLS_DIR = new URL("../../web/tools/", import.meta.url);
const TOOL_GROUPS = Object.fromEntries(readdirSync(TOOLS_DIR)
  .filter((id) => existsSync(new URL(`${id}/tool.json`, TOOLS_DIR)))
  .map((id) => JSON.parse(readFileSync(new URL(`${id}/tool.json`, TOOLS_DIR), "utf8")))
  .sort((a, b) => a.order - b.order)
  .map((tool) => [tool.id, tool.needs]));

const group = (files, cachedFiles, bytes, cachedBytes) => ({ files, cachedFiles, bytes, cachedBytes });

/** A status in which only the attention tool's groups (and the shell and Python) are stored. */
function attentionOnly() {
  return { version: "v", groups: {
    shell: group(3, 3, 300, 300), python: group(2, 2, 2000, 2000), "models-runtime": group(2, 2, 500, 500),
    attention: group(1, 1, 100, 100), jxl: group(2, 1, 40, 10), lyra: group(4, 0, 4000, 0), basis: group(2, 0, 70, 0),
  } };
}

test("a tool is saved only when every one of its groups is complete", () => {
  assert.deepEqual(savedTools(attentionOnly(), TOOL_GROUPS), ["attention"]);
  const all = attentionOnly();
  for (const g of Object.values(all.groups)) Object.assign(g, { cachedFiles: g.files, cachedBytes: g.bytes });
  assert.deepEqual(savedTools(all, TOOL_GROUPS), Object.keys(TOOL_GROUPS));
  assert.deepEqual(savedTools(null, TOOL_GROUPS), []);
});

test("the bytes still missing count each group once", () => {
  const status = attentionOnly();
  assert.equal(missingBytes(status, TOOL_GROUPS.jxl), 30);
  assert.equal(missingBytes(status, ["jxl", "jxl", "lyra", "unknown"]), 4030);
  assert.equal(missingBytes(status, Object.keys(status.groups)), 30 + 4000 + 70);
});

test("the short line claims 'Available offline' only when every tool is saved", () => {
  assert.equal(badgeText(4, 4), "Available offline");
  assert.equal(badgeText(1, 4), "Offline: 1 of 4 tools");
  assert.equal(badgeText(0, 4), "Offline: no tool yet");
});

test("a tool not saved says so without blaming the file, and keeps what failed as details", () => {
  const err = notSavedError("The JPEG XL encoder", new Error("worker error"));
  assert.match(err.message, /^The JPEG XL encoder is not saved for offline use on this device: connect once and use the tool, or choose/);
  assert.equal(err.heading, "Not available offline: ");
  assert.equal(err.details, "what failed: worker error");
  assert.equal(err.expected, true); // explained already: not explained again
});
