// Basis Universal textures panel.
import { el, showError, clearError, setResult } from "../lib/ui.js";
import { dropzone } from "../lib/dropzone.js";

export async function mount(panel, app) {
  const error = el("p", { class: "error", role: "alert", hidden: true, "data-testid": "basis-error" });
  const result = el("div", { "data-testid": "basis-result" });
  const zone = dropzone({
    testid: "basis-input", accept: ".ktx2,.basis,image/png,image/jpeg",
    title: "Drop a .ktx2 or .basis texture", hint: "or a PNG/JPEG to encode to KTX2 in the browser",
    onFiles: async ([file]) => {
      clearError(error);
      await app.ready;
      try {
        const data = new Uint8Array(await file.arrayBuffer());
        const info = await app.python.call("basis.inspect", { data, name: file.name }, [data.buffer]);
        setResult(result, info);
      } catch (err) { showError(error, err); }
    },
  });
  panel.append(
    el("h2", { text: "Basis Universal: textures that stay compressed on the GPU" }),
    el("p", { text: "A .basis or KTX2 file is transcoded at load time to the compressed format your GPU understands (ASTC, BC7, ETC2, S3TC…), so it stays compressed in GPU memory." }),
    zone, error, result,
  );
}
