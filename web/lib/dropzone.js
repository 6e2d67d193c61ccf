// A drop zone: drag and drop, a file picker, and paste (while its panel is visible).
import { el } from "./ui.js";

/**
 * The zone is a button (Enter, Space, a click or a tap open the file picker) described by its hint. Its file
 * input is `hidden`: it takes no Tab stop of its own, and the picker it opens is the same.
 */
export function dropzone({ testid, accept, multiple = false, title, hint, onFiles }) {
  const input = el("input", { type: "file", accept, multiple, "data-testid": testid, id: `${testid}-file`, hidden: true });
  const hintId = `${testid}-hint`;
  // A tool that takes one file says so when several arrive, rather than silently using the first.
  const note = el("span", { class: "dropzone-note", role: "status", "data-testid": `${testid}-note` });
  const zone = el("div", { class: "dropzone", role: "button", tabindex: "0", "aria-describedby": hintId },
    el("span", { class: "dropzone-title", text: title }),
    el("span", { class: "dropzone-hint", id: hintId, text: hint }),
    note, input);
  const deliver = (files) => {
    if (!files.length) return;
    note.textContent = !multiple && files.length > 1
      ? `${files.length} files dropped: only the first, ${files[0].name}, is used (this tool takes one file at a time).`
      : "";
    onFiles(multiple ? files : files.slice(0, 1));
  };
  input.addEventListener("change", () => { deliver([...input.files]); input.value = ""; });
  input.addEventListener("click", (e) => e.stopPropagation()); // the zone's own click opened it
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    deliver([...(e.dataTransfer?.files || [])]);
  });
  zone.acceptPaste = (files) => deliver(files);
  return zone;
}

/** Route pasted files to the drop zone of the visible panel. */
export function installPasteRouting() {
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    const panel = document.querySelector(".panel:not([hidden])");
    const zone = panel?.querySelector(".dropzone[data-paste]") || panel?.querySelector(".dropzone");
    if (zone?.acceptPaste) { event.preventDefault(); zone.acceptPaste(files); }
  });
}
