// The last input of a tool, kept in this browser (IndexedDB) so that its result survives a reload: the input
// files' bytes, up to a size cap, and the settings they ran with. A tool that is given them back runs them
// again as if they were dropped (the same checks), so what is kept is data only: bytes and plain values,
// checked for that shape when read; a record of any other shape is deleted.
// Where nothing is kept (too big, storage refused, an input the tool does not keep) the line says, in plain
// words, that the result will not survive a reload.
import { el, formatBytes } from "./ui.js";

// Inputs larger than this are not kept (IndexedDB would take them, but a reload should not cost a photo library).
export const KEEP_LIMIT_BYTES = 20e6;
const DATABASE = "codeclab-kept";
const STORE = "last-input";
const WONT_SURVIVE = "this result will not survive a reload";

/** Open (and make, the first time) the database. Rejects when the browser refuses storage. */
function openDatabase() {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined" || !indexedDB) { reject(new Error("this browser has no IndexedDB here")); return; }
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB could not be opened"));
    request.onblocked = () => reject(new Error("IndexedDB is busy in another tab"));
  });
}

async function transact(mode, work) {
  const db = await openDatabase();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? request.error);
      tx.onabort = () => reject(tx.error ?? new Error("the browser did not keep it"));
    });
  } finally { db.close(); }
}

const isPlain = (value) => value === null || ["string", "number", "boolean"].includes(typeof value);

/** A record read back, if it has exactly the shape this module writes (else null). */
function validRecord(record) {
  if (!record || typeof record !== "object" || !Array.isArray(record.files) || !record.files.length) return null;
  const filesOk = record.files.every((f) => f && typeof f.name === "string" && typeof f.type === "string" && f.bytes instanceof ArrayBuffer);
  const settings = record.settings ?? {};
  const settingsOk = typeof settings === "object" && !Array.isArray(settings) && Object.values(settings).every(isPlain);
  if (!filesOk || !settingsOk || typeof record.savedAt !== "number") return null;
  return { files: record.files.map((f) => new File([f.bytes], f.name, { type: f.type })), settings, savedAt: record.savedAt };
}

/** Keep `files` and `settings` under `key`. Resolves {kept: true} or {kept: false, why} (why: plain words). */
export async function keep(key, files, settings = {}, { limitBytes = KEEP_LIMIT_BYTES } = {}) {
  const size = files.reduce((n, f) => n + f.size, 0);
  if (size > limitBytes) {
    await forget(key).catch(() => {});
    return { kept: false, why: `${describe(files)} is larger than the ${formatBytes(limitBytes)} this page keeps in the browser` };
  }
  try {
    const stored = await Promise.all(files.map(async (f) => ({ name: f.name, type: f.type || "", bytes: await f.arrayBuffer() })));
    await transact("readwrite", (store) => store.put({ files: stored, settings: plainSettings(settings), savedAt: Date.now() }, key));
    return { kept: true };
  } catch (err) {
    return { kept: false, why: `this browser did not let the page keep it (${err?.message || err})` };
  }
}

/** What is kept under `key`, as {files: File[], settings, savedAt}, or null (nothing, or storage refused). */
export async function recall(key) {
  try {
    const record = validRecord(await transact("readonly", (store) => store.get(key)));
    if (!record) await forget(key);
    return record;
  } catch { return null; }
}

export async function forget(key) {
  await transact("readwrite", (store) => store.delete(key));
}

function plainSettings(settings) {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => isPlain(value)));
}

/** "cat.png (1.20 MB)" or "3 files (2.40 MB)"; with `inList`, "cat.png, 1.20 MB" (inside brackets already). */
function describe(files, { inList = false } = {}) {
  const size = formatBytes(files.reduce((n, f) => n + f.size, 0));
  const what = files.length === 1 ? files[0].name : `${files.length} files`;
  return inList ? `${what}, ${size}` : `${what} (${size})`;
}

/**
 * A tool's line about its kept input. When this page is opened with an input kept under `key`, it offers
 * "Show last result again (name, size)", which calls `restore({files, settings})`, and "Forget". After each
 * result the tool calls `remember(files, settings)` (kept, or said not to survive a reload) or
 * `notKept(why)` (an input it does not keep, e.g. a microphone recording).
 */
export function keptLine({ key, testid, restore }) {
  const text = el("span", { class: "muted", "data-testid": `${testid}-text` });
  const again = el("button", { type: "button", class: "secondary", hidden: true, "data-testid": `${testid}-restore` });
  const drop = el("button", { type: "button", class: "secondary", hidden: true, "data-testid": `${testid}-forget`, text: "Forget" });
  const node = el("p", { class: "kept-line", hidden: true, "data-testid": testid }, text, " ", again, " ", drop);
  let offered = null;

  const say = (words, { offer = false, forgettable = false } = {}) => {
    node.hidden = false;
    text.textContent = words;
    again.hidden = !offer;
    drop.hidden = !forgettable;
    node.dataset.state = offer ? "offered" : forgettable ? "kept" : "not-kept";
  };

  again.addEventListener("click", () => {
    const record = offered;
    offered = null;
    node.hidden = true;
    if (record) restore(record);
  });
  drop.addEventListener("click", async () => {
    offered = null;
    await forget(key).catch(() => {});
    say("Forgotten: nothing of it is kept in this browser now.");
  });

  recall(key).then((record) => {
    if (!record || node.dataset.state) return; // nothing kept, or a newer input already spoke
    offered = record;
    const when = new Date(record.savedAt).toLocaleString();
    again.textContent = `Show last result again (${describe(record.files, { inList: true })})`;
    say(`Kept in this browser from your last visit (${when}).`, { offer: true, forgettable: true });
  });

  return {
    node,
    async remember(files, settings = {}) {
      offered = null;
      node.dataset.state = "saving";
      const outcome = await keep(key, files, settings);
      if (outcome.kept) say(`${describe(files)} is kept in this browser: after a reload this tab offers to show it again.`, { forgettable: true });
      else say(`Not kept: ${outcome.why}, so ${WONT_SURVIVE}.`);
      return outcome;
    },
    async notKept(why) {
      offered = null;
      node.dataset.state = "saving";
      await forget(key).catch(() => {});
      say(`Not kept: ${why}, so ${WONT_SURVIVE}.`);
    },
  };
}
