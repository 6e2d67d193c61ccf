// Small DOM helpers shared by the tool panels.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    // Through the CSSOM: the CSP (style-src 'self') refuses inline style attributes.
    else if (key === "style") {
      if (typeof value !== "object") throw new TypeError("el(): pass style as an object of CSSOM properties");
      Object.assign(node.style, value);
    }
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function formatBytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  let value = n;
  while (value >= 1000 && i < units.length - 1) { value /= 1000; i++; }
  return `${value.toFixed(i === 0 ? 0 : value < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/**
 * Show an error in a panel's error area (and keep the app usable): the plain message, and the technical
 * detail (byte offset and field, or what failed) behind a closed "details" disclosure, so the sentence
 * a visitor reads never ends in a field name. Never a class name or a traceback: those go to the console.
 * `err.kept`: the name of a result that stays on screen below (a bad file does not replace a good result).
 */
export function showError(area, err) {
  const message = err?.message || String(err);
  area.hidden = false;
  area.replaceChildren(...[
    // `err.heading`: an error that is not about the file says what it is about (e.g. "Not available offline: ").
    el("strong", { text: err?.heading || (err?.expected === false ? "Something went wrong: " : "Cannot use this file: ") }),
    message,
    err?.kept ? el("span", { class: "error-kept", "data-testid": "error-kept", text: ` Still showing ${err.kept} below.` }) : null,
    errorDetails(err?.details),
    // A way forward when there is one (e.g. "Encode a 4242×2828 copy"): {label, testid, run}.
    err?.action ? el("button", { type: "button", class: "error-action", "data-testid": err.action.testid,
      text: err.action.label, onclick: () => { clearError(area); err.action.run(); } }) : null,
  ].filter(Boolean));
  if (err?.traceback) console.error(err.traceback);
  else console.error(err);
}

/** The technical tail of an error (field, byte offset, a library's reason) as a closed disclosure; null if none. */
export function errorDetails(details) {
  if (!details) return null;
  return el("details", { class: "error-more" }, el("summary", { text: "details" }),
    el("small", { class: "error-details", "data-testid": "error-details", text: details }));
}

/**
 * Resolve when Python is ready; if it is still starting, first call `onQueued()` so the visitor knows
 * their file was taken and waits ("queued, Python is starting").
 */
export async function afterPython(app, onQueued) {
  let settled = false;
  app.ready.then(() => { settled = true; }, () => { settled = true; });
  await Promise.resolve(); // an already-settled app.ready has marked itself by now
  if (!settled) onQueued();
  return app.ready;
}

export function clearError(area) { area.hidden = true; area.replaceChildren(); }

export function toast(message, kind = "info", ms = 5000) {
  const box = document.getElementById("toasts");
  const node = el("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  box.append(node);
  setTimeout(() => node.remove(), ms);
}

/** Download bytes as a file. */
export function download(bytes, name, type = "application/octet-stream") {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function setResult(node, data) {
  node.dataset.result = JSON.stringify(data);
}
