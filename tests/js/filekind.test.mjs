// One sentence per kind of bad file on every tab (web/lib/filekind.js, issue 31).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { addKinds, fileKind, refuseUnlessTaken } from "../../web/lib/filekind.js";

// The page adds the kinds every tool's manifest declares before any tool mounts (app.js); so do we.
const TOOLS = new URL("../../web/tools/", import.meta.url);
for (const id of readdirSync(TOOLS)) {
  const manifest = new URL(`${id}/tool.json`, TOOLS);
  if (existsSync(manifest)) addKinds(JSON.parse(readFileSync(manifest, "utf8")).kinds || []);
}

const bytes = (...parts) => new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));
const IMAGE = { takes: ["png", "jpeg"], what: "a PNG or JPEG image" };

test("kinds from the first bytes", () => {
  assert.equal(fileKind(bytes()).kind, "empty");
  assert.equal(fileKind(bytes("%PDF-1.7\n")).kind, "pdf");
  assert.equal(fileKind(bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 ")).kind, "webp");
  assert.equal(fileKind(bytes("RIFF", [0, 0, 0, 0], "WAVEfmt ")).kind, "wav");
  assert.equal(fileKind(bytes([0, 0, 0, 0x1c], "ftypavif", [0, 0, 0, 0])).kind, "avif");
  assert.equal(fileKind(bytes([0xab], "KTX 20", [0xbb, 0x0d, 0x0a, 0x1a, 0x0a])).kind, "ktx2");
  assert.equal(fileKind(bytes("sB", [0x13, 0, 0x4d])).kind, "basis");
  assert.equal(fileKind(bytes([0xff, 0x0a, 0xfa])).kind, "jxl");
  assert.equal(fileKind(bytes([0, 0, 0, 0x0c], "JXL ", [0x0d, 0x0a, 0x87, 0x0a])).kind, "jxl");
  assert.equal(fileKind(bytes("just some words\n")).kind, "text");
  assert.equal(fileKind(bytes([0x00, 0x01, 0x02, 0xfe])).kind, null); // unknown: left to the tool's parser
});

test("refusals are plain sentences; the first bytes go to details", () => {
  assert.throws(() => refuseUnlessTaken(bytes(), IMAGE), { message: "the file is empty", details: "0 bytes" });
  assert.throws(() => refuseUnlessTaken(bytes("%PDF-1.4"), IMAGE),
    (err) => err.message === "this is a PDF document, not a PNG or JPEG image" && err.details === "its first bytes: 25 50 44 46 2d 31 2e 34");
  assert.equal(refuseUnlessTaken(bytes([0xff, 0xd8, 0xff, 0xe0]), IMAGE), "jpeg");
  assert.equal(refuseUnlessTaken(bytes([0x00, 0x01, 0x02, 0xfe]), IMAGE), null);
});

test("a kind added twice is listed once, and a manifest's kinds are named on every tab", () => {
  addKinds([{ kind: "jxl", label: "a JPEG XL image", magic: [[0xff, 0x0a]] }]);
  assert.throws(() => refuseUnlessTaken(bytes([0xff, 0x0a, 0xfa]), IMAGE),
    (err) => err.message === "this is a JPEG XL image, not a PNG or JPEG image");
});
