// Attention-first progressive JPEG XL (the full preview is built on codeclab.jxl.service).
import { el, showError, clearError, setResult, formatBytes } from "../lib/ui.js";
import { dropzone } from "../lib/dropzone.js";

export async function mountJxl(card, app) {
  const error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "jxl-error" });
  const result = el("div", { "data-testid": "jxl-result" });
  const zone = dropzone({
    testid: "jxl-input", accept: ".jxl,image/jxl,image/png,image/jpeg",
    title: "Drop a JPEG XL file (or a PNG/JPEG to encode)", hint: "See its group grid and load order, reorder it around the attention center",
    onFiles: async ([file]) => {
      clearError(error);
      await app.ready;
      try {
        const data = new Uint8Array(await file.arrayBuffer());
        const info = await app.python.call("jxl.inspect", { data }, [data.buffer]);
        result.replaceChildren(el("p", { text: `${file.name}: ${info.width}×${info.height}, ${formatBytes(info.file_size)}` }));
        setResult(result, info);
      } catch (err) { showError(error, err); }
    },
  });
  card.append(el("h3", { text: "Attention-first progressive JPEG XL" }), zone, error, result);
}
